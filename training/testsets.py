"""Frozen test sets for the digit reader: the same strips every time (fixed seeds, the held-out meters of
meter-digits), so a candidate and the served model are compared on equal terms. Evaluation runs the exported
ONNX file, exactly as served; no torch needed.

- ``meter-digits``: real drum-counter strips from the meter-digits test meters (never trained on).
- ``lcd``: synthetic LCD panels of the generator's random styles (kWh register).
- ``type:<name>``: panels of one meter type (``meterdata.synth.meter_type``), for every type ever promoted.
- ``data:<folder>``: the test split of a dataset with display quads (imported photos, reviewer corrections).
"""

from __future__ import annotations

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
        out.append(Strip(rectify(image, np.asarray(sample.quad, np.float32), INPUT_HEIGHT),
                         encode_text(sample.digits, sample.decimals)))  # fmt: skip
        if n and len(out) >= n:
            break
    return out


def frozen_sets(
    meter_types: Iterable[MeterType] = (), datasets: Iterable[Path] = ()
) -> dict[str, list[Strip]]:
    sets = {"meter-digits": meter_digit_strips(SIZE, TEST_SEED), "lcd": panel_strips(SIZE, TEST_SEED)}
    for spec in meter_types:
        sets[f"type:{spec.name}"] = panel_strips(SIZE, TEST_SEED + zlib.crc32(spec.name.encode()), spec)
    for folder in datasets:
        strips = dataset_strips(Path(folder), "test", SIZE)
        if strips:
            sets[f"data:{Path(folder).name}"] = strips
    return sets


def accuracy(onnx: Path | None, strips: list[Strip]) -> float:
    """Share of strips the ONNX reader (default: the shipped one) reads exactly, point included."""
    from vision.ocr.model import DigitReader

    reader = DigitReader(onnx) if onnx else DigitReader()
    return float(np.mean([reader.read(s.image).text == s.text for s in strips])) if strips else 0.0


def compare(
    candidate: Path, served: Path | None, sets: dict[str, list[Strip]]
) -> dict[str, tuple[float, float]]:
    """Per set: (served accuracy, candidate accuracy)."""
    return {name: (accuracy(served, strips), accuracy(candidate, strips)) for name, strips in sets.items()}
