"""Frozen test sets for the digit reader: the same strips every time (fixed seeds, the held-out meters of
meter-digits), so a candidate and the served model are compared on equal terms. Evaluation runs the exported
ONNX file, exactly as served; no torch needed.

- ``meter-digits``: real drum-counter strips from the meter-digits test meters (never trained on).
- ``lcd``: synthetic LCD panels of the generator's random styles (kWh register).
- ``type:<name>``: panels of one meter type (``meterdata.synth.meter_type``), for every type ever promoted.
- ``data:<folder>``: the test split of a dataset with display quads (imported photos, reviewer corrections).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from meterdata.manifest import load_manifest
from meterdata.synth.lcd import render_panel
from meterdata.synth.meter_type import MeterType
from vision.geometry import rectify
from vision.ocr.charset import INPUT_HEIGHT, encode_text

REPO = Path(__file__).resolve().parents[1]
METER_DIGITS = REPO / "datasets" / "meter-digits"
SIZE = 600  # strips per set: a 1-point difference is 6 strips
TEST_SEED = 20261126  # never used for training data
VAL_SEED = 20261127  # validation sets: for choosing the epoch, never the test


@dataclass(frozen=True)
class Strip:
    image: np.ndarray  # grey, INPUT_HEIGHT tall
    text: str  # what the reader must say: digits, '.' before the decimals


def _grey(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape
    return cv2.resize(grey, (max(1, round(w * INPUT_HEIGHT / h)), INPUT_HEIGHT), interpolation=cv2.INTER_AREA)


def panel_strips(n: int, seed: int, meter_type: MeterType | None = None, offset: int = 0) -> list[Strip]:
    """``n`` lit kWh panels (random styles, or of ``meter_type``) as reader strips."""
    out, i = [], offset
    while len(out) < n:
        rng = np.random.default_rng([seed, i])
        i += 1
        panel = render_panel(rng, int(rng.integers(48, 96)), True, meter_type)
        if panel.mode != "kwh" or not panel.digits:
            continue
        out.append(Strip(_grey(panel.image), encode_text(panel.digits, panel.decimals)))
    return out


def meter_digit_strips(n: int, seed: int, split: str = "test") -> list[Strip]:
    from meterdata.strips import DigitCrops

    crops = DigitCrops(METER_DIGITS, split, INPUT_HEIGHT, settled_only=True, progress=False)
    rng = np.random.default_rng(seed)
    return [Strip(*crops.strip(rng)) for _ in range(n)]


def dataset_strips(folder: Path, split: str, n: int | None = None) -> list[Strip]:
    """Display strips of a dataset's readable photos, cut along their quads."""
    out = []
    for sample in load_manifest(folder):
        if sample.split != split or not sample.readable or not sample.digits or sample.quad is None:
            continue
        image = cv2.imread(str(folder / sample.image), cv2.IMREAD_GRAYSCALE)
        out.append(
            Strip(
                rectify(image, np.asarray(sample.quad, np.float32), INPUT_HEIGHT),
                encode_text(sample.digits, sample.decimals),
            )
        )
        if n and len(out) >= n:
            break
    return out


def frozen_sets(
    meter_types: Iterable[MeterType] = (), datasets: Iterable[Path] = (), split: str = "test"
) -> dict[str, list[Strip]]:
    """The frozen test sets (``split="val"``: validation sets of the same kinds, for choosing an epoch)."""
    seed = TEST_SEED if split == "test" else VAL_SEED
    sets = {"meter-digits": meter_digit_strips(SIZE, seed, split), "lcd": panel_strips(SIZE, seed)}
    for spec in meter_types:
        sets[f"type:{spec.name}"] = panel_strips(SIZE, seed + zlib.crc32(spec.name.encode()), spec)
    for folder in datasets:
        strips = dataset_strips(Path(folder), split, SIZE)
        if strips:
            sets[f"data:{Path(folder).name}"] = strips
    return sets


def hits(onnx: Path | None, strips: list[Strip]) -> list[bool]:
    """Per strip, whether the ONNX reader (default: the shipped one) reads it exactly, point included."""
    from vision.ocr.model import DigitReader

    reader = DigitReader(onnx) if onnx else DigitReader()
    return [reader.read(s.image).text == s.text for s in strips]


def accuracy(onnx: Path | None, strips: list[Strip]) -> float:
    return float(np.mean(hits(onnx, strips))) if strips else 0.0


@dataclass(frozen=True)
class Comparison:
    served: float
    candidate: float
    p_worse: float  # one-sided exact McNemar: how likely so many more losses than gains by chance

    def worse(self, alpha: float) -> bool:
        return self.candidate < self.served and self.p_worse < alpha


# A candidate is refused on a set where it is worse and a paired test (McNemar, on the items one gets right and
# the other not) says that is not chance: p below ALPHA. 600 strips cannot tell a point apart; this can.
ALPHA = 0.05


def refusals(table: dict[str, Comparison], alpha: float = ALPHA) -> list[str]:
    """The sets on which the candidate is worse, and not by chance."""
    return [name for name, c in table.items() if c.worse(alpha)]


def describe(table: dict[str, Comparison], refused: list[str] = ()) -> str:
    """The gate's table for people: per set, served and candidate, the p-value, WORSE where refused."""
    rows = [f"{'frozen test set':<28} {'served':>8} {'candidate':>10} {'p(worse by chance)':>20}"]
    rows += [
        f"{n:<28} {c.served:>8.1%} {c.candidate:>10.1%} {c.p_worse:>20.3f}{'  WORSE' if n in refused else ''}"
        for n, c in table.items()
    ]
    return "\n".join(rows)


def mcnemar_p(lost: int, gained: int) -> float:
    """P(at least ``lost`` of the ``lost + gained`` strips that changed went against the candidate | no real
    difference): the binomial tail at 1/2."""
    n = lost + gained
    return sum(math.comb(n, k) for k in range(lost, n + 1)) / 2**n if n else 1.0


def compare(candidate: Path, served: Path | None, sets: dict[str, list[Strip]]) -> dict[str, Comparison]:
    """Per set: both accuracies and the paired test of the candidate being worse."""
    out = {}
    for name, strips in sets.items():
        old, new = hits(served, strips), hits(candidate, strips)
        lost = sum(o and not n for o, n in zip(old, new, strict=True))
        gained = sum(n and not o for o, n in zip(old, new, strict=True))
        out[name] = Comparison(float(np.mean(old)), float(np.mean(new)), mcnemar_p(lost, gained))
    return out
