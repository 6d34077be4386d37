"""``meterverify draw commit | close | run | verify | check-entry | export``: a utility's monthly lucky draw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

draw_app = typer.Typer(
    help="The monthly lucky draw (procedure v2): commit before the window (statement: seed hash, counts, "
    "times, a future drand round), close after it (entries hash published before the round exists), run with "
    "the round's verified signature, verify a report, check one receipt's entry.",
    no_args_is_help=True,
)

Utility = Annotated[str, typer.Option(help="The utility (discom) whose draw it is.")]
Month = Annotated[str, typer.Option(help="The month, YYYY-MM.")]


def _service():
    from serving.config import get_settings
    from serving.service import Service

    return Service.from_settings(get_settings())


def _fail(e: Exception) -> typer.Exit:
    typer.echo(f"meterverify: {e}", err=True)
    return typer.Exit(1)


@draw_app.command("commit")
def draw_commit(
    month: Month,
    winners: Annotated[int, typer.Option(help="How many winners (fixed now, published).")],
    utility: Utility = "default",
    reserves: Annotated[int, typer.Option(help="Reserves, in order, if a winner is out (fixed now).")] = 0,
    out: Annotated[Path | None, typer.Option(help="Also write the statement here (statement.json).")] = None,
) -> None:
    """Before the month's window opens: keep a secret seed and print the statement and its commitment,
    naming the drand round whose randomness will be used. Publish both now."""
    from serving import draws

    try:
        row = draws.commit(_service(), utility, month, winners, reserves)
    except draws.DrawError as e:
        raise _fail(e) from None
    text = json.dumps(row.statement, indent=2, sort_keys=True)
    if out:
        out.write_text(text + "\n")
    typer.echo(text)
    b = row.statement["beacon"]
    typer.echo(f"commitment {row.commitment}")
    typer.echo(
        f"publish both now; close between {row.statement['close_from']} and {row.statement['close_by']}; "
        f"the draw uses drand {b['name']} round {b['round']} ({b['round_time']})"
    )


@draw_app.command("close")
def draw_close(
    month: Month,
    utility: Utility = "default",
    out: Annotated[Path | None, typer.Option(help="Folder for entries-public.csv and entries.csv.")] = None,
) -> None:
    """Freeze the month's entries (one per consumer with an eligible decision) and print the public entries
    file's SHA-256: publish it now, before the drand round exists."""
    from serving import draws

    try:
        row = draws.close(_service(), utility, month)
    except draws.DrawError as e:
        raise _fail(e) from None
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "entries-public.csv").write_text(row.entries_public)
        (out / "entries.csv").write_text(row.entries_csv)
    count = row.entries_public.count("\n") - 1
    b = row.statement["beacon"]
    typer.echo(f"{count} entries frozen at {row.closed_at.isoformat()}; entries SHA-256 {row.entries_sha256}")
    typer.echo(
        f"publish it now; after {b['round_time']} fetch the round for the run: "
        f"curl https://api.drand.sh/{b['chain_hash']}/public/{b['round']} > beacon.json"
    )


@draw_app.command("run")
def draw_run(
    month: Month,
    beacon: Annotated[
        Path, typer.Option(help="The committed drand round as the chain publishes it (JSON).", exists=True)
    ],
    utility: Utility = "default",
    out: Annotated[Path, typer.Option(help="Folder for the report, the pages and the entries.")] = Path("."),
) -> None:
    """Verify the committed drand round's signature, reveal the seed and draw. Writes report.json,
    report.html (public), report-full.html (analysts: consumer numbers), entries-public.csv, entries.csv."""
    from draw.beacon import Beacon, BeaconError
    from serving import draws

    svc = _service()
    try:
        round_ = Beacon.from_dict(json.loads(beacon.read_text()))
        report = draws.run(svc, utility, month, round_)
    except (draws.DrawError, BeaconError, KeyError, json.JSONDecodeError) as e:
        raise _fail(e) from None
    row = draws.get(svc, utility, month)
    _write(out, row, svc.utility_config(utility).window.tz)
    for rank, entry in enumerate(report.standing()[0], 1):
        typer.echo(
            f"winner {rank}: entry {entry[:16]}... (consumer {draws.consumers_by_entry(row).get(entry, '?')})"
        )
    typer.echo(
        f"report in {out / 'report.json'}; anyone can check it with: meterverify draw verify "
        f"{out / 'report.json'} {out / 'entries-public.csv'} --commitment {report.commitment} "
        f"--entries-sha256 {report.entries_sha256}"
    )


def _write(out: Path, row, tz) -> None:
    import draw
    from draw.page import to_html
    from serving import draws

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(row.report, indent=2) + "\n")
    (out / "entries.csv").write_text(row.entries_csv)
    if row.statement is None:  # a v1 draw
        report = draw.Report.from_dict(row.report)
        (out / "report.html").write_text(draw.to_html(report, public=True))
        (out / "report-full.html").write_text(draw.to_html(report, public=False))
        return
    report = draw.v2.Report.from_dict(row.report)
    (out / "entries-public.csv").write_text(row.entries_public)
    (out / "report.html").write_text(to_html(report, tz))
    (out / "report-full.html").write_text(to_html(report, tz, draws.consumers_by_entry(row)))


@draw_app.command("verify")
def draw_verify(
    report: Annotated[Path, typer.Argument(help="report.json of the draw.", exists=True, dir_okay=False)],
    entries: Annotated[
        Path,
        typer.Argument(
            help="The entries file drawn from (v2: entries-public.csv).", exists=True, dir_okay=False
        ),
    ],
    commitment: Annotated[
        str | None, typer.Option(help="The commitment as it was published before the window (required).")
    ] = None,
    entries_sha256: Annotated[
        str | None, typer.Option(help="The entries hash as it was published at close (required, v2).")
    ] = None,
    chain_info: Annotated[
        Path | None,
        typer.Option(
            help="A drand chain to trust besides the League of Entropy's (its name, chain_hash, "
            "public_key, genesis_time, period, scheme as JSON).",
            exists=True,
        ),
    ] = None,
) -> None:
    """Recompute the draw from the report, the entries and the values published before it: the statement's
    commitment, the seed, the times, the drand round's signature, the counts, every winner and reserve. Exit 0
    only if all holds; each failing check is named, exit 1. Without the published values it cannot tell a
    forgery and says so (exit 1). Needs no database and no network."""
    from draw import verify
    from draw.beacon import Chain

    try:
        data = json.loads(report.read_text())
        chains = None
        if chain_info:
            chain = Chain.from_dict(json.loads(chain_info.read_text()))
            chains = {chain.chain_hash: chain}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, ValueError) as e:
        raise _fail(ValueError(f"not a JSON report or chain: {e}")) from None
    failures = verify(data, entries.read_bytes(), commitment, entries_sha256, chains)
    for failure in failures:
        typer.echo(f"FAILED {failure}", err=True)
    if failures:
        raise typer.Exit(1)
    if data.get("procedure") == "meterverify-draw-v2":
        s = data["statement"]
        typer.echo(
            f"ok: {s['utility']} {s['month']}, {data['entries_count']} entries, {len(data['winners'])} "
            f"winners, {len(data['reserves'])} reserves, drand round {s['beacon']['round']} verified"
        )
    else:
        typer.echo(f"ok (v1): {data['utility']} {data['month']}, {data['entries_count']} entries")


@draw_app.command("check-entry")
def draw_check_entry(
    receipt: Annotated[str, typer.Argument(help="The receipt id you were given for your photo.")],
    report: Annotated[Path, typer.Option(help="report.json of the draw.", exists=True, dir_okay=False)],
    entries_public: Annotated[
        Path, typer.Option(help="The public entries file (entries-public.csv).", exists=True, dir_okay=False)
    ],
) -> None:
    """Whether your receipt id is in the draw, and if it was drawn, in which place (exit 0 if in, 1 if not)."""
    import draw

    entry = draw.v2.entry_id(receipt.strip())
    try:
        entries = draw.v2.parse_public_entries(entries_public.read_bytes())
        data = draw.v2.Report.from_dict(json.loads(report.read_text()))
    except (ValueError, TypeError, json.JSONDecodeError) as e:
        raise _fail(e) from None
    if entry not in entries:
        typer.echo(f"not in the draw: no entry {entry[:16]}... among the {len(entries)} entries")
        raise typer.Exit(1)
    winners, reserves = data.standing()
    if entry in winners:
        place = f"winner {winners.index(entry) + 1}"
    elif entry in reserves:
        place = f"reserve {reserves.index(entry) + 1}"
    elif entry in {d["entry"] for d in data.disqualified}:
        place = "drawn, then disqualified"
    else:
        place = "not drawn"
    typer.echo(f"in the draw as entry {entry[:16]}... of {len(entries)}: {place}")


@draw_app.command("export")
def draw_export(
    month: Month,
    utility: Utility = "default",
    out: Annotated[Path, typer.Option(help="Folder for the files.")] = Path("."),
) -> None:
    """Write what an audit needs: report.json, entries-public.csv and entries.csv (when run), published.json
    (the commitment and entries hash as this database holds them), submissions.csv (every decided submission
    of the month, with area, day, eligibility and reasons)."""
    from serving import draws

    svc = _service()
    row = draws.get(svc, utility, month)
    out.mkdir(parents=True, exist_ok=True)
    if row is not None and row.report is not None:
        _write(out, row, svc.utility_config(utility).window.tz)
    if (
        row is not None
    ):  # what was published, as this database holds it (an audit compares it with the notice)
        published = {
            "commitment": row.commitment,
            "entries_sha256": row.entries_sha256,
            "statement": row.statement,
        }
        (out / "published.json").write_text(json.dumps(published, indent=2) + "\n")
    (out / "submissions.csv").write_text(draws.submissions_csv(svc, utility, month))
    typer.echo(f"written to {out}")
