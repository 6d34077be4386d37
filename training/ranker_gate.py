"""The register ranker's promotion gate, as the reader's: frozen photo sets looked at once, each photo's regions
scored by the served weights and by the candidate's, the paired test on the photos where they differ; then the
weights are installed where every serve and worker process picks them up (``served.json``, role ``ranker``).

Sets: ``synthetic`` (generic scenes full of serials and ratings, a fixed seed never trained on) and, for every
dataset the candidate learned from, its test split (``data:<folder>``: reviewers' marks of a new meter type).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from serving.served_models import read_served, sha256_file, write_served
from training.data.regions import Photo, look_at
from training.testsets import Comparison, mcnemar_p
from vision.rank import WEIGHTS, Ranker

SIZE = 150  # synthetic photos in the frozen set
TEST_SEED = 20261206  # never used for training


def frozen_sets(data: list[Path], workers: int = 2) -> dict[str, list[Photo]]:
    from meterdata.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(SIZE, TEST_SEED, tmp, split="test", progress=False)
        sets = {"synthetic": look_at(Path(tmp), None, workers, "frozen synthetic")}
    for folder in data:
        sets[f"data:{folder.name}"] = look_at(folder, "test", workers, f"frozen {folder.name}")
    return sets


def served_weights(models_dir: Path | None) -> Path | None:
    """The ranker weights served now: the promoted ones, else the shipped file (None: the hand weights)."""
    entry = read_served(models_dir).get("ranker") if models_dir else None
    if entry:
        return Path(entry["path"])
    return WEIGHTS if WEIGHTS.is_file() else None


def compare(served: Path | None, candidate: Path, sets: dict[str, list[Photo]]) -> dict[str, Comparison]:
    """Per set: how often each puts the register on top, and the paired test of the candidate being worse."""
    old_w, new_w = Ranker(served).weights, Ranker(candidate).weights
    table = {}
    for name, photos in sets.items():
        if not photos:
            continue
        old, new = top_right(photos, old_w), top_right(photos, new_w)
        lost, gained = int((old & ~new).sum()), int((new & ~old).sum())
        table[name] = Comparison(float(old.mean()), float(new.mean()), mcnemar_p(lost, gained))
    return table


def top_right(photos: list[Photo], weights: np.ndarray) -> np.ndarray:
    """Per photo: is the top-scored region the register?"""
    return np.array([bool(p.register[int(np.argmax(p.rows @ weights))]) for p in photos])


def install(candidate: Path, models_dir: Path, version: str) -> dict:
    """Copy the weights under ``models_dir`` and point ``served.json``'s ``ranker`` at them."""
    home = models_dir / "ranker" / version
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(candidate, home / "ranker.json")
    entry = {
        "version": version,
        "path": str((home / "ranker.json").resolve()),
        "sha256": sha256_file(home / "ranker.json"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    served = read_served(models_dir)
    served["ranker"] = entry
    write_served(models_dir, served)
    return entry
