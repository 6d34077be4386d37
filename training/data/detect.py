"""Detector training data: whole photos shrunk to a square, with the display quad in [0, 1] units."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from meterdata.manifest import load_manifest
from vision.detect.preprocess import load_for_detection, to_input

CACHE_SIDE = 224  # cached a little larger than the input, so crops and zooms keep detail


def _load(args: tuple[str, str]) -> np.ndarray:
    root, image = args
    data = (Path(root) / image).read_bytes()
    square, _ = load_for_detection(data, CACHE_SIDE)
    return square


def load_photos(root: Path, split: str, workers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images N x S x S x 3 uint8, quads N x 4 x 2 in [0, 1] (NaN when none), present N) of one split."""
    # A readable photo without a quad shows a meter nobody located: it would teach "no display here".
    samples = [
        s
        for s in load_manifest(root, check_files=False)
        if s.split == split and (s.quad is not None and s.width or not s.readable)
    ]
    with ProcessPoolExecutor(workers) as pool:
        jobs = [(str(root), s.image) for s in samples]
        images = list(
            tqdm(
                pool.map(_load, jobs, chunksize=32),
                total=len(jobs),
                desc=f"loading {root.name}",
                unit="photo",
            )
        )
    quads = np.full((len(samples), 4, 2), np.nan, np.float32)
    for i, s in enumerate(samples):
        if s.quad is not None and s.width:
            quads[i] = np.array(s.quad, np.float32) / (s.width, s.height)
    if not samples:
        return np.zeros((0, CACHE_SIDE, CACHE_SIDE, 3), np.uint8), quads, np.zeros(0, bool)
    return np.stack(images), quads, ~np.isnan(quads[:, 0, 0])


def load_sets(sets: list[tuple[Path, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``load_photos`` of several (dataset, split) pairs, one after the other."""
    parts = [load_photos(root, split) for root, split in sets]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))  # type: ignore[return-value]


class DetectorDataset(Dataset):
    """Random zoom, shift, rotation and colour changes; the quad moves with the image."""

    def __init__(
        self,
        images: np.ndarray,
        quads: np.ndarray,
        present: np.ndarray,
        side: int,
        augment: bool,
        seed: int = 0,
    ) -> None:
        self.images, self.quads, self.present = images, quads, present
        self.side, self.augment, self.seed = side, augment, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = self.images[i]
        quad = self.quads[i] * CACHE_SIDE
        present = bool(self.present[i])
        s = self.side
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            angle = rng.normal(0, 8) if rng.random() < 0.5 else 0.0
            scale = rng.uniform(0.75, 1.35) * s / CACHE_SIDE
            centre = (CACHE_SIDE / 2 + rng.normal(0, 12), CACHE_SIDE / 2 + rng.normal(0, 12))
            m = cv2.getRotationMatrix2D(centre, angle, scale)
            m[:, 2] += (s / 2 - centre[0], s / 2 - centre[1])
            image = cv2.warpAffine(image, m, (s, s), borderMode=cv2.BORDER_REFLECT_101)
            quad = quad @ m[:, :2].T + m[:, 2]
            if present and ((quad < 0) | (quad > s)).any():
                present = False  # the display left the frame: not a display we can read
            image = image.astype(np.float32)
            image = image * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
            image = image * rng.uniform(0.85, 1.15, 3)  # colour cast
            if rng.random() < 0.3:
                image = image + rng.normal(0, rng.uniform(2, 12), image.shape)
            image = np.clip(image, 0, 255)
        else:
            image = cv2.resize(image, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32)
            quad = quad * s / CACHE_SIDE
        x = torch.from_numpy(to_input(image.astype(np.uint8) if image.dtype != np.uint8 else image)[0])
        target = torch.from_numpy(np.nan_to_num(quad / s, nan=0.0)).float()
        return x, target, torch.tensor(float(present))
