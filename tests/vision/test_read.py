"""The shipped models end to end: whole photos in, readings out; bad input never crashes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from meterdata.strips import nearest_digits
from meterdata.synth import render_photo
from meterverify.cli import app
from tests.vision import photos
from vision import read
from vision.geometry import on_display

SEED = 31337  # never used for training (training used 100 and 200)


@pytest.fixture(scope="module")
def synthetic():
    return [render_photo(SEED, i, (1024, 768)) for i in range(60)]


def _correct(sample, reading) -> bool:
    return reading.digits in (sample.digits, nearest_digits(sample)) and reading.decimals == sample.decimals


def test_reads_unseen_synthetic_photos(synthetic) -> None:
    target = [(data, s) for data, s in synthetic if s.readable and s.mode == "kwh"]
    results = [(s, read(data)) for data, s in target]
    assert len(target) >= 25
    right = [_correct(s, r) for s, r in results]
    assert np.mean(right) >= 0.7, [(s.digits, r.digits) for s, r in results]
    for _, r in results:
        assert 0 <= r.confidence <= 1 and len(r.digit_confidences) == len(r.digits or "")
    # The region read is the register: it lies on the labelled display (it may be tighter than the window).
    hits = [
        r.display is not None and on_display(np.array(r.display["quad"]), np.array(s.quad))
        for s, r in results
    ]
    assert np.mean(hits) >= 0.8
    confident = [ok for ok, (_, r) in zip(right, results, strict=True) if r.confidence >= 0.9]
    assert confident and np.mean(confident) >= 0.95, "confident readings must be right"


def test_photos_without_a_meter_are_not_readable(synthetic) -> None:
    negatives = [read(data) for data, s in synthetic if s.kind == "other"]
    negatives += [read(photos.jpeg(np.full((600, 800, 3), v, np.uint8))) for v in (30, 128, 220)]
    assert negatives
    assert sum(r.readable and r.confidence >= 0.9 for r in negatives) == 0


def test_distractor_display_modes_are_not_readings() -> None:
    found = []
    for i in range(400):
        data, s = render_photo(SEED + 1, i, (1024, 768))
        if s.readable and s.mode in ("date", "time", "kw_md"):
            found.append((s, read(data)))
        if len(found) >= 6:
            break
    assert found
    flagged = [r for _, r in found if not r.readable and r.reason and r.reason.startswith("display_mode_")]
    assert len(flagged) >= len(found) // 2, [(s.mode, r.mode, r.reason) for s, r in found]


@pytest.mark.parametrize(
    "make",
    [
        lambda img: b"hello, this is not a photo",
        lambda img: photos.jpeg(img)[:5000],
        lambda img: photos.jpeg(np.zeros((1, 1, 3), np.uint8)),
        lambda img: photos.huge_jpeg(10000, 10000),
        lambda img: photos.huge_jpeg(20000, 12000),
        lambda img: b"",
    ],
    ids=["not-an-image", "truncated", "1x1", "100-megapixel", "240-megapixel", "empty"],
)
def test_bad_input_gives_a_reason_not_a_crash(synthetic, make) -> None:
    image = cv2.imdecode(np.frombuffer(synthetic[0][0], np.uint8), cv2.IMREAD_COLOR)
    result = read(make(image))
    assert result.readable is False and result.reason and result.messages


def test_other_formats_read_like_the_jpeg(synthetic) -> None:
    data, sample = next(
        (d, s) for d, s in synthetic if s.readable and s.mode == "kwh" and _correct(s, read(d))
    )
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    for variant in (photos.png_with_alpha(image), photos.cmyk_jpeg(image), photos.heic(image)):
        result = read(variant)
        assert result.display is not None
        assert result.digits == read(data).digits


def test_exif_rotated_photo_reads_upright(synthetic) -> None:
    data, sample = next(
        (d, s) for d, s in synthetic if s.readable and s.mode == "kwh" and _correct(s, read(d))
    )
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    stored_sideways = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)  # the camera saved it rotated...
    result = read(photos.jpeg_with_orientation(stored_sideways, 6))  # ...and said so in EXIF
    assert _correct(sample, result)


def test_serving_never_imports_torch(tmp_path: Path, synthetic) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(synthetic[0][0])
    code = (
        f"import sys, vision; vision.read(open({str(photo)!r}, 'rb').read()); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_cli_read_json_contract_and_debug(tmp_path: Path, synthetic) -> None:
    paths = []
    for i, (data, _) in enumerate(synthetic[:3]):
        p = tmp_path / f"photo{i}.jpg"
        p.write_bytes(data)
        paths.append(str(p))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    result = CliRunner().invoke(app, ["read", *paths, str(bad), "--json", "--debug", str(tmp_path / "debug")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["path"] for line in lines] == [*paths, str(bad)]
    keys = {
        "path",
        "digits",
        "decimals",
        "value",
        "confidence",
        "digit_confidences",
        "display",
        "quality",
        "readable",
        "ms",
    }
    for line in lines:
        assert keys <= set(line)
        assert line["display"] is None or len(line["display"]["quad"]) == 4
    assert lines[-1]["readable"] is False and lines[-1]["reason"] == "not_an_image"
    assert any((tmp_path / "debug").glob("*.annotated.jpg"))
    human = CliRunner().invoke(app, ["read", paths[0]])
    assert human.exit_code == 0 and "ms" in human.output


def test_demo_command_reads_what_it_renders(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--n", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count(" truth ") == 3 and "as labelled" in result.output
    assert (tmp_path / "demo" / "contact-sheet.png").is_file()
    assert len(list((tmp_path / "demo" / "read").glob("*.annotated.jpg"))) == 3


def test_our_reader_alone_never_claims_the_confidence_of_two_readers_agreeing() -> None:
    """A reading only our own CRNN made (PP-OCRv4 found no register there, or read another number) stays
    below the confidence that lets a reading stand without a person, however sure the CRNN is."""
    from vision.reader import ALONE_AT_MOST, Own, default_reader
    from vision.reading import MeterReading

    reader = default_reader()
    sure = MeterReading(digits="012345", decimals=1, value="01234.5", confidence=0.99, readable=True)
    reading, _ = reader._combine(None, None, Own(sure, np.zeros((10, 13), np.float32)))  # type: ignore[arg-type]
    assert reading.value == "01234.5" and reading.confidence == ALONE_AT_MOST < 0.9
    assert sure.confidence == 0.99  # the CRNN's own view (verify's fast path) is left as it was


@pytest.mark.parametrize(
    ("suffix", "mode"),
    [("6B", "history"), ("H1", "history"), ("MD", "kw_md"), ("kW", "kw_md"), ("kWh", "kwh"), ("", "kwh")]
    + [(one, "kwh") for one in ("2", "8", "H", "B", "0.")],
)
def test_a_register_index_has_two_characters_or_more(suffix: str, mode: str) -> None:
    """One character beside a register (a drum's own edge, the next drum, a mark) is no register index: drum
    meters are not taken for a billing-history screen."""
    from vision.locate import Candidate, display_mode
    from vision.ocr.ctc import DecodedChar
    from vision.ocr.ppocr import TextLine

    chars = [DecodedChar(c, 0.99, None, 0.0, i) for i, c in enumerate("012345")]
    line = TextLine(np.zeros((6, 13), np.float32), chars, "012345")
    region = Candidate(np.zeros((4, 2), np.float32), "text", line, np.zeros((48, 200, 3), np.uint8), 0, 6)
    region.suffix = suffix
    assert display_mode(region) == mode


def _line(text: str, sure: float = 0.97):
    """A recognizer's line that reads ``text``: each character on a frame of its own, blanks between."""
    from vision.ocr.ctc import greedy_decode
    from vision.ocr.ppocr import FOLDED, TextLine

    probs = np.full((2 * len(text) + 1, 13), (1 - sure) / 12, np.float32)
    probs[::2, 0] = sure  # blanks
    for i, ch in enumerate(text):
        probs[2 * i + 1, 1 + FOLDED.index(ch)] = sure
    probs[1::2, 0] = (1 - sure) / 12
    return TextLine(probs, greedy_decode(probs, FOLDED), text)


def test_the_decimals_come_from_the_reader_whose_digits_were_settled_on() -> None:
    """The pretrained recognizer dropped the last figure and the point; the meter recognizer read both: the
    register settled on its digits keeps its decimals (the two-decimal LCD is not read as an integer)."""
    from vision.locate import digit_run
    from vision.ocr.ctc import greedy_decode
    from vision.ocr.model import StripReading
    from vision.ocr.ppocr import FOLDED, TextLine
    from vision.reader import default_reader

    faint = _line("0000641").probs  # the last figure, thin, mostly taken for a gap
    faint[-2, 0], faint[-2, 2] = 0.6, 0.38
    general, meter = TextLine(faint, greedy_decode(faint, FOLDED), "000064"), _line("00006.41")
    assert general.text == "000064"
    nobody = StripReading("", "", 0, [])
    digits, _, decimals, _ = default_reader().settle_digits(
        general, general.chars[slice(*digit_run(general.chars))], meter, nobody
    )
    assert (digits, decimals) == ("0000641", 2)


@pytest.mark.parametrize(("source", "independent"), [("text+refined", True), ("detector", False)])
def test_our_reader_agreeing_counts_once(
    monkeypatch: pytest.MonkeyPatch, source: str, independent: bool
) -> None:
    """Our CRNN on our detector's quad agreeing with the reading is independent evidence only when PP-OCRv4
    found the register elsewhere: on our detector's own quad the CRNN's agreement was counted already."""
    from vision.locate import Candidate
    from vision.reader import Own, default_reader
    from vision.reading import MeterReading

    reader = default_reader()
    described = MeterReading(digits="012345", decimals=0, value="012345", confidence=0.4, readable=True)
    described.digit_confidences = [0.999] * 6
    monkeypatch.setattr(reader, "_describe", lambda photo, region: replace(described))
    region = Candidate(
        np.zeros((4, 2), np.float32), source, _line("012345"), np.zeros((48, 200, 3), np.uint8)
    )
    own = MeterReading(digits="012345", decimals=1, value="01234.5", confidence=0.95, readable=True)
    reading, _ = reader._combine(None, region, Own(own, np.zeros((10, 13), np.float32)))  # type: ignore[arg-type]
    # The decimals only our CRNN saw (a red drum's colour) are taken, never with more than one reader's confidence.
    assert reading.decimals == 1 and reading.confidence <= 0.85
    monkeypatch.setattr(reader, "_describe", lambda photo, region: replace(described, decimals=1))
    reading, _ = reader._combine(None, region, Own(own, np.zeros((10, 13), np.float32)))  # type: ignore[arg-type]
    assert reading.confidence == (0.95 if independent else 0.4)
