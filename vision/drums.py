"""Decimal drums told by their colour: on drum counters the tenths (and hundredths) turn on red drums, or show
white on red, at the register's right end; no point is printed between them."""

from __future__ import annotations

import cv2
import numpy as np

MAX_RED = 2  # decimal drums a counter has at most
RED_SHARE = 0.3  # a cell is red when this share of its pixels is
# ... and the cells before the red ones must be this much less red: a red housing, sticker or backlight
# colours every cell alike, and says nothing of decimals.
OTHERS_BELOW = 0.15


def red_share(cell: np.ndarray) -> float:
    """Share of a BGR cell's pixels that are clearly red (hue near red, saturated, not dark)."""
    hsv = cv2.cvtColor(cell, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0].astype(int), hsv[..., 1], hsv[..., 2]
    red = ((h <= 8) | (h >= 170)) & (s >= 90) & (v >= 60)
    return float(red.mean()) if red.size else 0.0


def red_decimals(strip: np.ndarray, centres: list[float]) -> int:
    """How many of the figures at the right end of a straightened register ``strip`` (BGR; ``centres``: the x of
    each figure, left to right, in its pixels) sit on red cells while the ones before them do not: the decimal
    drums; 0 when unsure."""
    if strip.ndim != 3 or len(centres) < 3:
        return 0
    x = np.asarray(centres, float)
    pitch = float(np.median(np.diff(x)))
    edges = np.clip(np.concatenate([[x[0] - pitch / 2], (x[:-1] + x[1:]) / 2, [x[-1] + pitch / 2]]), 0, None)
    edges = np.minimum(edges, strip.shape[1]).astype(int)
    shares = [red_share(strip[:, a:b]) if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    n, red = len(shares), 0
    while red < MAX_RED and shares[n - 1 - red] >= RED_SHARE:
        red += 1
    if red == 0 or max(shares[: n - red]) >= OTHERS_BELOW:
        return 0
    return red
