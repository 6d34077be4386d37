"""Re-verifying a draw from its report and entries file alone, naming the check that fails."""

from __future__ import annotations

from dataclasses import dataclass

from .entries import entries_sha256, parse_entries
from .procedure import PROCEDURE, commitment_digest, draw

FIELDS = (
    "procedure", "utility", "month", "committed_at", "window_opens", "commitment", "seed", "public_value",
    "entries_sha256", "entries_count", "winners", "reserves",
)  # fmt: skip


@dataclass(frozen=True)
class Failure:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


def verify(report: dict, entries_file: bytes, published_commitment: str | None = None) -> list[Failure]:
    """Every check that fails (empty: the draw is what the report says). ``published_commitment``: the value
    announced before the window opened, if the caller has it from elsewhere."""
    missing = [f for f in FIELDS if f not in report]
    extra = sorted(set(report) - set(FIELDS))
    if missing or extra:
        return [Failure("report_fields", f"missing {missing}, unexpected {extra}")]
    failures = []
    if report["procedure"] != PROCEDURE:
        failures.append(Failure("procedure", f"unknown procedure {str(report['procedure'])[:40]!r}"))
    seed = str(report["seed"])
    if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed):
        return failures + [Failure("seed", "the seed is not 64 lower-case hex digits")]
    if commitment_digest(report) != report["commitment"]:
        failures.append(
            Failure("commitment", "the revealed seed and draw details do not match the commitment")
        )
    if published_commitment is not None and published_commitment != report["commitment"]:
        failures.append(Failure("published_commitment", "the report's commitment is not the one published"))
    if entries_sha256(entries_file) != report["entries_sha256"]:
        failures.append(
            Failure(
                "entries_sha256",
                "the entries file is not the one drawn from (an entry added, removed or changed)",
            )
        )
    try:
        entries = parse_entries(entries_file)
    except (ValueError, UnicodeDecodeError) as e:
        return failures + [Failure("entries_file", str(e))]
    if len(entries) != report["entries_count"]:
        failures.append(
            Failure(
                "entries_count",
                f"the file has {len(entries)} entries, the report says {report['entries_count']}",
            )
        )
    if any(e.utility != report["utility"] or e.month != report["month"] for e in entries):
        failures.append(Failure("entries_month", "an entry belongs to another utility or month"))
    winners, reserves = report["winners"], report["reserves"]
    try:
        picked = draw(
            seed,
            str(report["public_value"]),
            entries_sha256(entries_file),
            len(entries),
            len(winners) + len(reserves),
        )
    except (ValueError, TypeError) as e:
        return failures + [Failure("winners", str(e))]
    expected = [
        {
            "rank": rank,
            "consumer_number": entries[i].consumer_number,
            "submission_id": entries[i].submission_id,
        }
        for rank, i in enumerate(picked, 1)
    ]
    if winners != expected[: len(winners)]:
        failures.append(Failure("winners", "the winners are not the ones the seed and entries give"))
    if reserves != [{**p, "rank": r} for r, p in enumerate(expected[len(winners) :], 1)]:
        failures.append(Failure("reserves", "the reserves are not the ones the seed and entries give"))
    return failures
