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

from meterdata.manifest import Sample, load_manifest
from vision.geometry import rectify
from vision.ocr.charset import INPUT_HEIGHT, MODES, encode_text, text_to_labels

H = INPUT_HEIGHT


def nearest_digits(sample: Sample) -> str:
    """Label each drum digit with the figure that shows most (a drum past half-way shows the next one)."""
    assert sample.digits is not None
    roll = sample.roll or [0.0] * len(sample.digits)
    return "".join(str((int(d) + (r >= 0.5)) % 10) for d, r in zip(sample.digits, roll, strict=True))


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


class DigitCrops:
    """Real digit crops of one split of meter-digits, grey, resized to the strip height, grouped by meter."""

    def __init__(self, root: Path, split: str, settled_only: bool = False) -> None:
        self.by_meter: dict[str, list[tuple[np.ndarray, str]]] = {}
        for s in tqdm(load_manifest(root), desc=f"meter-digits {split}", unit="crop"):
            if s.split != split or (settled_only and s.roll and s.roll[0] > 0):
                continue
            image = cv2.imread(str(root / s.image), cv2.IMREAD_GRAYSCALE)
            h, w = image.shape
            image = cv2.resize(image, (max(4, round(w * H / h)), H), interpolation=cv2.INTER_AREA)
            self.by_meter.setdefault(s.meter or "?", []).append((image, nearest_digits(s)))
        self.meters = sorted(self.by_meter)

    def strip(self, rng: np.random.Generator, n: int | None = None) -> tuple[np.ndarray, str]:
        """A counter strip: n crops of one meter side by side, with a plate margin and small gaps."""
        crops = self.by_meter[self.meters[int(rng.integers(0, len(self.meters)))]]
        n = n or int(rng.integers(4, 9))
        picks = [crops[int(i)] for i in rng.integers(0, len(crops), n)]
        plate = int(np.median([c[0][:, :2].mean() for c in picks]))
        parts = []
        margin = int(rng.integers(1, 12))
        parts.append(np.full((H, margin), plate, np.uint8))
        for image, _ in picks:
            parts.append(image)
            gap = int(rng.integers(0, 5))
            if gap:
                parts.append(np.full((H, gap), plate, np.uint8))
        parts.append(np.full((H, int(rng.integers(1, 12))), plate, np.uint8))
        return np.concatenate(parts, axis=1), "".join(t for _, t in picks)


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


def collate(batch):
    images, labels, modes = zip(*batch, strict=True)
    targets = torch.tensor([c for lab in labels for c in lab], dtype=torch.long)
    lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.long)
    return pad_batch(list(images)), targets, lengths, torch.tensor(modes)
