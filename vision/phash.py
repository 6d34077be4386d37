"""Perceptual hash of a photo (64-bit DCT pHash): equal or near for the same photo resent, re-encoded or resized."""

from __future__ import annotations

import cv2
import numpy as np


def phash(image: np.ndarray) -> int:
    """64-bit hash of a BGR or grey image: signs of the lowest 8x8 DCT frequencies against their median."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
