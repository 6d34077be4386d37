"""What the item page shows, worked out from a submission: digits with confidence, typed vs read, reasons in
plain words, a consumption chart."""

from __future__ import annotations

from dataclasses import dataclass

from serving import tables
from verification import Reading


@dataclass(frozen=True)
class Digit:
    char: str
    confidence: float | None
    low: bool
    differs: bool  # the typed reading has another figure here


def _placed(
    digits: str, decimals: int, whole_slots: int, decimal_slots: int, zero_filled: bool
) -> list[int | None]:
    """Indexes into ``digits`` per register position: whole digits right-aligned before the point, decimals
    left-aligned after it, None where this reading has no digit (-1 before the point of a ``zero_filled``
    reading such as a typed one: the meter shows leading zeros)."""
    whole = len(digits) - decimals
    left = [None] * (whole_slots - whole) + list(range(whole))
    right = list(range(whole, len(digits)))[:decimal_slots]
    right += [None] * (decimal_slots - len(right))
    if zero_filled:
        left = [-1 if i is None else i for i in left]  # -1: a leading zero
    return left + right


def digits(
    reading: dict, typed: str, meter_digits: int, meter_decimals: int, low_below: float
) -> tuple[list[Digit], list[Digit]]:
    """The reader's digits and the typed ones on the meter's register positions, the point where the meter has
    it: a digit the reader missed leaves its position empty instead of shifting the rest. Only positions that
    differ are marked, on both rows."""
    shown = reading.get("digits") or ""
    conf = list(reading.get("digit_confidences") or [])
    shown_decimals = meter_decimals if len(shown) == meter_digits else int(reading.get("decimals") or 0)
    try:
        t = Reading.parse(typed)
        typed_digits, typed_decimals = str(t.units).rjust(t.decimals + 1, "0"), t.decimals
    except ValueError:
        typed_digits, typed_decimals = "", 0
    whole_slots = max(
        meter_digits - meter_decimals, len(shown) - shown_decimals, len(typed_digits) - typed_decimals
    )
    at_read = _placed(shown, shown_decimals, whole_slots, meter_decimals, zero_filled=False)
    at_typed = _placed(typed_digits, typed_decimals, whole_slots, meter_decimals, zero_filled=True)
    read_chars = [" " if i is None else shown[i] for i in at_read]
    typed_chars = [" " if i is None else "0" if i < 0 else typed_digits[i] for i in at_typed]
    differs = [a != b for a, b in zip(read_chars, typed_chars, strict=True)]
    read_out = []
    for pos, i in enumerate(at_read):
        c = conf[i] if i is not None and i < len(conf) else None
        read_out.append(Digit(read_chars[pos], c, c is not None and c < low_below, differs[pos]))
    typed_out = [Digit(ch, None, False, differs[pos]) for pos, ch in enumerate(typed_chars)]
    return read_out, typed_out


def verdict(reading: dict, read: list[Digit], typed: list[Digit]) -> tuple[str, str]:
    """(css class, words) of the line under the digits: what ``verify`` concluded, in words that agree with
    the rows above it."""
    p = reading.get("typed_probability")
    sure = f" ({p * 100:.1f}%)" if p is not None else ""
    match reading.get("typed_verdict"):
        case "matches":
            return "matches", "The photo supports the typed value" + sure
        case "differs":
            return "differs", "The photo does not show the typed value" + sure
    if read and not any(d.differs for d in read + typed):
        return (
            "unsure",
            "The reader's digits are the typed ones, but not surely enough to accept them alone" + sure,
        )
    return "unknown", "The photo neither confirms nor rules out the typed value" + sure


def consumption_svg(history: list[tables.PastReading], width: int = 360, height: int = 110) -> str:
    """The last 12 verified readings as bars of daily use between them (kWh/day), as inline SVG."""
    points = history[-13:]
    bars = []
    for a, b in zip(points, points[1:], strict=False):
        days = max((b.on - a.on).days, 1)
        try:
            used = Reading.parse(b.reading).minus(Reading.parse(a.reading)) / days
        except ValueError:
            continue
        bars.append((b.on, used, b.meter_replaced))
    if not bars:
        return '<p class="muted">No history to compare with.</p>'
    top = max(max(u for _, u, _ in bars), 1e-6)
    bw = width / len(bars)
    parts = []
    for i, (on, used, replaced) in enumerate(bars):
        h = max(0.0, used) / top * (height - 28)
        x, y = i * bw + 3, height - 16 - h
        colour = "#999" if replaced or used < 0 else "#2a9d8f"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 6:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{on:%d %b %Y}: {used:.1f} kWh/day</title></rect>"
            f'<text x="{x + (bw - 6) / 2:.1f}" y="{height - 3}" font-size="9" text-anchor="middle">'
            f"{on:%b}</text>"
        )
    label = f'<text x="2" y="10" font-size="10">max {top:.1f} kWh/day</text>'
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="daily consumption between readings">{label}{"".join(parts)}</svg>'
    )
