"""Electromechanical drum counters: white figures on black drums, the last drum(s) red for tenths.

Drums turn continuously, so a photo often catches one half-way between two figures; the label keeps the
lower figure and records how far it has rolled (``roll``), as the meter-digits crops do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

import cv2
import numpy as np

from .digit_bank import default_bank

_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
)
_GLYPH_H = 96


@cache
def _glyph(digit: int, font: int, weight: int, condensed: bool) -> np.ndarray:
    """A white-on-black mask of one figure, tightly cropped, about ``_GLYPH_H`` pixels tall."""
    canvas = np.zeros((160, 160), np.uint8)
    scale = _GLYPH_H / 22.0 / 1.6
    cv2.putText(canvas, str(digit), (30, 130), font, scale, 255, weight, cv2.LINE_AA)
    ys, xs = np.nonzero(canvas > 20)
    crop = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    if condensed:
        crop = cv2.resize(
            crop, (max(4, int(crop.shape[1] * 0.75)), crop.shape[0]), interpolation=cv2.INTER_AREA
        )
    return crop


@dataclass
class Counter:
    image: np.ndarray  # BGR, the counter window
    digits: str
    decimals: int
    roll: list[float]
    digit_boxes: list[tuple[float, float, float, float]]


def _paste_glyph(cell: np.ndarray, mask: np.ndarray, cy: float, color: np.ndarray, height: float) -> None:
    """Draw a figure centred at row ``cy`` of ``cell`` (may be partly outside: drums clip it)."""
    h, w = cell.shape[:2]
    gh = max(2, int(height))
    gw = max(2, int(mask.shape[1] * gh / mask.shape[0]))
    gw = min(gw, w - 2)
    g = cv2.resize(mask, (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    y0 = int(round(cy - gh / 2))
    x0 = (w - gw) // 2
    ys0, ys1 = max(0, y0), min(h, y0 + gh)
    if ys1 <= ys0:
        return
    a = g[ys0 - y0 : ys1 - y0, :, None]
    roi = cell[ys0:ys1, x0 : x0 + gw].astype(np.float32)
    cell[ys0:ys1, x0 : x0 + gw] = (roi * (1 - a) + color * a).astype(np.uint8)


def render_counter(rng: np.random.Generator, height: int) -> Counter:
    """Draw a counter window about ``height`` pixels tall: 5-7 black drums and 0-2 red ones."""
    n_int = int(rng.choice([4, 5, 5, 5, 6, 6, 7]))
    decimals = int(rng.choice([0, 1, 1, 1, 1, 2]))
    n = n_int + decimals
    cell_h = int(height * rng.uniform(0.7, 0.86))
    cell_w = max(8, int(cell_h * rng.uniform(0.55, 0.78)))
    gap = max(1, int(cell_w * rng.uniform(0.06, 0.3)))
    pad = int(height * rng.uniform(0.06, 0.2))
    width = 2 * pad + n * cell_w + (n - 1) * gap
    plate = np.array(
        rng.choice([(20, 20, 20), (35, 35, 38), (60, 60, 60), (200, 200, 200), (25, 30, 45)]), np.float32
    )
    img = np.empty((height, width, 3), np.uint8)
    img[:] = plate

    font = int(rng.choice(_FONTS))
    weight = int(rng.integers(2, 6))
    condensed = bool(rng.random() < 0.5)
    fig_h = cell_h * rng.uniform(0.5, 0.68)
    pitch = cell_h * rng.uniform(0.85, 1.05)  # distance between figures on the drum's surface

    value = [int(d) for d in f"{int(rng.integers(0, 10 ** int(rng.integers(2, n + 1)))):0{n}d}"]
    roll = [0.0] * n
    if rng.random() < 0.6:  # the last drum turns all the time
        roll[-1] = float(rng.choice([0.5, rng.uniform(0.1, 0.9)]))
        for i in range(n - 2, -1, -1):  # carry: a drum rolls only while everything right of it shows 9
            if value[i + 1] == 9 and roll[i + 1] > 0 and rng.random() < 0.8:
                roll[i] = roll[i + 1]
            else:
                break
    roll = [round(r, 2) for r in roll]

    bank = default_bank()
    use_bank = bank is not None and bank.meters and rng.random() < 0.5
    meter = bank.meters[int(rng.integers(0, len(bank.meters)))] if use_bank else None
    # Cylinder shading: drums darken towards their top and bottom edges.
    yy = np.linspace(-1, 1, cell_h, dtype=np.float32)
    shade = (1 - 0.55 * yy**2)[:, None, None]
    top = (height - cell_h) // 2
    boxes = []
    for i in range(n):
        red = i >= n_int
        bg = np.array((30, 30, 170) if red else (18, 18, 18), np.float32) * rng.uniform(0.7, 1.2)
        fg = np.array((235, 235, 235), np.float32) * rng.uniform(0.75, 1.0)
        if not red and rng.random() < 0.08:  # a few meters have white drums with black figures
            bg, fg = fg, np.array((20, 20, 20), np.float32)
        d = value[i]
        if meter is not None:  # a real crop from one training meter, tinted red for the decimal drums
            cell = cv2.resize(
                bank.crop(rng, meter, d, roll[i]), (cell_w, cell_h), interpolation=cv2.INTER_AREA
            )
            if red:
                cell = np.clip(cell * np.array((0.45, 0.45, 1.25), np.float32) + (0, 0, 40), 0, 255).astype(
                    np.uint8
                )
        else:
            cell = np.empty((cell_h, cell_w, 3), np.uint8)
            cell[:] = bg
            centre = cell_h / 2 + rng.normal(0, cell_h * 0.02)
            glyph = partial(_glyph, font=font, weight=weight, condensed=condensed)
            _paste_glyph(cell, glyph(d), centre - roll[i] * pitch, fg, fig_h)
            if roll[i] > 0:  # the drum shows the bottom of this figure and the top of the next
                _paste_glyph(cell, glyph((d + 1) % 10), centre + (1 - roll[i]) * pitch, fg, fig_h)
                _paste_glyph(cell, glyph((d + 9) % 10), centre - (1 + roll[i]) * pitch, fg, fig_h)
            cell = np.clip(cell.astype(np.float32) * shade, 0, 255).astype(np.uint8)
        x = pad + i * (cell_w + gap)
        img[top : top + cell_h, x : x + cell_w] = cell
        boxes.append((float(x), float(top), float(x + cell_w), float(top + cell_h)))
    if decimals and rng.random() < 0.5:  # a printed decimal comma between the black and red drums
        x = pad + n_int * (cell_w + gap) - gap / 2
        cv2.circle(img, (int(x), top + cell_h - 4), max(1, gap // 2), (230, 230, 230), -1, cv2.LINE_AA)
    return Counter(img, "".join(map(str, value)), decimals, roll, boxes)
