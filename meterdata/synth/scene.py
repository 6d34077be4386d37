"""A whole photo: a meter face placed in a scene and photographed badly, the way consumers do.

Every random choice comes from one ``numpy`` generator seeded by ``(seed, index)``, so an image depends on
nothing but its seed and index: same seed, same bytes, whatever the number of worker processes.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from ..manifest import Sample
from .housing import Face, render_face
from .meter_type import MeterType

# Phone photos are mostly 4:3; the larger sizes are rarer because uploads are often downscaled.
SIZES = (
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 960),
    (1600, 1200),
    (2048, 1536),
    (3264, 2448),
    (4000, 3000),
)
_SIZE_P = np.array([0.12, 0.12, 0.2, 0.24, 0.14, 0.1, 0.05, 0.03])
MAX_FACE = 1400  # faces are drawn at most this wide, then warped up: keeps 12 MP photos cheap


def _smooth_field(rng: np.random.Generator, w: int, h: int, cells: int = 4) -> np.ndarray:
    """Low-frequency noise in [0, 1] at ``w x h``: lighting, stains, gradients."""
    grid = rng.random((cells, cells), dtype=np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A wall, meter box or board, with wires, other boxes and printed clutter on it."""
    colours = np.array(
        rng.choice(
            [
                (200, 210, 215),
                (170, 180, 190),
                (120, 130, 135),
                (90, 110, 140),
                (60, 70, 80),
                (180, 200, 220),
                (150, 160, 120),
                (40, 40, 45),
                (210, 200, 180),
            ],
            size=2,
        ),
        np.float32,
    )
    sw, sh = max(4, w // 16), max(4, h // 16)
    t = _smooth_field(rng, sw, sh, int(rng.integers(2, 6)))[..., None]
    small = colours[0] * t + colours[1] * (1 - t)
    small += rng.normal(0, 6, (sh, sw, 1)).astype(np.float32)
    img = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    s = max(w, h) / 1000
    for _ in range(int(rng.integers(0, 6))):  # boxes, switches, other enclosures
        x, y = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        bw, bh = int(rng.integers(w // 10, w // 2)), int(rng.integers(h // 10, h // 2))
        col = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.rectangle(img, (x, y), (x + bw, y + bh), col, -1)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), tuple(int(c * 0.6) for c in col), max(1, int(3 * s)))
    for _ in range(int(rng.integers(0, 8))):  # wires
        pts = np.cumsum(rng.normal(0, 200 * s, (4, 2)), 0) + rng.uniform(0, 1, 2) * (w, h)
        col = tuple(
            int(c)
            for c in rng.choice([(20, 20, 20), (30, 30, 180), (200, 200, 200), (40, 120, 40), (40, 160, 200)])
        )
        cv2.polylines(
            img, [pts.astype(np.int32)], False, col, max(2, int(rng.uniform(4, 14) * s)), cv2.LINE_AA
        )
    for _ in range(int(rng.integers(0, 4))):  # painted or printed text: phone numbers, warnings
        label = str(rng.choice(["DANGER 440V", "ELCB", "MAIN", "Flat 304", "Call 1912", "MCB"]))
        if rng.random() < 0.5:
            label = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(4, 11))))
        col = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.putText(
            img,
            label,
            (int(rng.integers(0, w)), int(rng.integers(0, h))),
            cv2.FONT_HERSHEY_SIMPLEX,
            rng.uniform(0.6, 2.5) * s,
            col,
            max(1, int(rng.uniform(1, 5) * s)),
            cv2.LINE_AA,
        )
    return img


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


def _tilt(rng: np.random.Generator, max_deg: float = 45) -> float:
    return float(np.deg2rad(np.clip(abs(rng.normal(0, 16)), 0, max_deg) * rng.choice([-1, 1])))


def _place(
    rng: np.random.Generator, fw: int, fh: int, w: int, h: int, fill: tuple[float, float]
) -> np.ndarray:
    """Homography taking a ``fw x fh`` face into a ``w x h`` photo, seen from a random camera pose."""
    yaw, pitch = _tilt(rng), _tilt(rng)
    roll = float(np.deg2rad(np.clip(rng.normal(0, 9), -35, 35)))
    corners = np.array(
        [(-fw / 2, -fh / 2, 0), (fw / 2, -fh / 2, 0), (fw / 2, fh / 2, 0), (-fw / 2, fh / 2, 0)]
    )
    f = max(fw, fh) * rng.uniform(0.9, 2.2)  # focal length: wide close-ups distort more
    cam = corners @ _rotation(yaw, pitch, roll).T + (0, 0, f)
    proj = cam[:, :2] * (f / cam[:, 2:3])
    span = proj.max(0) - proj.min(0)
    scale = rng.uniform(*fill) * min(w / span[0], h / span[1])
    proj = (proj - proj.min(0)) * scale
    span = proj.max(0) - proj.min(0)
    # Anywhere in the frame; a little of the housing may fall outside it.
    slack = (np.array([w, h]) - span) * rng.uniform(-0.05, 1.05, 2)
    dst = (proj + slack).astype(np.float32)
    src = np.array([(0, 0), (fw, 0), (fw, fh), (0, fh)], np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def _warp_into(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray, hom: np.ndarray) -> None:
    """Paint ``src`` (with its ``alpha`` mask) into ``dst`` through homography ``hom``, in place."""
    h, w = dst.shape[:2]
    corners = cv2.perspectiveTransform(
        np.array([[(0, 0), (src.shape[1], 0), (src.shape[1], src.shape[0]), (0, src.shape[0])]], np.float32),
        hom,
    )[0]
    x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, (w, h))
    x1, y1 = np.ceil(corners.max(0)).astype(int).clip(0, (w, h))
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ hom
    size = (int(x1 - x0), int(y1 - y0))
    patch = cv2.warpPerspective(src, shift, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpPerspective(alpha, shift, size, flags=cv2.INTER_LINEAR, borderValue=0)
    a = mask.astype(np.float32) / 255.0
    dst[y0:y1, x0:x1] = cv2.blendLinear(patch, dst[y0:y1, x0:x1], a, 1.0 - a)


def _phone_screen(
    rng: np.random.Generator, photo: np.ndarray, w: int, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Show ``photo`` on a phone screen and photograph that: moiré, bezel, a second perspective."""
    ph, pw = photo.shape[:2]
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    ang, freq = rng.uniform(0, np.pi), rng.uniform(0.15, 0.45)
    moire = 1 - rng.uniform(0.08, 0.25) * (0.5 + 0.5 * np.sin(freq * (xx * np.cos(ang) + yy * np.sin(ang))))
    screen = photo.astype(np.float32) * moire[..., None] * (1.0, 1.02, 0.95) + 18
    screen = np.clip(screen, 0, 255).astype(np.uint8)
    bezel = int(max(pw, ph) * 0.04)
    phone = np.full((ph + 2 * bezel, pw + 2 * bezel, 3), 15, np.uint8)
    phone[bezel : bezel + ph, bezel : bezel + pw] = screen
    alpha = np.full(phone.shape[:2], 255, np.uint8)
    out = _background(rng, w, h)
    hom = _place(rng, phone.shape[1], phone.shape[0], w, h, (0.6, 0.95))
    _warp_into(out, phone, alpha, hom)
    offset = np.array([[1, 0, bezel], [0, 1, bezel], [0, 0, 1]], np.float64)
    return out, hom @ offset


def _light_and_glare(
    rng: np.random.Generator, w: int, h: int, quad: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Multiplicative lighting (gradients, vignette, shadows) and additive glass glare, at 1/8 resolution."""
    sw, sh = max(8, w // 8), max(8, h // 8)
    effects = []
    light = 0.75 + 0.5 * _smooth_field(rng, sw, sh, 3)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    r2 = ((xx / sw - 0.5) ** 2 + (yy / sh - 0.5) ** 2) * 4
    light *= 1 - rng.uniform(0, 0.45) * r2 / 2  # vignette
    if rng.random() < 0.3:  # a hard-edged shadow: a hand, the phone, the box door
        effects.append("shadow")
        pts = (rng.random((int(rng.integers(3, 7)), 2)) * (sw, sh) * 1.4 - np.array((sw, sh)) * 0.2).astype(
            np.int32
        )
        mask = np.zeros((sh, sw), np.float32)
        cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.5, 3))
        light *= 1 - rng.uniform(0.3, 0.65) * mask
    glare = np.zeros((sh, sw), np.float32)
    if rng.random() < 0.35:  # reflections on the glass, most often right over the display
        effects.append("glare")
        for _ in range(int(rng.integers(1, 4))):
            if quad is not None and rng.random() < 0.7:
                c = quad[int(rng.integers(0, 4))] * rng.uniform(0.3, 0.7) + quad.mean(0) * 0.5
                cx, cy = c[0] / 8, c[1] / 8
            else:
                cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
            axes = (max(1, int(rng.uniform(0.02, 0.25) * sw)), max(1, int(rng.uniform(0.01, 0.1) * sh)))
            blob = np.zeros((sh, sw), np.float32)
            cv2.ellipse(blob, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
            blob = cv2.GaussianBlur(blob, (0, 0), max(0.6, rng.uniform(0.1, 0.6) * axes[1]))
            glare += blob * rng.uniform(40, 280)
    return light, glare, effects


def _occlude(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """A thumb, a finger or a wire over part of the meter; returns the occluder's mask."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    side = quad.max(0) - quad.min(0)
    c = quad.mean(0) + rng.uniform(-0.9, 0.9, 2) * side
    if rng.random() < 0.6:
        axes = (int(side[0] * rng.uniform(0.12, 0.35)), int(side[1] * rng.uniform(0.4, 1.2)))
        cv2.ellipse(
            mask,
            (int(c[0]), int(c[1])),
            (max(2, axes[0]), max(2, axes[1])),
            rng.uniform(-60, 60),
            0,
            360,
            255,
            -1,
        )
        colour = np.array(rng.choice([(90, 120, 170), (70, 95, 140), (110, 140, 190)]), np.float32)
    else:
        end = c + rng.normal(0, 1, 2) * side
        cv2.line(
            mask,
            (int(c[0] - (end[0] - c[0])), int(c[1] - (end[1] - c[1]))),
            (int(end[0]), int(end[1])),
            255,
            max(2, int(side[1] * rng.uniform(0.05, 0.2))),
        )
        colour = np.array(rng.choice([(20, 20, 20), (30, 30, 160), (200, 200, 200)]), np.float32)
    soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, side[1] * 0.03)).astype(np.float32)[..., None] / 255.0
    bx, by, bw, bh = cv2.boundingRect(mask)
    if bw and bh:
        pad = int(side[1] * 0.1) + 2
        x0, y0, x1, y1 = max(0, bx - pad), max(0, by - pad), min(w, bx + bw + pad), min(h, by + bh + pad)
        shade = np.linspace(1.1, 0.7, x1 - x0, dtype=np.float32)[None, :, None]
        a = soft[y0:y1, x0:x1]
        img[y0:y1, x0:x1] = np.clip(img[y0:y1, x0:x1] * (1 - a) + colour * shade * a, 0, 255).astype(np.uint8)
    return mask


def _blur(rng: np.random.Generator, img: np.ndarray, scale: float) -> tuple[np.ndarray, float, list[str]]:
    """Defocus or hand shake; returns the blurred image and the blur's size in pixels."""
    r = rng.random()
    if r < 0.3:
        sigma = rng.uniform(0.8, 4.0) * scale
        return cv2.GaussianBlur(img, (0, 0), sigma), sigma, ["defocus"]
    if r < 0.45:
        length = max(3, int(rng.uniform(3, 18) * scale)) | 1
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        kernel /= max(kernel.sum(), 1e-6)
        return cv2.filter2D(img, -1, kernel), length / 3.0, ["motion_blur"]
    return img, 0.0, []


_BANK_H, _BANK_W = 1600, 2100


@cache
def _noise_bank() -> np.ndarray:
    """Unit Gaussian sensor noise, made once per process from a fixed seed (cheaper than per photo)."""
    return np.random.default_rng(0).standard_normal((_BANK_H, _BANK_W, 3), dtype=np.float32)


def _noise(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A ``w x h`` noise field cut from the bank at a random offset (tiled for photos bigger than it)."""
    bank = _noise_bank()
    if h > _BANK_H or w > _BANK_W:
        bank = (
            bank.transpose(1, 0, 2)
            if h > w and w <= _BANK_H and h <= _BANK_W
            else np.tile(bank, (-(-h // _BANK_H), -(-w // _BANK_W), 1))
        )
    dy = int(rng.integers(0, bank.shape[0] - h + 1))
    dx = int(rng.integers(0, bank.shape[1] - w + 1))
    return bank[dy : dy + h, dx : dx + w]


def _digit_height(boxes: np.ndarray) -> float:
    if len(boxes) == 0:
        return 0.0
    return float(np.median(np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)))


def render_photo(
    seed: int,
    index: int,
    size: tuple[int, int] | None = None,
    split: str = "train",
    max_side: int | None = None,
    meter_type: MeterType | None = None,
) -> tuple[bytes, Sample]:
    """Render photo ``index`` of the set seeded ``seed``; returns the JPEG bytes and its manifest entry.

    ``size`` fixes the photo size; otherwise it is drawn from phone sizes, at most ``max_side`` wide or tall.
    ``meter_type``: every photo shows a lit LCD meter of that type (``meterdata.synth.meter_type``).
    """
    rng = np.random.default_rng([seed, index])
    if size is None:
        p = _SIZE_P * [max(wh) <= (max_side or 10**9) for wh in SIZES]
        if not p.any():
            raise ValueError(f"max_side {max_side} is below the smallest size {SIZES[0]}")
        w, h = SIZES[int(rng.choice(len(SIZES), p=p / p.sum()))]
        if rng.random() < 0.35:
            w, h = h, w
    else:
        w, h = size
    img = _background(rng, w, h)
    kind_roll = rng.random()
    face: Face | None = None
    hom = None
    effects: list[str] = []
    if meter_type is not None or kind_roll >= 0.06:  # 6% of photos hold no meter at all
        kind = "drum" if kind_roll < 0.3 and meter_type is None else "lcd7seg"
        lit = meter_type is not None or not (kind == "lcd7seg" and rng.random() < 0.04)
        target_w = min(w, h) * rng.uniform(0.35, 1.0)
        face_w = int(min(MAX_FACE, max(240, target_w)))
        face = render_face(rng, face_w, kind, lit, meter_type)
        fill = (0.45, 1.3) if rng.random() < 0.9 else (0.2, 0.45)
        hom = _place(rng, face.image.shape[1], face.image.shape[0], w, h, fill)
        _warp_into(img, face.image, face.alpha, hom)
        if rng.random() < 0.05:
            img, screen_hom = _phone_screen(rng, img, w, h)
            hom = screen_hom @ hom
            effects.append("phone_screen")

    quad = boxes = None
    if face is not None:
        quad = cv2.perspectiveTransform(face.quad[None], hom)[0]
        if len(face.digit_boxes):
            boxes = cv2.perspectiveTransform(face.digit_boxes.reshape(1, -1, 2), hom)[0].reshape(-1, 4, 2)
    occluded = False
    if quad is not None and rng.random() < 0.12:
        effects.append("occlusion")
        mask = _occlude(rng, img, quad)
        if boxes is not None:
            for b in boxes:
                x0, y0 = b.min(0).astype(int).clip(0, (w - 1, h - 1))
                x1, y1 = b.max(0).astype(int).clip(0, (w - 1, h - 1))
                if x1 > x0 and y1 > y0 and mask[y0:y1, x0:x1].mean() > 255 * 0.2:
                    occluded = True

    light, glare, more = _light_and_glare(rng, w, h, quad)
    effects += more
    low_light = rng.random() < 0.15
    exposure = rng.uniform(0.25, 0.5) if low_light else rng.uniform(0.8, 1.2)
    gains = np.array([rng.uniform(0.85, 1.15), 1.0, rng.uniform(0.85, 1.15)], np.float32) * exposure
    # Lighting and glare are smooth: build them small and scale them up; all in saturating 8-bit maths.
    light_map = np.clip(light[..., None] * gains * 128, 0, 255).astype(np.uint8)
    img = cv2.multiply(img, cv2.resize(light_map, (w, h), interpolation=cv2.INTER_LINEAR), scale=1 / 128)
    if glare.any():
        glare_map = np.repeat(np.clip(glare, 0, 255).astype(np.uint8)[..., None], 3, 2)
        img = cv2.add(img, cv2.resize(glare_map, (w, h), interpolation=cv2.INTER_LINEAR))
    img, blur_px, more = _blur(rng, img, max(w, h) / 1280)
    effects += more
    noise_sigma = rng.uniform(1, 5) + (rng.uniform(6, 20) if low_light else 0)
    img = cv2.addWeighted(img, 1.0, _noise(rng, w, h), noise_sigma, 0.0, dtype=cv2.CV_8U)
    if low_light:
        effects.append("low_light")
    if rng.random() < 0.15:  # sent through a chat app first: downscaled and sharpened
        small = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    quality = int(rng.integers(35, 96))
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok

    readable, reason = False, "no meter"
    digits = None
    if face is not None:
        digits = face.digits or None
        readable, reason = True, None
        digit_h = _digit_height(boxes) if boxes is not None else 0.0
        in_frame = boxes is not None and bool(((boxes >= 0) & (boxes <= (w - 1, h - 1))).all())
        glare_on_digits = 0.0
        if boxes is not None and in_frame:
            for b in boxes:
                x0, y0 = b.min(0).astype(int)
                x1, y1 = b.max(0).astype(int)
                cell = glare[y0 // 8 : y1 // 8 + 1, x0 // 8 : x1 // 8 + 1]
                glare_on_digits = max(glare_on_digits, float(cell.mean()) if cell.size else 0.0)
        contrast = 110 * exposure
        checks = [
            (not face.lit, "display off"),
            (not in_frame, "display cut off"),
            (occluded, "digits covered"),
            (glare_on_digits > 110, "glare on digits"),
            (digit_h < 9, "digits too small"),
            (blur_px > 0.16 * digit_h, "too blurred"),
            (contrast / noise_sigma < 3, "too dark"),
        ]
        for failed, why in checks:
            if failed:
                readable, reason = False, why
                break

    def rounded(points: np.ndarray) -> list[list[float]]:
        return [[round(float(x), 1), round(float(y), 1)] for x, y in points]

    digit_boxes = None
    if boxes is not None and digits:
        digit_boxes = [
            [*(round(float(v), 1) for v in b.min(0)), *(round(float(v), 1) for v in b.max(0))] for b in boxes
        ]
    extra = {"effects": effects, "jpeg_quality": quality}
    if reason:
        extra["unreadable_reason"] = reason
    sample = Sample(
        image=f"images/{seed}_{index:06d}.jpg",
        digits=digits,
        decimals=face.decimals if face is not None and digits else 0,
        quad=rounded(quad) if quad is not None else None,
        kind=face.kind if face is not None else "other",
        readable=readable,
        split=split,
        digit_boxes=digit_boxes,
        mode=face.mode if face is not None and digits else None,
        roll=face.roll if face is not None and face.roll and digits else None,
        meter=f"synth-{seed}-{index}",
        width=w,
        height=h,
        extra=extra,
    )
    return jpeg.tobytes(), sample
