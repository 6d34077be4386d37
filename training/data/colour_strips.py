"""Colour strips 48 pixels high for fine-tuning a PP-OCR recognizer: displays cut from synthetic photos
(exact, jittered and loose quads, as a text detector or a person would box them) and counters of real
meter-digits crops (tinted like backlit LCDs, lit drums and dim rooms, often with a loose border). The labels are
the register as displayed, the decimal point before the decimals (a red drum is a decimal).

Loose crops matter: a text region, a display quad or a reviewer's box holds the register with a margin of frame,
plate or label around it, and a recognizer taught on tight strips only misreads most of those."""

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
    """Readable kWh displays of a synthetic dataset as colour strips: (image, text). Each photo gives
    ``copies`` strips: its exact quad, then a jittered one, then loose ones (taking in the frame around)."""
    out = []
    for s in load_manifest(root):
        if not (s.readable and s.digits and s.quad and (s.mode or "kwh") == "kwh"):
            continue
        image = cv2.imread(str(root / s.image), cv2.IMREAD_COLOR)
        rng = np.random.default_rng([seed, zlib.crc32(s.image.encode())])
        text = encode_text(nearest_digits(s), s.decimals)
        for k in range(copies):
            quad = np.array(s.quad, np.float32)
            if k == 1:
                quad = jitter_quad(rng, quad, amount)
            elif k > 1:
                quad = loosen_quad(rng, quad)
            out.append((rectify(image, quad, HEIGHT), text))
    return out


def loosen_quad(rng: np.random.Generator, quad: np.ndarray) -> np.ndarray:
    """A quad grown about its centre, as a loose box holds a register: wider by up to a third, up to twice as
    high, not always evenly."""
    q = np.asarray(quad, np.float32)
    centre = q.mean(0)
    along, down = (q[1] - q[0]) / 2, (q[3] - q[0]) / 2
    sx, sy = rng.uniform(0.03, 0.35), rng.uniform(0.1, 1.0)
    shift = rng.uniform(-0.5, 0.5, 2) * (sx, sy)  # the extra margin shared unevenly between the sides
    grown = [(-1 - sx, -1 - sy), (1 + sx, -1 - sy), (1 + sx, 1 + sy), (-1 - sx, 1 + sy)]
    return np.array([centre + along * (x + shift[0]) + down * (y + shift[1]) for x, y in grown], np.float32)


def loose_border(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A tight strip with a margin around it, of the frame's dark or the plate's edge carried on: a counter
    boxed loosely (up to 15% of its width each side, 40% of its height above and below)."""
    h, w = image.shape[:2]
    top, bottom = (int(rng.uniform(0, 0.4) * h) for _ in range(2))
    left, right = (int(rng.uniform(0, 0.15) * w) for _ in range(2))
    if rng.random() < 0.5:
        return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
    shade = [int(v) for v in rng.integers(0, 90, 3)] if image.ndim == 3 else int(rng.integers(0, 90))
    return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=shade)


def tint(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey counter strip as a colour photo: backlight green, amber, blue-white, or plain."""
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR).astype(np.float32)
    gains = rng.choice([(0.55, 1.0, 0.6), (0.35, 0.8, 1.0), (1.0, 0.95, 0.85), (1.0, 1.0, 1.0)])
    return np.clip(bgr * np.array(gains) * rng.uniform(0.7, 1.15), 0, 255).astype(np.uint8)


class StripDataset(Dataset):
    """Synthetic strips, then ``n_real`` real counter strips drawn afresh each epoch (half of them boxed
    loosely); augmented."""

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
            if rng.random() < 0.5:
                image = loose_border(image, rng)
        if self.augment is not None:
            image = self.augment(image=image)["image"]
        return image, text
