"""Real photos and real distractors: the register is found among serial numbers, read, and verified.

The seven real photos (``datasets/real-photos-lt``) are of one L&T static meter: six show billing-history
registers (a ``6B`` ... ``1B`` index beside the digits), one the current kWh. A history register is a real kWh
number on the same display and must never pass as the current reading.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from meterdata.synth import render_photo
from tests.vision.photos import jpeg
from vision import Meter, read, verify
from vision.image import decode_photo

REAL = Path(__file__).resolve().parents[2] / "datasets" / "real-photos-lt"
METER = Meter(5, 0)  # what the consumer record of this meter says: 5 digits, whole kWh


def _real() -> list[tuple[dict, bytes]]:
    rows = [json.loads(line) for line in (REAL / "manifest.jsonl").read_text().splitlines()]
    return [(row, (REAL / row["image"]).read_bytes()) for row in rows]


REAL_PHOTOS = _real()
CURRENT = next((row, data) for row, data in REAL_PHOTOS if row["mode"] == "kwh")
HISTORY = [(row, data) for row, data in REAL_PHOTOS if row["mode"] == "history"]


def test_the_current_register_is_read_right() -> None:
    row, data = CURRENT
    for meter in (None, METER):
        reading = read(data, meter)
        assert reading.readable, reading.messages
        assert (reading.digits, reading.decimals, reading.mode) == (row["digits"], 0, "kwh")


@pytest.mark.parametrize("row,data", HISTORY, ids=[row["image"] for row, _ in HISTORY])
def test_a_history_register_is_not_taken_for_the_current_reading(row, data) -> None:
    reading = read(data)
    assert not reading.readable and reading.mode == "history", (reading.digits, reading.mode)
    assert reading.reason == "display_mode_history"
    # Typing the history value does not confirm it as the reading.
    result = verify(data, str(int(row["digits"])), METER)
    assert result.typed_verdict != "matches"


def test_the_register_is_chosen_over_a_longer_handwritten_number() -> None:
    """Photo 6 has ``170724371630`` written on the meter, bigger as a number than the register."""
    row, data = next((r, d) for r, d in REAL_PHOTOS if r["digits"] == "16167")
    assert read(data).digits == "16167"


def test_a_tight_crop_of_the_display_is_read() -> None:
    row, data = CURRENT
    photo = decode_photo(data)
    reading = read(data)
    quad = np.array(reading.display["quad"]) / photo.scale
    x0, y0 = quad.min(0).astype(int)
    x1, y1 = quad.max(0).astype(int)
    pad = (y1 - y0) // 3
    crop = photo.image[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
    tight = read(jpeg(crop))
    assert tight.readable and tight.digits == row["digits"], (tight.digits, tight.reason)


def test_a_tight_crop_of_a_drum_counter_is_read() -> None:
    for index in range(80):
        data, sample = render_photo(777, index, (1280, 960))
        drum = sample.readable and sample.mode == "kwh" and sample.kind == "drum" and sample.quad
        if drum and read(data).digits == sample.digits:  # a drum the whole photo is read right from
            break
    else:
        pytest.fail("no drum photo read right whole")
    photo = decode_photo(data)
    quad = np.array(sample.quad, np.float32) / photo.scale
    x0, y0 = quad.min(0).astype(int)
    x1, y1 = quad.max(0).astype(int)
    crop = photo.image[max(0, y0 - 4) : y1 + 4, max(0, x0 - 4) : x1 + 4]
    tight = read(jpeg(crop))
    assert tight.digits == sample.digits, (tight.digits, tight.reason)


def test_a_serial_number_larger_than_the_reading_is_not_read() -> None:
    """A long serial number printed above the display, in bigger type than the register, is a distractor."""
    row, data = CURRENT
    photo = decode_photo(data)
    image = photo.image.copy()
    reading = read(data)
    quad = np.array(reading.display["quad"]) / photo.scale
    x0, y0 = quad.min(0).astype(int)
    cv2.putText(
        image,
        "SR 40281733915",
        (max(0, x0 - 150), max(40, y0 - 120)),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.6,
        (20, 20, 20),
        4,
        cv2.LINE_AA,
    )
    got = read(jpeg(image))
    assert got.digits == row["digits"], got.digits


TYPING_MISTAKES = {
    "one_digit_wrong": lambda t: t[:2] + str((int(t[2]) + 1) % 10) + t[3:],
    "adjacent_digits_swapped": lambda t: t[:1] + t[2] + t[1] + t[3:],
    "digit_left_out": lambda t: t[:-1],
    "decimal_shifted": lambda t: t[:-1] + "." + t[-1],
}


@pytest.mark.parametrize("mistake", TYPING_MISTAKES)
def test_verify_refuses_each_kind_of_typing_mistake_on_the_real_photo(mistake) -> None:
    row, data = CURRENT
    true = verify(data, row["digits"], METER)
    assert true.typed_verdict == "matches" and true.typed_probability >= 0.9
    typed = TYPING_MISTAKES[mistake](row["digits"])
    assert typed != row["digits"]
    result = verify(data, typed, METER)
    assert result.typed_verdict == "differs", (typed, result.typed_probability, result.typed_reason)


def test_verify_refuses_typing_mistakes_on_synthetic_photos() -> None:
    checked = 0
    for index in range(60):
        data, sample = render_photo(4243, index, (1024, 768))
        if not (sample.readable and sample.mode == "kwh" and sample.digits) or not sample.value:
            continue
        meter = Meter(len(sample.digits), sample.decimals)
        truth = verify(data, sample.value, meter)
        if truth.typed_verdict != "matches":
            continue
        checked += 1
        whole = sample.value.replace(".", "")
        for typed in (
            whole[:-2] + str((int(whole[-2]) + 3) % 10) + whole[-1],
            whole[:-2] + whole[-1] + whole[-2] if whole[-1] != whole[-2] else whole + "1",
        ):
            value = typed[: len(typed) - sample.decimals] + (
                "." + typed[-sample.decimals :] if sample.decimals else ""
            )
            result = verify(data, value, meter)
            assert result.typed_verdict != "matches", (sample.value, value, result.typed_probability)
        if checked == 6:
            break
    assert checked >= 4, "too few synthetic photos confirmed to test mistakes on"


def test_cli_verify_json_contract(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from meterverify.cli import app

    row, data = CURRENT
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(data)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    pairs = [f"{photo}={row['digits']}@5.0", f"{photo}={row['digits'][:-1]}9@5.0", f"{photo}={row['digits']}"]
    result = CliRunner().invoke(
        app, ["verify", "--json", *pairs, f"{bad}=123", f"{photo}=12a4", f"{photo}=1@9.9"]
    )
    assert result.exit_code == 1, result.output  # the malformed pairs fail; the others are still answered
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert len(lines) == 6
    right, wrong, blind, unreadable, bad_typed, bad_meter = lines
    for line in (right, wrong, blind, unreadable):
        assert {
            "path",
            "digits",
            "value",
            "confidence",
            "typed",
            "typed_probability",
            "typed_verdict",
        } <= set(line)
    assert right["typed_verdict"] == "matches" and right["typed"] == row["digits"]
    assert wrong["typed_verdict"] == "differs" and wrong["typed_probability"] < 0.1
    assert blind["typed_verdict"] == "matches"  # no meter given: the display alone decides
    assert unreadable["typed_verdict"] == "unsure" and unreadable["reason"] == "not_an_image"
    assert "not a meter reading" in bad_typed["error"] and "meter spec" in bad_meter["error"]


def test_verify_in_code_refuses_a_malformed_typed_value() -> None:
    with pytest.raises(ValueError, match="not a meter reading"):
        verify(CURRENT[1], "12,34,5")
