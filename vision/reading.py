"""What a reading is: the meter the consumer record describes (``Meter``) and what the reader saw on a photo
(``MeterReading``). The reader and ``verify`` both speak these; neither owns them."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from verification import meter_spec_ok


@dataclass(frozen=True)
class Meter:
    """What the consumer record knows: digit positions on the register and how many are decimals."""

    digits: int
    decimals: int = 0

    @classmethod
    def parse(cls, text: str) -> Meter:
        """``"7.1"`` -> 7 digits, 1 decimal; the same rule as a consumer record (``meter_spec_ok``)."""
        m = re.fullmatch(r"\s*(\d{1,2})(?:\.(\d{1,2}))?\s*", text, re.ASCII)
        if not m or not meter_spec_ok(int(m.group(1)), int(m.group(2) or 0)):
            raise ValueError(
                f"not a meter spec: {text!r} (N.D: N digit positions, 3 to 12, D of them decimals, fewer than N)"
            )
        return cls(int(m.group(1)), int(m.group(2) or 0))


@dataclass
class MeterReading:
    digits: str | None = None
    decimals: int = 0
    value: str | None = None
    confidence: float = 0.0
    raw_confidence: float = 0.0  # before calibration: product of digit, mode and detection confidences
    digit_confidences: list[float] = field(default_factory=list)
    rolling: list[list[str] | None] = field(default_factory=list)
    display: dict | None = None
    mode: str | None = None
    quality: list[str] = field(default_factory=list)
    readable: bool = False
    reason: str | None = None
    messages: list[str] = field(default_factory=list)
    photo_hash: str | None = None  # 64-bit perceptual hash (hex), for spotting a photo sent again
    # The next best regions (quad in photo pixels, text as read): a reviewer's choices when this one is wrong.
    others: list[dict] = field(default_factory=list)
    ms: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def reading_value(digits: str, decimals: int) -> str:
    """``"0134149", 1`` -> ``"13414.9"``."""
    whole = (digits[: len(digits) - decimals] if decimals else digits).lstrip("0") or "0"
    return f"{whole}.{digits[len(digits) - decimals :]}" if decimals else whole
