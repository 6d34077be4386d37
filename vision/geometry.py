"""Quads and rectification: cut the display out of a photo as a straight, fixed-height strip."""

from __future__ import annotations

import math

import cv2
import numpy as np

MAX_ASPECT = 12.0


def order_quad(points: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from top-left (image coordinates, y down)."""
    pts = np.asarray(points, np.float32).reshape(4, 2)
    centre = pts.mean(0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen, starting anywhere
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """Mean width (top and bottom edges) and height (left and right edges) of a quad, in pixels."""
    q = np.asarray(quad, np.float32)
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(w), float(h)


def rectify(image: np.ndarray, quad: np.ndarray, height: int) -> np.ndarray:
    """Warp the quad's inside to a ``height`` pixels tall strip, keeping the quad's aspect ratio.

    The width is ``ceil(height * aspect)``, the size easyocr would resize the same crop to.
    """
    w, h = quad_size(quad)
    aspect = min(max(w / max(h, 1e-3), 1.0), MAX_ASPECT)
    out_w = math.ceil(height * aspect)
    # Warp to twice the size, then shrink with area averaging: no aliasing when the display is large.
    scale = 2 if h > 2 * height else 1
    dst = np.array(
        [(0, 0), (out_w * scale, 0), (out_w * scale, height * scale), (0, height * scale)], np.float32
    )
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    strip = cv2.warpPerspective(
        image, m, (out_w * scale, height * scale), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if scale != 1:
        strip = cv2.resize(strip, (out_w, height), interpolation=cv2.INTER_AREA)
    return strip


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quads (any consistent units)."""
    a = order_quad(a)
    b = order_quad(b)
    area_a = abs(cv2.contourArea(a))
    area_b = abs(cv2.contourArea(b))
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(a, b)
    return float(inter / (area_a + area_b - inter))


def on_display(region: np.ndarray, display: np.ndarray, share: float = 0.7) -> bool:
    """Whether at least ``share`` of a region's area lies inside a display quad (the register is on it)."""
    a, b = order_quad(region), order_quad(display)
    area = abs(cv2.contourArea(a))
    if area <= 0:
        return False
    inter, _ = cv2.intersectConvexConvex(a, b)
    return float(inter / area) >= share


def widen(quad: np.ndarray, along: float = 0.8, across: float = 0.12) -> np.ndarray:
    """The quad grown by ``along`` of its height at each end and ``across`` of it above and below."""
    tl, tr, br, bl = np.asarray(quad, np.float32)
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    u = (tr - tl) / max(float(np.linalg.norm(tr - tl)), 1e-6)
    v = (bl - tl) / max(float(np.linalg.norm(bl - tl)), 1e-6)
    a, c = u * along * h, v * across * h
    return np.array([tl - a - c, tr + a - c, br + a + c, bl - a + c], np.float32)
