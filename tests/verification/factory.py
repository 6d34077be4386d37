"""Submissions for tests: a consumer with a steady monthly history, and a clean photo read."""

from __future__ import annotations

from datetime import UTC, date, datetime

from verification import Consumer, PastReading, PhotoFacts, ReaderResult, Reading, Submission

CONSUMER = Consumer("110022334455", meter_digits=6, meter_decimals=1, sanctioned_load_kw=3.0)
# 2026-11-03 10:00 IST: inside the self-reading days.
IN_WINDOW = datetime(2026, 11, 3, 4, 30, tzinfo=UTC)


def steady_history(
    last: str = "1500.0", per_month: float = 150.0, months: int = 8
) -> tuple[PastReading, ...]:
    end = Reading.parse(last)
    out = []
    for k in range(months):
        back = months - 1 - k
        month = 10 - back
        year = 2026 if month > 0 else 2025
        month = month if month > 0 else month + 12
        units = end.units - round(back * per_month * 10**end.decimals)
        out.append(PastReading(date(year, month, 2), Reading(units, end.decimals)))
    return tuple(out)


def read(digits: str, decimals: int = 1, confidence: float = 0.98, **kw) -> ReaderResult:
    return ReaderResult(
        digits, decimals, confidence, kw.pop("digit_confidences", (0.99,) * len(digits)), **kw
    )


def submission(
    typed: str = "1650.2", shown: str = "016502", history=None, when: datetime = IN_WINDOW, **kw
) -> Submission:
    return Submission(
        consumer=kw.pop("consumer", CONSUMER),
        typed=Reading.parse(typed),
        read=kw.pop("read", None) or read(shown),
        photo=kw.pop("photo", None) or PhotoFacts(when),
        history=steady_history() if history is None else history,
        **kw,
    )
