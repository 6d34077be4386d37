"""The display detector at serving time: CornerNet-S through ONNX Runtime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import order_quad
from ..runtime import session
from .preprocess import to_input, to_square

WEIGHTS = Path(__file__).parent / "weights" / "detector.onnx"
PRESENCE_THRESHOLD = 0.5


@dataclass(frozen=True)
class DisplayQuad:
    quad: np.ndarray  # 4 x 2, pixels of the image given to ``detect``, clockwise from top-left
    score: float  # probability that a display is there
    corner_peaks: tuple[float, ...]  # how concentrated each corner's heatmap is (0-1)


class DisplayDetector:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        self.session = session(weights)
        self.side = int(self.session.get_inputs()[0].shape[2])

    def detect(self, image: np.ndarray) -> DisplayQuad | None:
        """The display in a BGR image, or None when there is none."""
        h, w = image.shape[:2]
        corners, presence, peak = self.session.run(None, {"image": to_input(to_square(image, self.side))})
        score = float(1 / (1 + np.exp(-presence[0])))
        if score < PRESENCE_THRESHOLD:
            return None
        quad = order_quad(corners[0] * (w, h))
        return DisplayQuad(quad, score, tuple(float(p) for p in peak[0]))
