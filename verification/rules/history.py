"""The consumer's history: never backwards (but for a rollover), plausible for the days elapsed, not stuck."""

from __future__ import annotations

from datetime import date
from statistics import median

from ..config import HistoryLimits
from ..model import Consumer, Finding, PastReading, Reading


def daily_uses(history: tuple[PastReading, ...]) -> list[float]:
    """kWh per day between consecutive verified readings of the same meter."""
    uses = []
    prev = history[0] if history else None
    for cur in history[1:]:
        days = (cur.on - prev.on).days
        if not cur.meter_replaced and days > 0:
            used = cur.reading.minus(prev.reading)
            uses.append(used / days if used > 0 else 0.0)
        prev = cur
    return uses


def consumption(current: Reading, last: Reading, consumer: Consumer) -> tuple[float, bool]:
    """kWh since the last reading, and whether the counter rolled over (e.g. 99999.9 -> 00012.3)."""
    used = current.minus(last)
    if used >= 0:
        return used, False
    span = 10 ** (consumer.meter_digits - consumer.meter_decimals)  # the counter's full range, in kWh
    return used + span, True


def load_cap(consumer: Consumer, days: int, limits: HistoryLimits) -> float:
    """The most kWh the consumer's sanctioned load can draw in ``days`` (with the utility's allowance)."""
    return consumer.sanctioned_load_kw * 24 * days * limits.max_load_factor


def check(
    current: Reading,
    digits_shown: str,
    consumer: Consumer,
    history: tuple[PastReading, ...],
    today: date,
    limits: HistoryLimits,
) -> list[Finding]:
    findings = []
    n = len(digits_shown)
    if n > consumer.meter_digits or (n < consumer.meter_digits and digits_shown.startswith("0")):
        findings.append(
            Finding(
                "digit_count_mismatch",
                "review",
                f"the display shows {n} digits; this consumer's meter has {consumer.meter_digits}",
                {"shown": n, "meter": consumer.meter_digits},
            )
        )
    if not history:
        return findings
    last = history[-1]
    days = max(1, (today - last.on).days)
    used, rolled = consumption(current, last.reading, consumer)
    cap = load_cap(consumer, days, limits)
    if rolled and used > cap:  # not a plausible rollover: the reading went backwards
        findings.append(
            Finding(
                "below_last_reading",
                "review",
                f"{current} is below the last verified reading {last.reading} ({last.on})",
                {"last": str(last.reading), "last_on": last.on.isoformat()},
            )
        )
        return findings

    def evidence() -> dict:
        return {"kwh": round(used, 3), "days": days, "last": str(last.reading), "rollover": rolled}

    if used > cap:
        findings.append(
            Finding(
                "above_load_cap",
                "review",
                f"{used:.0f} kWh in {days} days is more than the sanctioned {consumer.sanctioned_load_kw:g} kW could draw ({cap:.0f} kWh)",
                {**evidence(), "cap": cap},
            )
        )
        return findings
    uses = daily_uses(history)
    if len(uses) >= limits.min_history_for_band:
        typical = median(uses)
        factor = limits.band_factor if len(uses) >= limits.long_history else limits.band_factor_short
        daily = used / days
        high = max(typical, limits.band_floor_kwh_per_day) * factor
        low = typical / factor if typical > limits.band_floor_kwh_per_day else 0.0
        if daily > high or (daily < low and used > 0):
            findings.append(
                Finding(
                    "unusual_consumption",
                    "review",
                    f"{daily:.1f} kWh/day, against this consumer's usual {typical:.1f} (accepted {low:.1f} to {high:.1f})",
                    {
                        **evidence(),
                        "median_per_day": round(typical, 3),
                        "low": round(low, 3),
                        "high": round(high, 3),
                    },
                )
            )
    if used == 0:
        zeros = 1
        for prev, cur in zip(reversed(history[:-1]), reversed(history), strict=False):
            if cur.meter_replaced or cur.reading.minus(prev.reading) != 0:
                break
            zeros += 1
        if zeros >= limits.zero_cycles:
            findings.append(
                Finding(
                    "zero_consumption_repeated",
                    "review",
                    f"no consumption for {zeros} cycles in a row (stuck meter or locked house?)",
                    {"cycles": zeros},
                )
            )
    return findings
