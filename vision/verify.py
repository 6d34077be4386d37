"""``verify(image_bytes, typed, meter=None)``: does the photo show what the consumer typed?

Reading blind and comparing throws information away: a recognizer unsure between 3 and 8 may still say
clearly that the display shows 13414.9 and not 13419.9. So the typed value is scored on the region that holds
the register, by its CTC likelihood, against every string a typing mistake would have produced instead (one
digit changed, two neighbours swapped, one left out or added) and the reading the recognizer prefers. The
posterior of the typed string in that set is ``typed_probability``; it is high only when no rival explains
the display nearly as well, so a typing mistake is not confirmed. When the meter's digit count is known, only
a region that holds exactly that many positions can confirm: a region missing one shows some typing mistakes
exactly. Where the decimals go comes from the meter
(``Meter``), or from a decimal point on the display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verification import Reading

from .ocr.ctc import ctc_log_likelihoods
from .ocr.joint import digit_log_probs, neighbours
from .reading import Meter, MeterReading

MATCHES, DIFFERS, UNSURE = "matches", "differs", "unsure"
# Posterior thresholds for the verdicts (see bench/accuracy.py for what they give).
MATCH_AT = 0.9
DIFFER_BELOW = 0.1


@dataclass
class Verification:
    reading: MeterReading
    typed: str
    typed_probability: float
    typed_verdict: str  # matches, differs, unsure
    typed_reason: str  # why, in words

    def to_dict(self) -> dict:
        return {
            **self.reading.to_dict(),
            "typed": self.typed,
            "typed_probability": self.typed_probability,
            "typed_verdict": self.typed_verdict,
            "typed_reason": self.typed_reason,
        }


def parse_typed(typed: str) -> tuple[str, int]:
    """``"13414.9"`` -> (``"134149"``, 1), by the one grammar of a typed reading (``verification.Reading``);
    ``ValueError`` for anything that is not a reading."""
    reading = Reading.parse(typed)
    return str(reading.units), reading.decimals


def typed_strings(units: str, shown: int, meter: Meter | None) -> set[str]:
    """The digit strings the display may show for the typed value: leading zeros shown or blanked."""
    longest = max(len(units), meter.digits if meter else shown)
    return {units.rjust(n, "0") for n in range(len(units), longest + 1)}


def typed_posterior(probs: np.ndarray, strings: set[str], blind: str) -> float:
    """P(typed | display) among the typed strings, their one-mistake rivals and the blind reading.

    ``probs``: the recognizer's folded per-frame probabilities over the register (``TextLine.probs``).
    """
    # The decimal point is judged apart (from the meter or the display), so here it is no character;
    # "other" is dropped: it costs every string the same.
    log_probs = digit_log_probs(probs)
    others = sorted(neighbours(strings) | ({blind} - strings if blind else set()))
    mine = sorted(strings)
    labels = [[int(c) + 1 for c in s] for s in mine + others]
    ll = ctc_log_likelihoods(log_probs, labels)
    typed_ll = np.logaddexp.reduce(ll[: len(mine)])
    rival_ll = np.logaddexp.reduce(ll[len(mine) :])
    return float(1 / (1 + np.exp(np.clip(rival_ll - typed_ll, -50, 50))))


def combine(posteriors: list[float], doubts: list[float]) -> float:
    """The strongest evidence among the looks at the register, each discounted by how much its reader is
    doubted: a doubt of 5 turns a posterior of 0.98 into 0.9 (the doubt multiplies the chance it is wrong)."""
    return max(max(0.0, 1.0 - (1.0 - p) * d) for p, d in zip(posteriors, doubts, strict=True))


def judge(
    reading: MeterReading, typed: str, meter: Meter | None, views: list[tuple[np.ndarray, float]]
) -> Verification:
    """The verdict on a typed value, given the blind reading of the register and looks at it: ``views``,
    (folded per-frame probabilities, doubt) pairs from the recognizers (see ``combine``)."""
    units, decimals = parse_typed(typed)

    def verdict(p: float, v: str, why: str) -> Verification:
        return Verification(reading, typed, round(p, 4), v, why)

    shown = reading.digits or ""
    if not shown or not views:
        return verdict(0.0, UNSURE, f"no reading found on the photo ({reading.reason})")
    # Where the decimals start: the consumer record says; else a point (or red drums) on the display.
    expected = meter.decimals if meter else (reading.decimals or None)
    if expected is not None and decimals != expected:
        return verdict(0.0, DIFFERS, f"typed with {decimals} decimal(s); the meter shows {expected}")
    rolling = [(i, r) for i, r in enumerate(reading.rolling) if r]
    strings = typed_strings(units, len(shown), meter)
    for s in list(strings):  # a turning drum shows both figures: either typed one is the display's
        offset = len(shown) - len(s)
        for i, (lower, upper) in rolling:
            j = i - offset
            if 0 <= j < len(s) and s[j] in (lower, upper):
                strings.add(s[:j] + (upper if s[j] == lower else lower) + s[j + 1 :])
    p = combine([typed_posterior(probs, strings, shown) for probs, _ in views], [d for _, d in views])
    if reading.mode not in (None, "kwh"):
        return verdict(p, UNSURE, f"the display shows {reading.mode}, not the current kWh reading")
    if expected is None and decimals:
        return verdict(p, UNSURE if p >= DIFFER_BELOW else DIFFERS, "the display shows no decimal point")
    if p >= MATCH_AT and meter is not None and len(shown) != meter.digits:
        # A region that holds more or fewer positions than the register (a red drum left out, the frame's
        # edge read as a digit) can show a typing mistake shifted into place: never a confirmation.
        return verdict(
            p, UNSURE, f"the region read holds {len(shown)} of the register's {meter.digits} digit positions"
        )
    if p >= MATCH_AT:
        return verdict(p, MATCHES, "the display shows the typed reading")
    if p < DIFFER_BELOW:
        return verdict(p, DIFFERS, f"the display shows {reading.value}, not the typed reading")
    return verdict(p, UNSURE, "the display does not clearly show the typed reading")
