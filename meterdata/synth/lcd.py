"""Seven-segment LCD panels as fitted to Indian static kWh meters.

A panel is drawn frontally on its own canvas; ``housing`` places it in a meter face and ``scene`` puts the
face into a photo. Besides the cumulative kWh register the panel may show a distractor mode (maximum
demand, date, time, the all-segments test), as meters cycle through them on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .meter_type import MeterType

# Segments a..g: top, top-right, bottom-right, bottom, bottom-left, top-left, middle.
_SEGMENTS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abdeg",
    "3": "abcdg",
    "4": "bcfg",
    "5": "acdfg",
    "6": "acdefg",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    "-": "g",
    " ": "",
}
# Glyph variants real panels use (6 without its top bar, 7 with a hook, 9 without its tail).
_VARIANTS = {"6": "cdefg", "7": "abcf", "9": "abcfg"}


@dataclass
class Panel:
    image: np.ndarray  # BGR, the whole LCD glass
    digits: str  # as displayed, left to right (blank positions not included)
    decimals: int
    mode: str
    digit_boxes: list[tuple[float, float, float, float]]  # in panel pixels
    lit: bool  # False: the LCD is off or dead, nothing readable on it


def _segment_polygons(
    x: float, y: float, w: float, h: float, t: float, slant: float, style: str = "hex"
) -> dict[str, np.ndarray]:
    """Bars for a digit cell at (x, y) of size w x h, bar thickness t, italic slant. ``style``: hex (pointed
    ends), rect (square ends, wider gaps) or thin (hairline bars)."""
    g = t * (0.18 if style == "hex" else 0.6)  # gap between neighbouring bars
    half = t / 2
    tip = half if style == "hex" else 0.0  # how far a bar's end is pointed
    ym = y + h / 2

    def hbar(yc: float) -> list[tuple[float, float]]:
        x0, x1 = x + g, x + w - g
        return [
            (x0, yc),
            (x0 + tip, yc - half),
            (x1 - tip, yc - half),
            (x1, yc),
            (x1 - tip, yc + half),
            (x0 + tip, yc + half),
        ]

    def vbar(xc: float, y0: float, y1: float) -> list[tuple[float, float]]:
        y0, y1 = y0 + g, y1 - g
        return [
            (xc, y0),
            (xc + half, y0 + tip),
            (xc + half, y1 - tip),
            (xc, y1),
            (xc - half, y1 - tip),
            (xc - half, y0 + tip),
        ]

    top, bottom = y + half, y + h - half
    left, right = x + half, x + w - half
    bars = {
        "a": hbar(top),
        "b": vbar(right, top, ym),
        "c": vbar(right, ym, bottom),
        "d": hbar(bottom),
        "e": vbar(left, ym, bottom),
        "f": vbar(left, top, ym),
        "g": hbar(ym),
    }
    out = {}
    for name, pts in bars.items():
        p = np.array(pts, dtype=np.float32)
        p[:, 0] += (ym - p[:, 1]) * slant  # shear: the top leans right
        out[name] = p
    return out


def _blend_poly(img: np.ndarray, pts: np.ndarray, color: np.ndarray, alpha: float) -> None:
    """Darken/tint the polygon area towards ``color`` by ``alpha`` (segments are semi-opaque ink)."""
    if alpha <= 0.01:
        return
    x0, y0 = np.floor(pts.min(0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, img.shape[1]), min(y1, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((pts - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    a = mask.astype(np.float32)[..., None] * (alpha / 255.0)
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - a) + color * a).astype(np.uint8)


def _pick_content(rng: np.random.Generator) -> tuple[str, str, int, list[int]]:
    """(mode, text shown in the digit cells, decimals, positions with a decimal point before them)."""
    n = int(rng.choice([5, 6, 6, 7, 7, 7, 8, 8]))
    r = rng.random()
    if r < 0.80:
        decimals = int(rng.choice([0, 1, 1, 1, 2, 2])) if n > 5 else int(rng.choice([0, 1]))
        # Consumption registers are mostly small numbers behind leading zeros.
        magnitude = int(rng.integers(2, n + 1))
        value = int(rng.integers(0, 10**magnitude))
        text = str(value).zfill(n)
        if rng.random() < 0.2:  # some panels blank the leading zeros
            stripped = text.lstrip("0")
            keep = max(len(stripped), decimals + 1)
            text = " " * (n - keep) + text[n - keep :]
        dots = [n - decimals] if decimals else []
        return "kwh", text, decimals, dots
    if r < 0.88:
        n = min(n, 6)
        decimals = 2
        text = f"{int(rng.integers(0, 10 ** (n - 2))):0{n - 2}d}" + f"{int(rng.integers(0, 100)):02d}"
        return "kw_md", text[-n:].rjust(n), decimals, [n - decimals]
    if r < 0.93:
        d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(18, 30))
        return "date", f"{d:02d}-{m:02d}-{y:02d}" if rng.random() < 0.5 else f"{d:02d}{m:02d}{y:02d}", 0, []
    if r < 0.97:
        hh, mm, ss = int(rng.integers(0, 24)), int(rng.integers(0, 60)), int(rng.integers(0, 60))
        return "time", f"{hh:02d}{mm:02d}{ss:02d}", 0, []
    return "segment_test", "8" * n, 0, list(range(1, n))


def _type_content(spec: MeterType, rng: np.random.Generator) -> tuple[str, str, int, list[int]]:
    """A kWh reading on a meter of type ``spec``."""
    n, decimals = spec.digits, spec.decimals
    value = int(rng.integers(0, 10 ** int(rng.integers(2, n + 1))))
    text = str(value).zfill(n)
    if not spec.leading_zeros:
        keep = max(len(text.lstrip("0")), decimals + 1)
        text = " " * (n - keep) + text[n - keep :]
    dots = [n - decimals] if decimals and spec.decimal_marking == "point" else []
    return "kwh", text, decimals, dots


def render_panel(
    rng: np.random.Generator, height: int, lit: bool = True, meter_type: MeterType | None = None
) -> Panel:
    """Draw one LCD panel about ``height`` pixels tall: of a random style, or of ``meter_type`` (its
    proportions and colours, each varied by a few percent, as two meters of one type differ)."""
    spec = meter_type
    mode, text, decimals, dots = _pick_content(rng) if spec is None else _type_content(spec, rng)
    cells = len(text)
    digit_h = height * rng.uniform(0.48, 0.62)
    if spec is None:
        digit_w = digit_h * rng.uniform(0.46, 0.62)
        pitch = digit_w * rng.uniform(1.18, 1.42)
        thickness = digit_h * rng.uniform(0.09, 0.15)
        slant = rng.uniform(0.0, 0.2) if rng.random() < 0.7 else 0.0
    else:
        digit_w = digit_h * spec.digit_aspect * rng.uniform(0.96, 1.04)
        pitch = digit_w * spec.pitch * rng.uniform(0.97, 1.03)
        thin = 0.4 if spec.segment_style == "thin" else 1.0
        thickness = digit_h * spec.thickness * thin * rng.uniform(0.92, 1.08)
        slant = spec.slant * rng.uniform(0.9, 1.1)
    style = spec.segment_style if spec is not None else "hex"
    margin_x = height * rng.uniform(0.18, 0.35)
    label_w = height * rng.uniform(0.5, 0.9)  # room for "kWh" and icons on the right
    width = int(margin_x * 2 + pitch * (cells - 1) + digit_w + label_w)

    backlit = lit and rng.random() < 0.35
    if spec is not None:
        base = spec.background[::-1]  # RGB in the spec, BGR here
        ink = np.array(spec.ink[::-1], np.float32)
    elif backlit:
        base = rng.choice([(60, 200, 150), (90, 210, 190), (200, 190, 90), (150, 215, 210)])
        ink = np.array((35, 45, 30), np.float32)
    else:
        base = rng.choice(
            [(150, 170, 158), (135, 155, 150), (160, 170, 170), (118, 135, 128), (170, 178, 172)]
        )
        ink = np.array(rng.choice([(30, 34, 30), (45, 48, 40), (20, 22, 25)]), np.float32)
    base = np.array(base, np.float32) * rng.uniform(0.8, 1.1)
    # A slight gradient: LCDs are never evenly lit.
    gx = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None]
    gy = np.linspace(-1, 1, height, dtype=np.float32)[:, None, None]
    img = base * (1 + rng.uniform(-0.08, 0.08) * gx + rng.uniform(-0.08, 0.08) * gy)
    img = np.clip(img, 0, 255).astype(np.uint8)

    top = (height - digit_h) * rng.uniform(0.35, 0.65)
    ghost = rng.uniform(0.02, 0.14) if rng.random() < 0.6 else 0.0  # unpowered segments show faintly
    if spec is not None:
        ghost = spec.ghost * rng.uniform(0.7, 1.3)
    fade = rng.random() < 0.15  # worn panels: some segments weak
    variants = {k: v for k, v in _VARIANTS.items() if rng.random() < 0.3} if spec is None else {}
    boxes: list[tuple[float, float, float, float]] = []
    shown = ""
    for i, ch in enumerate(text):
        x = margin_x + i * pitch
        polys = _segment_polygons(x, top, digit_w, digit_h, thickness, slant, style)
        on = variants.get(ch, _SEGMENTS.get(ch, ""))
        for name, pts in polys.items():
            if lit and name in on:
                alpha = rng.uniform(0.35, 0.7) if fade and rng.random() < 0.3 else rng.uniform(0.85, 1.0)
            else:
                alpha = ghost
            _blend_poly(img, pts, ink, alpha)
        if ch.isdigit():
            shown += ch
            sx = digit_h * slant / 2
            boxes.append(
                (x - thickness * 0.2, top - 1, x + digit_w + sx + thickness * 0.2, top + digit_h + 1)
            )
    for pos in dots:  # decimal point sits low, just before digit ``pos``
        cx = margin_x + pos * pitch - (pitch - digit_w) / 2
        cy = top + digit_h - thickness / 2
        r = thickness * 0.55
        dot = np.array([(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)], np.float32)
        _blend_poly(img, dot, ink, rng.uniform(0.85, 1.0) if lit else ghost)
    if lit and mode == "time":
        for pos in (2, 4):
            cx = margin_x + pos * pitch - (pitch - digit_w) / 2
            for cy in (top + digit_h * 0.32, top + digit_h * 0.68):
                r = thickness * 0.45
                dot = np.array(
                    [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)], np.float32
                )
                _blend_poly(img, dot, ink, 0.95)

    color = tuple(int(c) for c in ink)
    font = cv2.FONT_HERSHEY_SIMPLEX
    lx = int(margin_x + pitch * (cells - 1) + digit_w + height * 0.12)
    scale = height / 90
    labels = {"kwh": "kWh", "kw_md": "kW MD", "date": "DATE", "time": "TIME", "segment_test": "kWh kVAh"}
    if lit:
        label = labels[mode] if spec is None else spec.label
        if spec is None and mode == "kwh" and rng.random() < 0.15:
            label = "Cum kWh"
        cv2.putText(
            img,
            label,
            (lx, int(top + digit_h)),
            font,
            scale * rng.uniform(0.8, 1.1),
            color,
            max(1, int(scale * 1.5)),
            cv2.LINE_AA,
        )
        # Small indicator icons along the top: phase marks, battery, arrows, a running digit index.
        for k in range(int(rng.integers(0, 5))):
            icon = str(rng.choice(["R", "Y", "B", "->", "T1", "TOD", "!", "Rev", "01"]))
            cv2.putText(
                img,
                icon,
                (int(margin_x + k * height * 0.45), int(height * 0.14)),
                font,
                scale * 0.45,
                color,
                1,
                cv2.LINE_AA,
            )
    return Panel(img, shown if lit else "", decimals if lit else 0, mode, boxes if lit else [], lit)
