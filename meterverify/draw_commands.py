"""``meterverify draw commit | close | run | verify | export``: a utility's monthly lucky draw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

draw_app = typer.Typer(
    help="The monthly lucky draw: commit a secret seed before the window, close the entries after it, run "
    "the draw (seed revealed, winners anyone can recompute), verify a report.",
    no_args_is_help=True,
)

Utility = Annotated[str, typer.Option(help="The utility (discom) whose draw it is.")]
Month = Annotated[str, typer.Option(help="The month, YYYY-MM.")]


def _service():
    from meterverify.settings import get_settings
    from serving.service import Service

    return Service.from_settings(get_settings())


def _fail(e: Exception) -> typer.Exit:
    typer.echo(f"meterverify: {e}", err=True)
    return typer.Exit(1)


@draw_app.command("commit")
def draw_commit(
    month: Month,
    utility: Utility = "default",
    allow_late: Annotated[
        bool, typer.Option(help="Commit after the window opened (the report says so to everyone).")
    ] = False,
) -> None:
    """Keep a secret seed for the month's draw and print its SHA-256 commitment: publish it now."""
    from serving import draws

    try:
        row = draws.commit(_service(), utility, month, allow_late)
    except draws.DrawError as e:
        raise _fail(e) from None
    typer.echo(f"commitment {row.commitment}")
    typer.echo(
        f"committed at {row.committed_at}; the window opens {row.window_opens}; publish the commitment"
    )


@draw_app.command("close")
def draw_close(
    month: Month,
    utility: Utility = "default",
    out: Annotated[Path | None, typer.Option(help="Also write the frozen entries file here.")] = None,
    allow_pending: Annotated[
        bool,
        typer.Option(help="Close although some submissions still await a decision (they miss the draw)."),
    ] = False,
) -> None:
    """Freeze the month's entries (one per consumer with an eligible decision) into a canonical CSV."""
    from serving import draws

    try:
        row = draws.close(_service(), utility, month, allow_pending)
    except draws.DrawError as e:
        raise _fail(e) from None
    if out:
        out.write_text(row.entries_csv)
    count = row.entries_csv.count("\n") - 1
    typer.echo(f"{count} entries frozen; SHA-256 {row.entries_sha256}")


@draw_app.command("run")
def draw_run(
    month: Month,
    winners: Annotated[int, typer.Option(help="How many winners.")],
    utility: Utility = "default",
    reserves: Annotated[int, typer.Option(help="Reserves, in order, if a winner cannot be reached.")] = 0,
    public_value: Annotated[
        str, typer.Option(help="A random value announced in advance (a lottery result, a beacon value).")
    ] = "",
    out: Annotated[Path, typer.Option(help="Folder for report.json, the pages and entries.csv.")] = Path("."),
) -> None:
    """Reveal the seed and draw. Writes report.json, report.html (public: numbers masked),
    report-full.html (for analysts) and entries.csv."""
    from serving import draws

    svc = _service()
    try:
        report = draws.run(svc, utility, month, winners, reserves, public_value)
    except draws.DrawError as e:
        raise _fail(e) from None
    _write(out, report, draws.get(svc, utility, month).entries_csv)
    for p in report.winners:
        typer.echo(f"winner {p['rank']}: {p['consumer_number']}")
    typer.echo(f"report in {out / 'report.json'}; check it with: meterverify draw verify "
               f"{out / 'report.json'} {out / 'entries.csv'}")  # fmt: skip


def _write(out: Path, report, entries_csv: str) -> None:
    from draw import to_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    (out / "report.html").write_text(to_html(report, public=True))
    (out / "report-full.html").write_text(to_html(report, public=False))
    (out / "entries.csv").write_bytes(entries_csv.encode())


@draw_app.command("verify")
def draw_verify(
    report: Annotated[Path, typer.Argument(help="report.json of the draw.", exists=True, dir_okay=False)],
    entries: Annotated[
        Path, typer.Argument(help="The entries file (entries.csv).", exists=True, dir_okay=False)
    ],
    commitment: Annotated[
        str | None, typer.Option(help="The commitment as it was published before the window.")
    ] = None,
) -> None:
    """Recompute the draw from the report and the entries alone: commitment, entries hash, every winner and
    reserve. Exit 0 if all holds; else each failing check is named, exit 1. Needs no database."""
    from draw import verify

    try:
        data = json.loads(report.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _fail(ValueError(f"{report} is not a JSON report: {e}")) from None
    failures = verify(data, entries.read_bytes(), commitment)
    for failure in failures:
        typer.echo(f"FAILED {failure}", err=True)
    if failures:
        raise typer.Exit(1)
    late = "" if data["committed_at"] < data["window_opens"] else " (committed after the window opened)"
    typer.echo(f"ok: {data['utility']} {data['month']}, {data['entries_count']} entries, "
               f"{len(data['winners'])} winners, {len(data['reserves'])} reserves{late}")  # fmt: skip


@draw_app.command("export")
def draw_export(
    month: Month,
    utility: Utility = "default",
    out: Annotated[Path, typer.Option(help="Folder for the files.")] = Path("."),
) -> None:
    """Write what an audit needs: report.json and entries.csv (when run), submissions.csv (every decided
    submission of the month, with area, day, eligibility and reasons)."""
    import draw
    from serving import draws

    svc = _service()
    row = draws.get(svc, utility, month)
    out.mkdir(parents=True, exist_ok=True)
    if row is not None and row.report is not None:
        _write(out, draw.Report.from_dict(row.report), row.entries_csv)
    (out / "submissions.csv").write_text(draws.submissions_csv(svc, utility, month))
    typer.echo(f"written to {out}")
