"""What the verification engine reasons about: a reading, what was typed, the consumer, the photo, history.

Plain data, no I/O. Readings are exact: a value is an integer count of the meter's smallest step
(``Reading(134416, 1)`` is 13441.6 kWh), so comparisons never suffer from floating point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

# ASCII digits only: other scripts are normalised (or refused) on purpose by ``verification.scripts``.
_TYPED = re.compile(r"^\s*([0-9]{1,12})(?:[.,]([0-9]{1,4}))?\s*$", re.ASCII)


@dataclass(frozen=True, slots=True)
class Reading:
    """A meter reading as an exact decimal: ``units / 10**decimals`` kWh."""

    units: int
    decimals: int = 0

    @classmethod
    def parse(cls, text: str) -> Reading:
        """``"13441.6"`` -> ``Reading(134416, 1)``; raises ``ValueError`` for anything else."""
        m = _TYPED.match(text)
        if not m:
            raise ValueError(
                f"not a meter reading: {text!r} (digits, optionally a decimal point and up to 4 decimals)"
            )
        whole, frac = m.group(1), m.group(2) or ""
        return cls(int(whole + frac), len(frac))

    @classmethod
    def from_digits(cls, digits: str, decimals: int) -> Reading:
        return cls(int(digits or "0"), decimals)

    def at(self, decimals: int) -> int:
        """Units at another precision (more decimals only: never rounds)."""
        if decimals < self.decimals:
            raise ValueError("cannot drop decimals without rounding")
        return self.units * 10 ** (decimals - self.decimals)

    def minus(self, other: Reading) -> float:
        """``self - other`` in kWh."""
        if self.decimals == other.decimals:  # the common case: the same meter
            return (self.units - other.units) / 10**self.decimals
        d = max(self.decimals, other.decimals)
        return (self.at(d) - other.at(d)) / 10**d

    def __str__(self) -> str:
        if not self.decimals:
            return str(self.units)
        s = str(self.units).rjust(self.decimals + 1, "0")
        return f"{s[: -self.decimals]}.{s[-self.decimals :]}"


@dataclass(frozen=True, slots=True)
class ReaderResult:
    """What ``vision.read`` saw, reduced to what the rules need."""

    digits: str | None
    decimals: int
    confidence: float
    digit_confidences: tuple[float, ...] = ()
    rolling: tuple[tuple[str, str] | None, ...] = ()  # per digit: (lower, upper) while a drum turns
    readable: bool = True
    reason: str | None = None  # why not readable (from the reader)
    quality: tuple[str, ...] = ()  # quality flags: blurred, glare, too_dark, low_contrast
    # Whether the photo shows what was typed (``vision.verify``): matches, differs, unsure; None if not asked.
    typed_verdict: str | None = None
    typed_probability: float | None = None

    @classmethod
    def from_reading(cls, reading) -> ReaderResult:
        """From a ``vision.MeterReading`` (or its dict)."""
        r = reading if isinstance(reading, dict) else reading.to_dict()
        return cls(
            digits=r.get("digits"),
            decimals=r.get("decimals", 0),
            confidence=float(r.get("confidence", 0.0)),
            digit_confidences=tuple(r.get("digit_confidences") or ()),
            rolling=tuple(tuple(x) if x else None for x in r.get("rolling") or ()),
            readable=bool(r.get("readable")),
            reason=r.get("reason"),
            quality=tuple(q for q in r.get("quality") or () if q in QUALITY_FLAGS),
            typed_verdict=r.get("typed_verdict"),
            typed_probability=r.get("typed_probability"),
        )


QUALITY_FLAGS = frozenset({"blurred", "glare", "too_dark", "low_contrast"})


MIN_METER_DIGITS, MAX_METER_DIGITS = 3, 12


def meter_spec_ok(digits: int, decimals: int) -> bool:
    """A register the service knows: 3 to 12 digit positions, fewer decimals than positions."""
    return MIN_METER_DIGITS <= digits <= MAX_METER_DIGITS and 0 <= decimals < digits


@dataclass(frozen=True, slots=True)
class Consumer:
    number: str
    meter_digits: int  # how many digits the meter shows, decimals included
    meter_decimals: int
    sanctioned_load_kw: float
    utility: str = "default"


@dataclass(frozen=True, slots=True)
class PastReading:
    on: date
    reading: Reading
    meter_replaced: bool = False  # a new meter was fitted on this date; this is its first reading


@dataclass(frozen=True, slots=True)
class EarlierPhoto:
    """The earlier submission whose photo looks most like this one (perceptual hash), and what it showed."""

    submission_id: str
    distance: int  # Hamming distance of the 64-bit perceptual hashes
    consumer_number: str
    same_consumer: bool
    same_file: bool  # byte for byte the same photo
    sent_on: date  # in the utility's time zone
    reading: str | None = None  # what it showed: the verified reading, else the reader's


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    submitted_at: datetime  # timezone-aware
    exif_taken_at: datetime | None = None  # timezone-aware when known
    nearest_earlier_photo: EarlierPhoto | None = None  # within the utility


@dataclass(frozen=True, slots=True)
class Submission:
    consumer: Consumer
    typed: Reading
    read: ReaderResult
    photo: PhotoFacts
    history: tuple[PastReading, ...] = ()  # verified readings, oldest first
    lucky_draw_entries_this_month: int = 0  # this consumer's eligible submissions already this month
    draw_closed: bool = False  # the month's lucky draw has frozen its entries


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict: a stable code, a message a reviewer understands, and the evidence."""

    code: str
    outcome: str  # "review" or "reject"
    message: str
    evidence: dict = field(default_factory=dict)
