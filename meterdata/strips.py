"""Counter strips: real digit crops of one meter side by side, as a reader sees a drum counter."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from .manifest import Sample, load_manifest


def nearest_digits(sample: Sample) -> str:
    """Each drum digit as the figure that shows most (a drum past half-way shows the next one)."""
    assert sample.digits is not None
    roll = sample.roll or [0.0] * len(sample.digits)
    return "".join(str((int(d) + (r >= 0.5)) % 10) for d, r in zip(sample.digits, roll, strict=True))


class DigitCrops:
    """One split of a digit-crop dataset (meter-digits), grey, resized to ``height``, grouped by meter."""

    def __init__(
        self, root: Path, split: str, height: int, settled_only: bool = False, progress: bool = True
    ) -> None:
        self.height = height
        self.by_meter: dict[str, list[tuple[np.ndarray, str]]] = {}
        for s in tqdm(load_manifest(root), desc=f"digit crops ({split})", unit="crop", disable=not progress):
            if s.split != split or (settled_only and s.roll and s.roll[0] > 0):
                continue
            image = cv2.imread(str(root / s.image), cv2.IMREAD_GRAYSCALE)
            h, w = image.shape
            image = cv2.resize(image, (max(4, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
            self.by_meter.setdefault(s.meter or "?", []).append((image, nearest_digits(s)))
        self.meters = sorted(self.by_meter)

    def strip(self, rng: np.random.Generator, n: int | None = None) -> tuple[np.ndarray, str]:
        """n crops of one meter side by side (4 to 8 when not given), with a plate margin and small gaps."""
        crops = self.by_meter[self.meters[int(rng.integers(0, len(self.meters)))]]
        n = n or int(rng.integers(4, 9))
        picks = [crops[int(i)] for i in rng.integers(0, len(crops), n)]
        plate = int(np.median([c[0][:, :2].mean() for c in picks]))
        unit = max(1, self.height // 32)
        parts = [np.full((self.height, int(rng.integers(1, 12)) * unit), plate, np.uint8)]
        for image, _ in picks:
            parts.append(image)
            gap = int(rng.integers(0, 5)) * unit
            if gap:
                parts.append(np.full((self.height, gap), plate, np.uint8))
        parts.append(np.full((self.height, int(rng.integers(1, 12)) * unit), plate, np.uint8))
        return np.concatenate(parts, axis=1), "".join(t for _, t in picks)
