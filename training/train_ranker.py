"""Train the register ranker (``vision/rank.py``): which of a photo's regions is the register.

    python -m training.train_ranker --synth-n 1500 [--data DIR ...] --out runs/ranker [--serve MODELS_DIR | --ship]

Every photo is looked at as served (text regions read by the recognizer, our display detector's quad) and each
region is measured (``vision.locate.features``). A region is the register when it lies on the labelled
register (a reviewer's mark, or the display of a synthetic photo) and holds its digit count, give or take the
decimal drum. The weights are fitted so the register scores highest among a photo's regions (softmax
cross-entropy over each photo's regions), pulled towards the hand weights (L2) so little data moves them
little. Validation: how often the top region is the register, on photos never trained on, learned against the
weights served now. ``--serve`` and ``--ship`` go through the gate (``training/ranker_gate.py``: frozen sets,
the paired test) and promote the weights only when no set is significantly worse.

``--data``: datasets with register quads, e.g. reviewers' marks from ``meterverify data from-reviews``: their
train split trains, their val split validates. Tracked in MLflow (experiment ``ranker``).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training import ranker_gate, testsets
from training.data.regions import Photo, look_at
from training.ranker_gate import top_right
from training.tracking import tracked_run
from vision.rank import FEATURES, HAND, WEIGHTS, Ranker

TRAIN_SEED = 5500  # synthetic photos for training; no benchmark uses it
VAL_SEED = 5501


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--synth-n",
        type=int,
        default=1500,
        help="synthetic training photos (and a fifth as many to validate)",
    )
    p.add_argument(
        "--data", type=Path, action="append", default=[], help="a dataset with register quads; repeatable"
    )
    p.add_argument(
        "--l2",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[0.2, 0.05, 0.01],
        help="pulls towards the hand weights to try (comma-separated); validation picks one",
    )
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--workers", type=int, default=2, help="processes looking at photos")
    p.add_argument("--out", type=Path, default=Path("runs/ranker"))
    p.add_argument(
        "--alpha", type=float, default=testsets.ALPHA, help="the gate refuses where worse with p below this"
    )
    p.add_argument(
        "--serve",
        type=Path,
        metavar="MODELS_DIR",
        help="through the gate, serve the weights from this models folder (the service's MODELS_DIR)",
    )
    p.add_argument(
        "--ship", action="store_true", help="through the gate, ship the weights in vision/detect/weights/"
    )
    return p


def fit(photos: list[Photo], start: np.ndarray, l2: float, steps: int, lr: float) -> np.ndarray:
    """Weights that put each photo's register on top: softmax cross-entropy over its regions, plus
    ``l2 * |w - start|^2``; plain gradient descent with momentum (the problem is convex and small)."""
    w, velocity = start.astype(np.float64).copy(), np.zeros_like(start, np.float64)
    for _ in range(steps):
        grad = 2 * l2 * (w - start)
        for p in photos:
            scores = p.rows @ w
            prob = np.exp(scores - scores.max())
            prob /= prob.sum()
            target = p.register / p.register.sum()
            grad += p.rows.T @ (prob - target) / len(photos)
        velocity = 0.9 * velocity - lr * grad
        w += velocity
    return w.astype(np.float32)


def main(args: argparse.Namespace) -> Path:
    from meterdata.synth import generate

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_dir, val_dir = Path(tmp) / "train", Path(tmp) / "val"
        generate(args.synth_n, TRAIN_SEED, train_dir, split="train")
        generate(max(1, args.synth_n // 5), VAL_SEED, val_dir, split="val")
        train = look_at(train_dir, None, args.workers, "training photos")
        val = look_at(val_dir, None, args.workers, "validation photos")
    for folder in args.data:
        train += look_at(folder, "train", args.workers, f"{folder.name} train")
        val += look_at(folder, "val", args.workers, f"{folder.name} val")
    start = np.array([HAND.get(name, 0.0) for name in FEATURES], np.float32)
    # The strongest pull that validates as well as any: the least the data has to move the weights.
    fits = [(l2, fit(train, start, l2, args.steps, args.lr)) for l2 in sorted(args.l2, reverse=True)]
    scores = [float(top_right(val, w).mean()) for _, w in fits]
    l2, learned = fits[int(np.argmax(scores))]
    served_path = ranker_gate.served_weights(args.serve)
    old, new = top_right(val, Ranker(served_path).weights), top_right(val, learned)
    tried = ", ".join(f"l2 {p:g}: {v:.1%}" for (p, _), v in zip(fits, scores, strict=True))
    print(
        f"register on top, {len(val)} validation examples: served {old.mean():.1%}, learned {new.mean():.1%}"
    )
    print(f"  ({tried}; kept l2 {l2:g})")
    print("weights:", ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, learned, strict=True)))
    version = f"r{datetime.now(UTC):%Y%m%d%H%M%S}"
    path = args.out / "ranker.json"
    about = {
        "train_examples": len(train),
        "val_examples": len(val),
        "l2": l2,
        "data": [str(d) for d in args.data],
    }
    Ranker.save(path, learned, version=version, **about)
    params = {k: str(v) for k, v in vars(args).items()} | about
    with tracked_run("ranker", params) as log:
        log({"val_top": float(new.mean()), "served_val_top": float(old.mean())}, 0)
        log.artifact(path)
        if args.ship or args.serve:
            table = ranker_gate.compare(served_path, path, ranker_gate.frozen_sets(args.data, args.workers))
            refused = testsets.refusals(table, args.alpha)
            print(testsets.describe(table, refused))
            for name, c in table.items():
                log({f"gate.{name}.served": c.served, f"gate.{name}.candidate": c.candidate}, 0)
            if refused:
                print(f"not promoted: worse on {', '.join(refused)}")
            elif args.serve:
                ranker_gate.install(path, args.serve, version)
                print(
                    f"ranker {version} is served now from {args.serve}; processes pick it up within seconds"
                )
            else:
                shutil.copy(path, WEIGHTS)
                print(f"shipped: {WEIGHTS}")
    return path


if __name__ == "__main__":
    main(get_args_parser().parse_args())
