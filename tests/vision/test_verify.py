"""``verify`` never confirms a typing mistake on a region that does not hold the whole register."""

from __future__ import annotations

import cv2
import numpy as np

from bench.typing_mistakes import KINDS, mistake
from meterdata.synth import render_photo
from vision.reader import default_reader
from vision.reading import Meter, MeterReading
from vision.verify import MATCHES, judge


def _one_hot(digits: str) -> np.ndarray:
    """Folded per-frame probabilities of a recognizer that is sure of ``digits`` (blank between them)."""
    probs = np.full((2 * len(digits), 13), 1e-6)
    for i, c in enumerate(digits):
        probs[2 * i, int(c) + 1] = 1.0
        probs[2 * i + 1, 0] = 1.0
    return probs / probs.sum(1, keepdims=True)


def test_a_region_short_of_the_register_confirms_nothing() -> None:
    # 0134149 on a 7-digit meter with one decimal; the region left the red drum out and reads 013414.
    reading = MeterReading(digits="013414", value="13414", rolling=[None] * 6, mode="kwh", readable=True)
    views = [(_one_hot("013414"), 1.0)]
    # "1341.4" (the 9 left out) is what the short region shows, shifted by one position.
    assert judge(reading, "1341.4", Meter(7, 1), views).typed_verdict != MATCHES
    assert judge(reading, "13414.9", Meter(7, 1), views).typed_verdict != MATCHES
    # The same region on a 6-digit meter holds the whole register: there it confirms.
    assert judge(reading, "1341.4", Meter(6, 1), views).typed_verdict == MATCHES


def test_no_typing_mistake_is_confirmed_on_a_photo_whose_register_lost_a_digit() -> None:
    reader = default_reader()
    for index in range(200):  # a drum meter with a decimal drum that the reader reads right
        data, sample = render_photo(4242, index, size=(1024, 768), split="test")
        if sample.kind != "drum" or not sample.decimals or not sample.digit_boxes:
            continue
        meter = Meter(len(sample.digits), sample.decimals)
        if reader.read(data, meter).value == sample.value:
            break
    else:
        raise AssertionError("no clear drum photo")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = (int(round(v)) for v in sample.digit_boxes[-1])
    cv2.rectangle(image, (x0, y0), (x1, y1), (25, 25, 25), -1)  # the decimal drum's window, empty
    damaged = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    rng = np.random.default_rng(19)
    tried = 0
    for kind in KINDS:
        for _ in range(3):
            typed = mistake(sample.value, kind, rng)
            if typed is None:
                continue
            tried += 1
            seen = reader.verify(damaged, typed, meter)
            assert seen.typed_verdict != MATCHES, (kind, typed, sample.value, seen.reading.digits)
    assert tried >= 8
