"""Detector input: the whole photo squeezed to a square (aspect is not kept; corners map back linearly)."""

from __future__ import annotations

import cv2
import numpy as np

from ..image import Photo, decode_photo


def to_square(image: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def to_input(square: np.ndarray) -> np.ndarray:
    """BGR uint8 square -> float32 NCHW in [-0.5, 0.5], as the detector was trained."""
    return (square.astype(np.float32).transpose(2, 0, 1)[None] / 255.0) - 0.5


def load_for_detection(data: bytes, side: int) -> tuple[np.ndarray, Photo]:
    """Decode a photo the way serving does and make the detector's square."""
    photo = decode_photo(data)
    return to_square(photo.image, side), photo
