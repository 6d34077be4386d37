"""The draw's report: everything needed to re-verify it, as JSON, and as a page to publish or to audit."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field

from .entries import Entry, canonical_csv, entries_sha256
from .procedure import Commitment, draw


@dataclass
class Report:
    procedure: str
    utility: str
    month: str
    committed_at: str
    window_opens: str
    commitment: str
    seed: str
    public_value: str
    entries_sha256: str
    entries_count: int
    winners: list[dict] = field(default_factory=list)  # {"rank", "consumer_number", "submission_id"}
    reserves: list[dict] = field(default_factory=list)

    @property
    def committed_before_window(self) -> bool:
        return self.committed_at < self.window_opens

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        return cls(**d)


def run(
    commitment: Commitment, entries: list[Entry], winners: int, reserves: int = 0, public_value: str = ""
) -> Report:
    """Reveal the seed and draw ``winners`` then ``reserves`` from the frozen ``entries``."""
    ordered = sorted(entries)
    digest = entries_sha256(canonical_csv(ordered))
    picked = draw(commitment.seed, public_value, digest, len(ordered), winners + reserves)
    people = [
        {
            "rank": rank,
            "consumer_number": ordered[i].consumer_number,
            "submission_id": ordered[i].submission_id,
        }
        for rank, i in enumerate(picked, 1)
    ]
    return Report(
        procedure=commitment.procedure,
        utility=commitment.utility,
        month=commitment.month,
        committed_at=commitment.committed_at,
        window_opens=commitment.window_opens,
        commitment=commitment.digest,
        seed=commitment.seed,
        public_value=public_value,
        entries_sha256=digest,
        entries_count=len(ordered),
        winners=people[:winners],
        reserves=[{**p, "rank": r} for r, p in enumerate(people[winners:], 1)],
    )


def mask(consumer_number: str) -> str:
    """For publication, in one shape whatever the number's length: four dots and the last four characters of
    a number of eight or more, else eight dots."""
    return "••••" + consumer_number[-4:] if len(consumer_number) >= 8 else "••••••••"


def to_html(report: Report, public: bool = True) -> str:
    """A page for people: the public one masks consumer numbers and leaves out submission ids."""
    e = html.escape

    def table(title: str, people: list[dict]) -> str:
        rows = "".join(
            f"<tr><td>{p['rank']}</td><td>{e(mask(p['consumer_number']) if public else p['consumer_number'])}</td>"
            + ("" if public else f"<td><code>{e(p['submission_id'])}</code></td>")
            + "</tr>"
            for p in people
        )
        head = "<th>rank</th><th>consumer</th>" + ("" if public else "<th>submission</th>")
        return f"<h2>{title}</h2><table><tr>{head}</tr>{rows or '<tr><td colspan=3>none</td></tr>'}</table>"

    timing = "before" if report.committed_before_window else "<strong>after</strong>"
    facts = [
        ("utility", report.utility),
        ("month", report.month),
        ("procedure", report.procedure),
        ("commitment (SHA-256, published in advance)", report.commitment),
        ("committed at", f"{e(report.committed_at)} ({timing} the window opened, {e(report.window_opens)})"),
        ("revealed seed", report.seed),
        ("public random value", report.public_value or "(none)"),
        ("entries", report.entries_count),
        ("entries file SHA-256", report.entries_sha256),
    ]
    rows = "".join(
        f"<tr><th>{e(k)}</th><td><code>{v if k == 'committed at' else e(str(v))}</code></td></tr>"
        for k, v in facts
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lucky draw {e(report.utility)} {e(report.month)}</title>
<style>body{{font:15px system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
code{{word-break:break-all}}</style></head><body>
<h1>Smartphone lucky draw: {e(report.utility)}, {e(report.month)}</h1>
<table>{rows}</table>
{table("Winners", report.winners)}{table("Reserves (in order, if a winner cannot be reached)", report.reserves)}
<p>Anyone can re-check this draw with the entries file: <code>meterverify draw verify report.json entries.csv</code>
recomputes the commitment from the revealed seed, the entries' hash, and every winner and reserve
({e(report.procedure)}, described in the project's <code>draw/procedure.py</code>).</p>
</body></html>
"""
