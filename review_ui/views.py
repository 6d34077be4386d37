"""What the item page shows, worked out from a submission: digits with confidence, typed vs read, reasons in
plain words, a consumption chart."""

from __future__ import annotations

from dataclasses import dataclass

from serving import db
from verification import Reading

LOW_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Digit:
    char: str
    confidence: float | None
    low: bool
    differs: bool  # the typed reading has another figure here


def _aligned(value: str | None, width: int, decimals: int) -> str:
    """A reading as the meter shows it: ``width`` digits, leading zeros, no point."""
    if not value:
        return ""
    try:
        r = Reading.parse(value)
    except ValueError:
        return ""
    units = r.at(decimals) if r.decimals <= decimals else r.units
    return str(units).rjust(width, "0")


def digits(reading: dict, typed: str, decimals: int) -> tuple[list[Digit], list[Digit]]:
    """The reader's digits and the typed ones, aligned; figures that differ are marked on both."""
    shown = reading.get("digits") or ""
    confidences = reading.get("digit_confidences") or []
    width = max(len(shown), len(_aligned(typed, 0, decimals)))
    read = shown.rjust(width, " ")
    typed_digits = _aligned(typed, width, decimals)
    conf = [None] * (width - len(shown)) + list(confidences) + [None] * max(0, len(shown) - len(confidences))
    read_out = [Digit(c, conf[i], conf[i] is not None and conf[i] < LOW_CONFIDENCE,
                      i < len(typed_digits) and typed_digits[i] != c) for i, c in enumerate(read)]  # fmt: skip
    typed_out = [Digit(c, None, False, i < len(read) and read[i] != c) for i, c in enumerate(typed_digits)]
    return read_out, typed_out


def consumption_svg(history: list[db.PastReading], width: int = 360, height: int = 110) -> str:
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
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 6:.1f}" height="{h:.1f}" fill="{colour}">'
                     f"<title>{on:%d %b %Y}: {used:.1f} kWh/day</title></rect>"
                     f'<text x="{x + (bw - 6) / 2:.1f}" y="{height - 3}" font-size="9" text-anchor="middle">'
                     f"{on:%b}</text>")  # fmt: skip
    label = f'<text x="2" y="10" font-size="10">max {top:.1f} kWh/day</text>'
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="daily consumption between readings">{label}{"".join(parts)}</svg>')  # fmt: skip
