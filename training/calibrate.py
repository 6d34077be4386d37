"""Fit the reading-confidence calibration: raw score -> probability that the whole reading is right.

    python -m training.calibrate --synth DIR [--out vision/ocr/weights/calibration.json]

Runs the shipped models (``vision.read``) on held-out synthetic whole photos, bins the raw scores, and maps
each bin to the lower end of a 95% Wilson interval on its accuracy, made monotone. Being conservative is the point: a confidence of 0.9
must mean at least nine in ten right, also on photos unlike the ones it was fitted on.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from meterdata.manifest import load_manifest
from vision.reader import CALIBRATION, MeterReader

REPO = Path(__file__).resolve().parents[1]


def wilson_lower(hits: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def fit(raw: np.ndarray, right: np.ndarray, bins: int = 12) -> tuple[list[float], list[float]]:
    """Quantile bins of the raw score -> monotone Wilson lower bounds of accuracy."""
    edges = np.unique(np.quantile(raw, np.linspace(0, 1, bins + 1)))
    xs, ys = [0.0], [0.0]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (raw >= lo) & (raw <= hi)
        if inside.sum() == 0:
            continue
        xs.append(float(raw[inside].mean()))
        ys.append(wilson_lower(int(right[inside].sum()), int(inside.sum())))
    ys = list(np.maximum.accumulate(ys))  # a higher raw score never means a lower confidence
    xs.append(1.0)
    ys.append(ys[-1])
    return xs, ys


def collect(reader: MeterReader, synth: Path) -> tuple[np.ndarray, np.ndarray]:
    raw, right = [], []
    samples = [s for s in load_manifest(synth) if s.readable and s.mode == "kwh"]
    for s in tqdm(samples, desc="reading", unit="photo"):
        result = reader.read((synth / s.image).read_bytes())
        truth_digits = "".join(
            str((int(d) + (r >= 0.5)) % 10)
            for d, r in zip(s.digits, s.roll or [0] * len(s.digits), strict=True)
        )
        lower = s.digits
        ok = result.digits in (truth_digits, lower) and result.decimals == s.decimals
        raw.append(result.raw_confidence)
        right.append(ok)
    return np.array(raw), np.array(right)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--synth", type=Path, required=True, help="held-out synthetic photos (not used in training)"
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    args = parser.parse_args()
    reader = MeterReader()
    reader.calibrate.x, reader.calibrate.y = np.array([0.0, 1.0]), np.array([0.0, 1.0])  # fit on raw scores
    raw, right = collect(reader, args.synth)
    xs, ys = fit(raw, right)
    args.out.write_text(
        json.dumps(
            {
                "raw": xs,
                "calibrated": ys,
                "fitted_on": str(args.synth),
                "n": int(len(raw)),
                "accuracy": float(right.mean()),
            },
            indent=1,
        )
    )
    print(
        f"fitted on {len(raw)} photos (accuracy {right.mean():.3f}): "
        + ", ".join(f"{x:.3f}->{y:.3f}" for x, y in zip(xs, ys, strict=True))
    )


if __name__ == "__main__":
    main()
