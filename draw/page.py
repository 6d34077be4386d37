"""The v2 draw as a page: for the public (entries by their hashed receipt ids only) or for analysts (with
consumer numbers from the private entries list). Every field escaped; times in the utility's zone, UTC beside."""

from __future__ import annotations

import html
from datetime import datetime, tzinfo

from .v2 import Report


def when(iso: str, tz: tzinfo) -> str:
    """``05 Nov 2026 00:00 IST (2026-11-04T18:30:00+00:00)``."""
    moment = datetime.fromisoformat(iso)
    return f"{moment.astimezone(tz):%d %b %Y %H:%M %Z} ({moment.isoformat()})"


def _disqualified(d: dict, tz: tzinfo) -> str:
    return html.escape(f"disqualified {when(d['at'], tz)} by {d['by']}: {d['why']}")


def to_html(report: Report, tz: tzinfo, consumers: dict[str, str] | None = None) -> str:
    """``consumers`` (entry -> consumer number): the analysts' page; without it, the public one."""
    e = html.escape
    s = report.statement
    b = s["beacon"]
    standing_winners, standing_reserves = report.standing()
    out = {d["entry"]: d for d in report.disqualified}

    def who(entry: str) -> str:
        name = f"<code title='{e(entry)}'>{e(entry[:16])}…</code>"
        return name + (f" · {e(consumers.get(entry, '?'))}" if consumers is not None else "")

    def table(title: str, people: list[dict]) -> str:
        rows = "".join(
            f"<tr><td>{int(p['rank'])}</td><td>{who(p['entry'])}</td><td>"
            + (_disqualified(out[p["entry"]], tz) if p["entry"] in out else "")
            + "</td></tr>"
            for p in people
        )
        return (
            f"<h2>{e(title)}</h2><table><tr><th>rank</th><th>entry</th><th></th></tr>"
            f"{rows or '<tr><td colspan=3>none</td></tr>'}</table>"
        )

    facts = [
        ("utility", s["utility"]),
        ("month", s["month"]),
        ("procedure", report.procedure),
        ("commitment (published before the window opened)", report.commitment),
        ("committed", when(s["committed_at"], tz)),
        ("window opened", when(s["window_opens"], tz)),
        ("entries closed", when(report.closed_at, tz)),
        ("entries", str(int(report.entries_count))),
        ("entries file SHA-256 (published at close)", report.entries_sha256),
        ("winners and reserves (fixed at commit)", f"{int(s['winners'])} and {int(s['reserves'])}"),
        (
            "randomness source",
            f"drand chain {b['name']} ({b['chain_hash']}), round {int(b['round'])} of "
            f"{when(b['round_time'], tz)}",
        ),
        ("round's randomness (signature verified)", report.randomness),
        ("revealed seed", report.seed),
    ]
    rows = "".join(f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>" for k, v in facts)
    standing = "".join(f"<li>{who(x)}</li>" for x in standing_winners)
    reopened = "".join(f"<li>{who(x)}</li>" for x in report.reopened_before_run)
    command = (
        f"meterverify draw verify report.json entries-public.csv --commitment {report.commitment} "
        f"--entries-sha256 {report.entries_sha256}"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lucky draw {e(s["utility"])} {e(s["month"])}</title>
<style>body{{font:15px system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
code{{word-break:break-all}}</style></head><body>
<h1>Smartphone lucky draw: {e(s["utility"])}, {e(s["month"])}</h1>
<table>{rows}</table>
<h2>Winners now</h2><ol>{standing or "<li>none</li>"}</ol>
{table("Drawn winners", report.winners)}{table("Reserves, in order", report.reserves)}
{"<h2>Reopened between close and draw</h2><ul>" + reopened + "</ul>" if reopened else ""}
<h2>Check it yourself</h2>
<p>Your entry is the SHA-256 of the receipt id you were given: <code>meterverify draw check-entry --report
report.json --entries-public entries-public.csv RECEIPT</code> says whether it is in and where it placed.</p>
<p>Everything was fixed before the randomness existed: the statement (seed hash, numbers of winners and
reserves, times, the drand round) before the window opened, the entries at close before the round was
emitted. Re-check the whole draw with the values published then:</p>
<pre><code>{e(command)}</code></pre>
</body></html>
"""
