"""Draw entries: one per consumer per month, frozen into a canonical CSV whose SHA-256 the report records."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

HEADER = ("utility", "month", "consumer_number", "submission_id")


@dataclass(frozen=True, order=True)
class Entry:
    consumer_number: str
    submission_id: str
    utility: str
    month: str


def pick_entries(eligible: Iterable[tuple[str, str, datetime]], utility: str, month: str) -> list[Entry]:
    """One entry per consumer from their eligible decisions ``(consumer, submission id, decided at)``: the
    first decided counts (a second valid photo the same month adds nothing). Sorted by consumer number."""
    first: dict[str, tuple[datetime, str]] = {}
    for consumer, submission_id, decided_at in eligible:
        if consumer not in first or (decided_at, submission_id) < first[consumer]:
            first[consumer] = (decided_at, submission_id)
    return sorted(Entry(c, sid, utility, month) for c, (_, sid) in first.items())


def canonical_csv(entries: Iterable[Entry]) -> bytes:
    """The frozen file: a header, then one line per entry sorted by consumer number; UTF-8, ``\\n`` endings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for e in sorted(entries):
        writer.writerow((e.utility, e.month, e.consumer_number, e.submission_id))
    return out.getvalue().encode()


def entries_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_entries(data: bytes) -> list[Entry]:
    """The entries of a canonical file; ``ValueError`` naming the line for anything that is not canonical
    (a file re-saved by a spreadsheet is refused rather than silently re-sorted)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not rows or tuple(rows[0]) != HEADER:
        raise ValueError(f"the header must be {','.join(HEADER)}")
    entries = []
    for line, row in enumerate(rows[1:], 2):
        if len(row) != len(HEADER):
            raise ValueError(f"line {line}: {len(row)} fields, not {len(HEADER)}")
        utility, month, consumer, submission = row
        entries.append(Entry(consumer, submission, utility, month))
    numbers = [e.consumer_number for e in entries]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise ValueError("entries must be sorted by consumer number, one per consumer")
    if canonical_csv(entries) != data:
        raise ValueError("the file is not in canonical form (quoting, line endings or a trailing line)")
    return entries
