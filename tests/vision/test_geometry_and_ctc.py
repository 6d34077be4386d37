from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.geometry import order_quad, quad_iou, quad_size, rectify
from vision.ocr.charset import BLANK, CHARS, encode_text
from vision.ocr.ctc import greedy_decode
from vision.ocr.model import interpret, prepare
from vision.quality import check_strip


def test_order_quad_any_start_any_direction() -> None:
    quad = np.array([[10, 10], [110, 14], [108, 50], [8, 46]], np.float32)
    for perm in ([2, 0, 3, 1], [3, 2, 1, 0], [1, 2, 3, 0]):
        assert np.allclose(order_quad(quad[perm]), quad)


def test_rectify_straightens_a_tilted_display() -> None:
    image = np.zeros((400, 600, 3), np.uint8)
    src = np.array([[0, 0], [300, 0], [300, 60], [0, 60]], np.float32)
    strip = np.zeros((60, 300, 3), np.uint8)
    cv2.rectangle(strip, (0, 0), (149, 59), (255, 255, 255), -1)  # left half white
    quad = np.array([[100, 120], [420, 80], [430, 150], [105, 200]], np.float32)
    image = cv2.warpPerspective(strip, cv2.getPerspectiveTransform(src, quad), (600, 400))
    out = rectify(image, quad, 32)
    w, h = quad_size(quad)
    assert out.shape[0] == 32 and abs(out.shape[1] - 32 * w / h) <= 1
    left, right = out[:, : out.shape[1] // 2 - 3].mean(), out[:, out.shape[1] // 2 + 3 :].mean()
    assert left > 200 and right < 30


def test_quad_iou() -> None:
    a = np.array([[0, 0], [2, 0], [2, 1], [0, 1]], np.float32)
    assert quad_iou(a, a) == pytest.approx(1.0)
    assert quad_iou(a, a + (1, 0)) == pytest.approx(1 / 3)
    assert quad_iou(a, a + (5, 5)) == 0.0


def _probs(frames: list[tuple[str, float, str | None, float]]) -> np.ndarray:
    """Frames of (best char or '-' for blank, p, runner-up char, p2)."""
    n = len(CHARS) + 1
    out = np.zeros((len(frames), n), np.float32)
    for t, (c, p, alt, p2) in enumerate(frames):
        out[t] = (1 - p - p2) / (n - 1 - bool(alt))  # the rest spread over the other classes
        out[t, BLANK if c == "-" else CHARS.index(c) + 1] = p
        if alt:
            out[t, CHARS.index(alt) + 1] = p2
    return out


def test_greedy_decode_collapses_repeats_and_keeps_doubles() -> None:
    probs = _probs(
        [
            ("0", 0.9, None, 0),
            ("0", 0.95, None, 0),
            ("-", 0.9, None, 0),
            ("0", 0.8, None, 0),
            ("1", 0.7, "7", 0.25),
            (".", 0.9, None, 0),
            ("6", 0.99, None, 0),
        ]
    )
    chars = greedy_decode(probs)
    assert "".join(c.char for c in chars) == "001.6"
    assert chars[0].confidence == pytest.approx(0.95, abs=0.01)
    assert chars[2].runner_up == "7"


def test_interpret_finds_decimals_and_rolling_drums() -> None:
    probs = _probs(
        [
            ("1", 0.99, None, 0),
            ("-", 0.9, None, 0),
            ("2", 0.99, None, 0),
            ("-", 0.9, None, 0),
            ("9", 0.55, "0", 0.4),
            (".", 0.9, None, 0),
            ("4", 0.6, "5", 0.35),
        ]
    )
    reading = interpret(np.log(probs), np.array([5.0, 0, 0, 0, 0, 0]))
    assert reading.text == "129.4" and reading.digits == "1294" and reading.decimals == 1
    assert reading.rolling == [None, None, ("9", "0"), ("4", "5")]
    assert reading.mode == "kwh" and reading.mode_confidence > 0.9


def test_prepare_pads_like_easyocr() -> None:
    strip = np.tile(np.linspace(0, 255, 100, dtype=np.uint8), (40, 1))
    x = prepare(strip)
    assert x.shape == (1, 1, 32, 96) and x.min() >= -1 and x.max() <= 1
    assert np.allclose(x[0, 0, :, -1], x[0, 0, :, 79])  # replicated last column


def test_encode_text() -> None:
    assert encode_text("0134416", 1) == "013441.6"
    assert encode_text("12345", 0) == "12345"


def test_quality_flags() -> None:
    rng = np.random.default_rng(0)
    sharp = np.full((64, 256), 150, np.uint8)
    for x in range(20, 240, 30):
        cv2.rectangle(sharp, (x, 10), (x + 12, 54), 30, -1)
    assert check_strip(sharp) == []
    assert [f.code for f in check_strip(cv2.GaussianBlur(sharp, (0, 0), 10))] == ["blurred"]
    assert check_strip(cv2.GaussianBlur(sharp, (0, 0), 1.5)) == []
    assert "too_dark" in [f.code for f in check_strip((sharp * 0.2).astype(np.uint8))]
    glare = sharp.copy()
    glare[:, 60:160] = 255
    assert "glare" in [f.code for f in check_strip(glare)]
    flat = np.clip(np.full((64, 256), 120.0) + rng.normal(0, 2, (64, 256)), 0, 255).astype(np.uint8)
    assert "low_contrast" in [f.code for f in check_strip(flat)]
