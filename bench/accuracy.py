"""Accuracy of the meter reader on images it never saw, next to tesseract, ssocr and rapidocr.

    python bench/accuracy.py [--synth-n 400] [--strips 400] [--engines tesseract,ssocr,rapidocr]

1. Real digits: counter strips of 6 settled digits, each strip from one meter of the meter-digits *test*
   split (meters never seen in training). Every engine reads the same strips.
2. Synthetic whole photos from a seed no model was trained on: our full pipeline (decode, detect,
   rectify, read, calibrate); the other engines, which have no display detector, get the display cut out
   with the true quad (an oracle, so their figures flatter them).

Prints exact-reading accuracy, digit accuracy, display hit rate (IoU >= 0.5) and, at the auto-accept
confidence, coverage and precision.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engines.others import ENGINES  # noqa: E402
from meterdata.manifest import load_manifest  # noqa: E402
from meterdata.strips import DigitCrops, nearest_digits  # noqa: E402
from meterdata.synth import generate  # noqa: E402
from vision.geometry import quad_iou, rectify  # noqa: E402
from vision.ocr import DigitReader  # noqa: E402
from vision.reader import MeterReader  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
AUTO_ACCEPT = 0.9


def digit_accuracy(predictions: list[str], truths: list[str]) -> float:
    """Per-digit accuracy; a prediction of the wrong length gets none of its digits."""
    hits = sum(
        sum(a == b for a, b in zip(p, t, strict=True))
        for p, t in zip(predictions, truths, strict=True)
        if len(p) == len(t)
    )
    return hits / max(1, sum(len(t) for t in truths))


def exact(predictions: list[str], truths: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predictions, truths, strict=True)])) if truths else 0.0


def row(name: str, predictions: list[str], truths: list[str]) -> str:
    return f"  {name:<22} exact {exact(predictions, truths):6.1%}   digits {digit_accuracy(predictions, truths):6.1%}"


def real_strips(n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    crops = DigitCrops(REPO / "datasets" / "meter-digits", "test", 64, settled_only=True, progress=False)
    rng = np.random.default_rng(seed)
    strips = [crops.strip(rng, 6) for _ in range(n)]
    return [s for s, _ in strips], [t for _, t in strips]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strips", type=int, default=400, help="real counter strips to read")
    parser.add_argument("--synth-n", type=int, default=400, help="synthetic whole photos to read")
    parser.add_argument(
        "--seed",
        type=int,
        default=9001,
        help="seed of the held-out synthetic set (training used 100 and 200)",
    )
    parser.add_argument(
        "--engines", default="tesseract,ssocr,rapidocr", help="other engines to compare ('' for none)"
    )
    args = parser.parse_args()
    others = [e for e in args.engines.split(",") if e]

    print(f"1. Real digits: {args.strips} strips of 6 settled digits from meter-digits test meters (unseen)")
    strips, truths = real_strips(args.strips, args.seed)
    reader = DigitReader()
    ours = [reader.read(s).digits for s in tqdm(strips, desc="meterverify", leave=False)]
    print(row("meterverify", ours, truths))
    for name in others:
        got = ENGINES[name](strips)
        print(row(name, got, truths) if got is not None else f"  {name:<22} not installed")

    print(f"\n2. Synthetic whole photos: {args.synth_n} photos, seed {args.seed} (never trained on)")
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.synth_n, args.seed, tmp, split="test", progress=False)
        samples = load_manifest(tmp)
        pipeline = MeterReader()
        results = [
            pipeline.read((Path(tmp) / s.image).read_bytes())
            for s in tqdm(samples, desc="meterverify", leave=False)
        ]
        with_display = [(s, r) for s, r in zip(samples, results, strict=True) if s.quad is not None]
        hits = [
            r.display is not None and quad_iou(np.array(r.display["quad"]), np.array(s.quad)) >= 0.5
            for s, r in with_display
        ]
        target = [(s, r) for s, r in zip(samples, results, strict=True) if s.readable and s.mode == "kwh"]

        def correct(s, r) -> bool:
            return r.digits in (s.digits, nearest_digits(s)) and r.decimals == s.decimals

        preds = [r.digits or "" for _, r in target]
        truths = [
            r.digits if r.digits in (s.digits, nearest_digits(s)) else nearest_digits(s) for s, r in target
        ]
        accepted = [(s, r) for s, r in target if r.readable and r.confidence >= AUTO_ACCEPT]
        false_accepts = [
            r
            for s, r in zip(samples, results, strict=True)
            if not (s.readable and s.mode == "kwh") and r.readable and r.confidence >= AUTO_ACCEPT
        ]
        print(
            f"  display hit rate (IoU >= 0.5)  {np.mean(hits):6.1%}  of {len(with_display)} photos with a display"
        )
        print(
            f"  exact reading (digits+decimal) {np.mean([correct(s, r) for s, r in target]):6.1%}  of {len(target)} readable kWh photos"
        )
        print(f"  digit accuracy                 {digit_accuracy(preds, truths):6.1%}")
        print(
            f"  auto-accept at confidence >= {AUTO_ACCEPT}: coverage {len(accepted) / max(1, len(target)):6.1%}, precision {np.mean([correct(s, r) for s, r in accepted]) if accepted else 0:6.1%}"
        )
        print(
            f"  auto-accepted although unreadable, not a meter or not the kWh register: {len(false_accepts)} of {len(samples) - len(target)}"
        )
        if others:
            crops = [
                rectify(
                    __import__("cv2").imread(str(Path(tmp) / s.image), 0), np.array(s.quad, np.float32), 64
                )
                for s, _ in target
            ]
            ours_oracle = [reader.read(c).digits for c in crops]
            truth_oracle = [nearest_digits(s) for s, _ in target]
            print("  on the true display crop (oracle quad), digits only:")
            print(row("meterverify", ours_oracle, truth_oracle))
            for name in others:
                got = ENGINES[name](crops)
                print(row(name, got, truth_oracle) if got is not None else f"  {name:<22} not installed")


if __name__ == "__main__":
    main()
