"""Reader training data: display strips cut from synthetic photos, and counter strips of real digit crops."""

from __future__ import annotations

import json
import math
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from meterdata.manifest import load_manifest
from meterdata.strips import DigitCrops, nearest_digits
from vision.geometry import rectify
from vision.ocr.charset import INPUT_HEIGHT, MODES, encode_text, text_to_labels

H = INPUT_HEIGHT


def jitter_quad(rng: np.random.Generator, quad: np.ndarray, amount: float) -> np.ndarray:
    """Imitate a detector's error: move, grow or shrink the quad and nudge each corner."""
    q = np.asarray(quad, np.float32)
    w = np.linalg.norm(q[1] - q[0])
    h = np.linalg.norm(q[3] - q[0])
    centre = q.mean(0)
    q = centre + (q - centre) * rng.uniform(1 - amount, 1 + 2 * amount)
    q = q + rng.normal(0, amount, 2) * (w, h) * 0.5
    return (q + rng.normal(0, amount * 0.5, (4, 2)) * h).astype(np.float32)


def _crops_of(args: tuple[str, dict, int, float, int]) -> list[tuple[np.ndarray, str, int]]:
    root, record, copies, amount, seed = args
    from meterdata.manifest import parse_record

    sample = parse_record(record)
    image = cv2.imread(str(Path(root) / sample.image), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng([seed, zlib.crc32(sample.image.encode())])
    out = []
    text = encode_text(nearest_digits(sample), sample.decimals) if sample.digits else ""
    mode = MODES.index(sample.mode) if sample.digits and sample.mode else MODES.index("none")
    for k in range(copies):
        quad = np.array(sample.quad, np.float32)
        if k:  # the first copy uses the exact quad
            quad = jitter_quad(rng, quad, amount)
        out.append((rectify(image, quad, H), text, mode))
    return out


def synthetic_strips(
    root: Path, split: str, copies: int, amount: float = 0.04, seed: int = 0, workers: int = 2
) -> list[tuple[np.ndarray, str, int]]:
    """Rectified display strips from a synthetic dataset: readable displays, plus blank ones as "none"."""
    samples = [
        s
        for s in load_manifest(root, check_files=False)
        if s.split == split and s.quad and (s.readable or not s.digits)
    ]
    records = [json.loads(s.to_json()) for s in samples]
    jobs = [(str(root), r, copies, amount, seed) for r in records]
    out: list[tuple[np.ndarray, str, int]] = []
    with ProcessPoolExecutor(workers) as pool:
        for crops in tqdm(
            pool.map(_crops_of, jobs, chunksize=64),
            total=len(jobs),
            desc=f"cropping {root.name}",
            unit="photo",
        ):
            out.extend(crops)
    return out


def pad_batch(images: list[np.ndarray]) -> torch.Tensor:
    """Grey strips to one tensor in [-1, 1], padded on the right with each strip's last column (as easyocr)."""
    width = max(math.ceil(im.shape[1] / H) * H for im in images)
    batch = np.empty((len(images), 1, H, width), np.float32)
    for i, im in enumerate(images):
        x = im.astype(np.float32) / 127.5 - 1
        batch[i, 0, :, : x.shape[1]] = x
        batch[i, 0, :, x.shape[1] :] = x[:, -1:]
    return torch.from_numpy(batch)


class ReaderDataset(Dataset):
    """Mixes synthetic display strips with real counter strips; augments each draw."""

    def __init__(
        self,
        strips: list[tuple[np.ndarray, str, int]],
        digits: DigitCrops | None,
        real_share: float,
        augment,
        seed: int = 0,
    ) -> None:
        self.strips = strips
        self.digits = digits
        self.n_real = int(len(strips) * real_share / (1 - real_share)) if digits else 0
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.strips) + self.n_real

    def width(self, i: int) -> int:
        """Approximate strip width, for batching strips of similar width together."""
        return self.strips[i][0].shape[1] if i < len(self.strips) else 150

    def __getitem__(self, i: int) -> tuple[np.ndarray, list[int], int]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        if i < len(self.strips):
            image, text, mode = self.strips[i]
        else:
            image, text = self.digits.strip(rng)
            mode = MODES.index("kwh")
        if self.augment is not None:
            image = self.augment(image=image)["image"]
        return image, text_to_labels(text), mode


class WidthBatches(torch.utils.data.Sampler):
    """Random batches of similar-width strips (less padding, less compute), a fresh subset each epoch."""

    def __init__(self, dataset: ReaderDataset, batch_size: int, per_epoch: int, seed: int = 0) -> None:
        self.dataset, self.batch_size, self.per_epoch, self.seed = dataset, batch_size, per_epoch, seed
        self.epoch = 0

    def __len__(self) -> int:
        return min(self.per_epoch, len(self.dataset)) // self.batch_size

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        picks = rng.permutation(len(self.dataset))[: len(self) * self.batch_size]
        batches = []
        for start in range(0, len(picks), self.batch_size * 32):  # sort within pools of 32 batches
            pool = sorted(picks[start : start + self.batch_size * 32], key=self.dataset.width)
            batches += [pool[k : k + self.batch_size] for k in range(0, len(pool), self.batch_size)]
        for k in rng.permutation(len(batches)):
            yield [int(i) for i in batches[k]]


def collate(batch):
    images, labels, modes = zip(*batch, strict=True)
    targets = torch.tensor([c for lab in labels for c in lab], dtype=torch.long)
    lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.long)
    return pad_batch(list(images)), targets, lengths, torch.tensor(modes)
