"""Which candidate region is the register: a linear ranker over what each region is, learned, not hand-weighted.

Each region the locator read is described by a few plain measures (``vision.locate.features``: how many digits
against the meter's register, how sure the recognizer is, letters around the digits, how large, central and
coloured it is, whether it lies on the display our own detector found) and scored ``weights . features``; the
best score is the register. The weights are learned (``training/train_ranker.py``) on photos whose register is known: synthetic
scenes full of serials and ratings, and every register a reviewer marked. The measures say what a region is on
any meter, never which meter it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).parent / "detect" / "weights" / "ranker.json"
FEATURES = (
    "confidence",  # mean recognizer confidence of the digits
    "meter_digits",  # the meter's digit count, exactly
    "meter_short",  # up to 3 fewer (an LCD blanks leading zeros; a drum may be cut off)
    "meter_off",  # how many digits off the meter's count, otherwise
    "no_meter_4_8",  # no meter known: 4 to 8 digits, as registers have
    "no_meter_long",  # no meter known: more than 8 (serial numbers, barcodes)
    "letters",  # other characters on the line, at most 4
    "dots",  # more than one point: a date, a version
    "height",  # text height against the tallest text
    "off_centre",  # distance from the photo's centre, against its half-diagonal
    "on_display",  # on the display our own detector found
    "from_detector",  # the display quad itself, read
    "joined",  # neighbouring regions joined into one line
    "colour",  # mean saturation of the strip (drum windows, red decimal drums, lit panels)
    "contrast",  # spread of the strip's grey levels
)
# The weights the locator used before any were learned; a learned file starts from them.
HAND = {
    "confidence": 2.0,
    "meter_digits": 2.0,
    "meter_short": 1.0,
    "meter_off": -1.0,
    "no_meter_4_8": 1.0,
    "no_meter_long": -1.5,
    "letters": -0.4,
    "dots": -1.5,
    "height": 1.5,
    "off_centre": -0.6,
    "from_detector": 0.3,
}


class Ranker:
    """``weights . features``; the hand weights until a learned file is shipped or promoted."""

    def __init__(self, path: Path | None = WEIGHTS) -> None:
        weights = dict(HAND)
        self.version = "hand"
        if path is not None and path.is_file():
            learned = json.loads(path.read_text())
            weights = learned["weights"]
            self.version = learned.get("version", path.stem)
        self.weights = np.array([weights.get(name, 0.0) for name in FEATURES], np.float32)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.weights

    @staticmethod
    def save(path: Path, weights: np.ndarray, **about) -> None:
        body = {"weights": {n: round(float(w), 5) for n, w in zip(FEATURES, weights, strict=True)}, **about}
        path.write_text(json.dumps(body, indent=2) + "\n")
