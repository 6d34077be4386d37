"""Meter faces: the plastic or bakelite housing around the display, with its printed distractors.

Serial numbers, barcodes, ratings and utility stickers are full of digits: a reader has to learn that
only the display holds the reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .drum import render_counter
from .lcd import render_panel
from .meter_type import MeterType

MAKERS = (
    "SECURE",
    "GENUS",
    "L&T",
    "HPL",
    "Landis+Gyr",
    "AVON",
    "Elster",
    "Schneider",
    "EMCO",
    "Capital",
    "ISKRAEMECO",
    "Allied",
)
UTILITIES = (
    "MSEDCL",
    "TSSPDCL",
    "BESCOM",
    "TANGEDCO",
    "UHBVN",
    "PSPCL",
    "KSEB",
    "WBSEDCL",
    "APEPDCL",
    "JVVNL",
    "DHBVN",
    "CESC",
)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class Face:
    image: np.ndarray  # BGR
    alpha: np.ndarray  # uint8 mask of the housing's outline
    kind: str  # "lcd7seg" or "drum"
    quad: np.ndarray  # 4x2 display corners in face pixels, clockwise from top-left
    digits: str
    decimals: int
    mode: str | None
    roll: list[float] | None
    digit_boxes: np.ndarray  # N x 4 x 2 corners of each digit cell in face pixels
    lit: bool


def _text(
    img: np.ndarray, s: str, x: float, y: float, size: float, color: tuple[int, ...], thick: int = 1
) -> None:
    cv2.putText(img, s, (int(x), int(y)), _FONT, size, color, max(1, thick), cv2.LINE_AA)


def _barcode(
    rng: np.random.Generator, img: np.ndarray, x: int, y: int, w: int, h: int, ink: tuple[int, ...]
) -> None:
    cx = x
    while cx < x + w:
        bw = int(rng.integers(1, 4)) * max(1, w // 120)
        if rng.random() < 0.5:
            cv2.rectangle(img, (cx, y), (cx + bw - 1, y + h), ink, -1)
        cx += bw


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _boxes_to_corners(boxes: list[tuple[float, float, float, float]], dx: float, dy: float) -> np.ndarray:
    if not boxes:
        return np.zeros((0, 4, 2), np.float32)
    b = np.array(boxes, np.float32)
    return np.stack(
        [
            np.stack([b[:, 0] + dx, b[:, 1] + dy], 1),
            np.stack([b[:, 2] + dx, b[:, 1] + dy], 1),
            np.stack([b[:, 2] + dx, b[:, 3] + dy], 1),
            np.stack([b[:, 0] + dx, b[:, 3] + dy], 1),
        ],
        1,
    )


def render_face(
    rng: np.random.Generator, width: int, kind: str, lit: bool = True, meter_type: MeterType | None = None
) -> Face:
    """Draw a meter face ``width`` pixels wide holding an LCD (``lcd7seg``) or a drum counter."""
    three_phase = rng.random() < 0.3
    height = int(width * (rng.uniform(0.95, 1.25) if three_phase else rng.uniform(1.15, 1.6)))
    body = rng.choice(
        [
            (235, 235, 230),
            (215, 220, 220),
            (190, 195, 190),
            (60, 60, 65),
            (40, 40, 40),
            (200, 205, 215),
            (120, 125, 130),
        ]
    )
    if kind == "drum":
        body = rng.choice([(30, 30, 30), (50, 45, 40), (70, 70, 75), (200, 200, 195)])
    body = np.array(body, np.float32) * rng.uniform(0.85, 1.05)
    img = np.empty((height, width, 3), np.uint8)
    gy = np.linspace(1.06, 0.9, height, dtype=np.float32)[:, None, None]
    img[:] = np.clip(body * gy, 0, 255).astype(np.uint8)
    dark_body = body.mean() < 128
    ink = (235, 235, 235) if dark_body else (25, 25, 25)
    alpha = np.zeros((height, width), np.uint8)
    radius = int(width * rng.uniform(0.03, 0.12))
    cv2.rectangle(alpha, (radius, 0), (width - radius, height), 255, -1)
    cv2.rectangle(alpha, (0, radius), (width, height - radius), 255, -1)
    for cx, cy in (
        (radius, radius),
        (width - radius, radius),
        (radius, height - radius),
        (width - radius, height - radius),
    ):
        cv2.circle(alpha, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    # A moulded rim: a darker border a little way in.
    rim = int(width * rng.uniform(0.02, 0.05))
    cv2.rectangle(
        img, (rim, rim), (width - rim, height - rim), tuple(int(c * 0.8) for c in body), max(1, width // 150)
    )

    disp_w = int(width * rng.uniform(0.5, 0.78))
    if kind == "drum":
        display = render_counter(rng, int(disp_w * rng.uniform(0.18, 0.26)))
        mode, roll, lit = "kwh", display.roll, True
    else:
        display = render_panel(rng, int(disp_w * rng.uniform(0.22, 0.36)), lit, meter_type)
        mode, roll, lit = display.mode, None, display.lit
    dimg = display.image
    scale = min(disp_w / dimg.shape[1], width * 0.86 / dimg.shape[1])
    dimg = cv2.resize(
        dimg,
        (max(8, int(dimg.shape[1] * scale)), max(8, int(dimg.shape[0] * scale))),
        interpolation=cv2.INTER_AREA,
    )
    dh, dw = dimg.shape[:2]
    dx = int((width - dw) * rng.uniform(0.3, 0.7))
    dy = int(height * rng.uniform(0.12, 0.3))
    # Bezel around the window, then the window itself.
    bezel = max(2, int(dh * rng.uniform(0.05, 0.2)))
    bezel_col = tuple(int(c) for c in (body * rng.uniform(0.3, 0.7)))
    cv2.rectangle(img, (dx - bezel, dy - bezel), (dx + dw + bezel, dy + dh + bezel), bezel_col, -1)
    img[dy : dy + dh, dx : dx + dw] = dimg
    quad = np.array([(dx, dy), (dx + dw, dy), (dx + dw, dy + dh), (dx, dy + dh)], np.float32)
    boxes = _boxes_to_corners([tuple(v * scale for v in b) for b in display.digit_boxes], dx, dy)

    s = width / 600  # text scale relative to a 600 px face
    maker = str(rng.choice(MAKERS))
    _text(
        img, maker, width * 0.08, dy - bezel - height * 0.03, 0.9 * s * rng.uniform(0.7, 1.3), ink, int(2 * s)
    )
    if kind == "drum" or rng.random() < 0.7:
        _text(img, "kWh", dx + dw + bezel + 4 * s, dy + dh * 0.8, 0.8 * s, ink, int(2 * s))
    y = dy + dh + bezel + 40 * s
    lines = [
        "3 PHASE 4 WIRE STATIC METER" if three_phase else "SINGLE PHASE STATIC ENERGY METER",
        f"{rng.choice(['240V', '3x240V', '230V'])} {rng.choice(['5-30A', '10-60A', '5-20A', '10-40A'])} 50Hz",
        f"{rng.choice([800, 1600, 3200, 6400])} imp/kWh   Class {rng.choice(['1.0', '0.5S', '2.0'])}",
        f"IS {rng.choice(['13779', '16444', '14697'])}  Mfg {int(rng.integers(2009, 2026))}",
    ]
    if kind == "drum":
        lines[0] = "SINGLE PHASE ENERGY METER"
        lines[2] = f"{rng.choice([375, 600, 750, 1200])} rev/kWh"
    for line in lines[: int(rng.integers(2, 5))]:
        _text(img, line, width * 0.08, y, 0.5 * s, ink, int(1.2 * s))
        y += 28 * s
    # Distractors full of digits: serial number, barcode, utility sticker with a consumer number.
    y += 10 * s
    if meter_type is not None and meter_type.serial_scale:
        # A serial with as many digits as the register, printed large: only what it is tells them apart.
        serial = _digits(rng, meter_type.digits)
        digit_h = float(np.ptp(boxes[..., 1])) if len(boxes) else dh * 0.6
        size = min(meter_type.serial_scale * digit_h / 22, width * 0.84 / (20 * len(serial)))
        _text(img, serial, width * 0.08, y + 22 * size, size, ink, max(1, int(2.2 * size)))
        y += 22 * size
    else:
        serial = _digits(rng, int(rng.integers(6, 11)))
        _text(
            img,
            f"No. {serial}" if rng.random() < 0.5 else serial,
            width * 0.08,
            y + 20 * s,
            0.8 * s,
            ink,
            int(2 * s),
        )
    if rng.random() < 0.7:
        bx, bw = int(width * 0.08), int(width * rng.uniform(0.35, 0.6))
        by = int(y + 32 * s)
        if by + 50 * s < height - rim:
            cv2.rectangle(img, (bx - 4, by - 4), (bx + bw + 4, by + int(50 * s) + 4), (245, 245, 245), -1)
            _barcode(rng, img, bx, by, bw, int(50 * s), (15, 15, 15))
    if rng.random() < 0.6:
        sw, sh = int(width * 0.35), int(70 * s)
        sx, sy = int(width * rng.uniform(0.5, 0.6)), int(min(height - sh - rim - 2, y + 40 * s))
        colour = tuple(
            int(c) for c in rng.choice([(240, 240, 240), (120, 200, 240), (240, 200, 120), (80, 80, 220)])
        )
        cv2.rectangle(img, (sx, sy), (sx + sw, sy + sh), colour, -1)
        _text(img, str(rng.choice(UTILITIES)), sx + 6 * s, sy + 25 * s, 0.55 * s, (20, 20, 20), int(1.5 * s))
        _text(
            img,
            _digits(rng, int(rng.integers(8, 13))),
            sx + 6 * s,
            sy + 55 * s,
            0.55 * s,
            (20, 20, 20),
            int(1.5 * s),
        )
    if kind == "drum":  # the spinning disc window below the counter
        wy = int(dy + dh + bezel + 8 * s)
        cv2.rectangle(img, (dx, wy), (dx + dw, wy + int(24 * s)), (150, 150, 150), -1)
        mark = int(dx + dw * rng.random())
        cv2.rectangle(img, (mark, wy), (mark + int(10 * s), wy + int(24 * s)), (20, 20, 20), -1)
    else:  # the calibration LED and a push button
        cv2.circle(
            img,
            (int(width * 0.85), int(dy - bezel - 20 * s)),
            max(2, int(7 * s)),
            (40, 40, 200) if rng.random() < 0.5 else (60, 60, 90),
            -1,
            cv2.LINE_AA,
        )
        cv2.circle(
            img,
            (int(width * 0.82), int(height * 0.62)),
            max(3, int(18 * s)),
            tuple(int(c * 0.6) for c in body),
            -1,
            cv2.LINE_AA,
        )
    for cx, cy in (
        (rim * 2, rim * 2),
        (width - rim * 2, rim * 2),
        (rim * 2, height - rim * 2),
        (width - rim * 2, height - rim * 2),
    ):
        cv2.circle(img, (int(cx), int(cy)), max(2, int(6 * s)), (140, 140, 140), -1, cv2.LINE_AA)
    return Face(
        img, alpha, kind, quad, display.digits, display.decimals if lit else 0, mode, roll, boxes, lit
    )
