"""Real digit crops (meter-digits, training meters only) to build drum counters from.

Rendered fonts only go so far: real drums are worn, dirty, unevenly lit and seen through scratched glass.
Counters made of real crops from one meter carry that look into the whole-photo datasets. Only the train
split is used, so the meter-digits test meters stay unseen.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from ..manifest import load_manifest

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "datasets" / "meter-digits"


class DigitBank:
    """Crops grouped by meter, then by (digit, tenths rolled)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        groups: dict[str, dict[tuple[int, int], list[str]]] = defaultdict(lambda: defaultdict(list))
        for s in load_manifest(root, check_files=False):
            if s.split != "train" or s.kind != "drum" or not s.digits:
                continue
            tenth = int(round((s.roll or [0.0])[0] * 10)) % 10
            groups[s.meter or "?"][(int(s.digits), tenth)].append(s.image)
        # Only meters with every settled digit can spell any number.
        self.meters = sorted(m for m, g in groups.items() if all(g.get((d, 0)) for d in range(10)))
        self.groups = {m: dict(groups[m]) for m in self.meters}

    def crop(self, rng: np.random.Generator, meter: str, digit: int, roll: float) -> np.ndarray:
        """A BGR crop of ``digit`` rolled ``roll`` of the way on, from ``meter`` (nearest roll it has)."""
        group = self.groups[meter]
        tenth = int(round(roll * 10)) % 10
        for t in (tenth, tenth - 1, tenth + 1, tenth - 2, tenth + 2, 0):
            names = group.get((digit, t))
            if names:
                break
        return _read(self.root / names[int(rng.integers(0, len(names)))])


@cache
def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(path)
    return image


@cache
def default_bank() -> DigitBank | None:
    """The shipped meter-digits set, or None where it is not installed (then drums use rendered fonts)."""
    return DigitBank(DEFAULT_PATH) if (DEFAULT_PATH / "manifest.jsonl").is_file() else None
