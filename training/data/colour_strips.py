"""Colour strips 48 pixels high for fine-tuning the PP-OCRv4 recognizer: displays cut from synthetic photos
(exact and jittered quads, as the text detector would box them) and counters of real meter-digits crops
(tinted like backlit LCDs, lit drums and dim rooms). The labels are the register as displayed, the decimal
point before the decimals (a red drum is a decimal)."""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from meterdata.manifest import load_manifest
from meterdata.strips import DigitCrops, nearest_digits
from training.data.ocr import jitter_quad
from vision.geometry import rectify
from vision.ocr.charset import encode_text

HEIGHT = 48


def synthetic_colour_strips(
    root: Path, copies: int, amount: float, seed: int
) -> list[tuple[np.ndarray, str]]:
    """Readable kWh displays of a synthetic dataset as colour strips: (image, text)."""
    out = []
    for s in load_manifest(root):
        if not (s.readable and s.digits and s.quad and (s.mode or "kwh") == "kwh"):
            continue
        image = cv2.imread(str(root / s.image), cv2.IMREAD_COLOR)
        rng = np.random.default_rng([seed, zlib.crc32(s.image.encode())])
        text = encode_text(nearest_digits(s), s.decimals)
        for k in range(copies):
            quad = np.array(s.quad, np.float32)
            out.append((rectify(image, jitter_quad(rng, quad, amount) if k else quad, HEIGHT), text))
    return out


def tint(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey counter strip as a colour photo: backlight green, amber, blue-white, or plain."""
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR).astype(np.float32)
    gains = rng.choice([(0.55, 1.0, 0.6), (0.35, 0.8, 1.0), (1.0, 0.95, 0.85), (1.0, 1.0, 1.0)])
    return np.clip(bgr * np.array(gains) * rng.uniform(0.7, 1.15), 0, 255).astype(np.uint8)


class StripDataset(Dataset):
    """Synthetic strips, then ``n_real`` real counter strips drawn afresh each epoch; augmented."""

    def __init__(self, strips, digits: DigitCrops | None, n_real: int, augment, seed: int = 0) -> None:
        self.strips, self.digits, self.n_real, self.augment, self.seed = strips, digits, n_real, augment, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.strips) + (self.n_real if self.digits else 0)

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        if i < len(self.strips):
            image, text = self.strips[i]
        else:
            grey, text = self.digits.strip(rng)
            image = tint(grey, rng)
        if self.augment is not None:
            image = self.augment(image=image)["image"]
        return image, text
