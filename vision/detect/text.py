"""Text regions from the pretrained PP-OCRv4 text detector (DBNet), with its post-processing beside it.

A detector trained on millions of real photos finds printed and displayed text under real lighting, glass and
angles; we use it to propose where a meter's reading may be. The ONNX file is the one shipped in the
``rapidocr_onnxruntime`` 1.4.4 wheel (Apache-2.0, see ``vision/third_party/PPOCR.md``).

Differentiable Binarization post-processing (Liao et al., 2020): threshold the text-probability map, take each
connected region's minimum-area rectangle, score it by the mean probability inside, and grow it by
``area * unclip_ratio / perimeter`` on every side (the network predicts shrunk text kernels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..geometry import order_quad
from ..runtime import session

WEIGHTS = Path(__file__).parent / "weights" / "ppocrv4_det.onnx"
BINARY_THRESHOLD = 0.3
BOX_THRESHOLD = 0.5
UNCLIP_RATIO = 1.6
MIN_SIDE = 3
MAX_CANDIDATES = 300


@dataclass(frozen=True)
class TextBox:
    quad: np.ndarray  # 4 x 2 in the pixels of the image given to ``detect``, clockwise from top-left
    score: float  # mean text probability inside


def db_boxes(prob: np.ndarray, scale_x: float, scale_y: float) -> list[TextBox]:
    """Boxes from a DB probability map ``(H, W)``; ``scale_*`` map map pixels to image pixels."""
    bitmap = cv2.dilate((prob > BINARY_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours[:MAX_CANDIDATES]:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < MIN_SIDE:
            continue
        score = _mean_inside(prob, cv2.boxPoints(((cx, cy), (w, h), angle)))
        if score < BOX_THRESHOLD:
            continue
        grow = w * h * UNCLIP_RATIO / (2 * (w + h))
        w, h = w + 2 * grow, h + 2 * grow
        if min(w, h) < MIN_SIDE + 2:
            continue
        quad = cv2.boxPoints(((cx, cy), (w, h), angle)) * (scale_x, scale_y)
        boxes.append(TextBox(order_quad(quad), score))
    return boxes


def _mean_inside(prob: np.ndarray, points: np.ndarray) -> float:
    h, w = prob.shape
    x0, y0 = np.clip(np.floor(points.min(0)).astype(int), 0, (w - 1, h - 1))
    x1, y1 = np.clip(np.ceil(points.max(0)).astype(int), 0, (w - 1, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(mask, [np.round(points - (x0, y0)).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


class TextDetector:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        self.session = session(weights)

    def detect(self, image: np.ndarray, long_side: int = 960) -> list[TextBox]:
        """Text boxes in a BGR image, detected with its long side scaled to ``long_side`` (multiple of 32)."""
        h, w = image.shape[:2]
        ratio = long_side / max(h, w)
        rh, rw = max(32, round(h * ratio / 32) * 32), max(32, round(w * ratio / 32) * 32)
        resized = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR)
        x = ((resized.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        (prob,) = self.session.run(None, {"x": x})
        return db_boxes(prob[0, 0], w / rw, h / rh)
