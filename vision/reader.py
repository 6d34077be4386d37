"""``read(image_bytes) -> MeterReading``: the one inference path, used by the CLI, the service and the benchmarks.

photo bytes -> upright, reduced-scale decode -> display quad -> rectified strip (re-decoded sharper if the
display is small) -> digits, decimals, per-digit confidence, display mode -> quality flags -> calibrated
confidence that the whole reading is right.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from .detect import DisplayDetector, DisplayQuad
from .detect.text import TextDetector
from .geometry import order_quad, quad_size, rectify, widen
from .image import ImageError, Photo, decode_photo
from .locate import (
    WHOLE_ASPECT,
    Candidate,
    Locator,
    decimals_of,
    digit_run,
    display_mode,
    red_figures,
    whole_quad,
)
from .ocr import DigitReader
from .ocr.charset import INPUT_HEIGHT
from .ocr.ctc import rolling_pair
from .ocr.joint import joint_reading
from .ocr.model import StripReading
from .ocr.ppocr import TextLine, TextRecognizer
from .phash import phash
from .quality import check_strip
from .rank import Ranker
from .reading import Meter, MeterReading, reading_value
from .verify import MATCHES, Verification, judge, parse_typed

CALIBRATION = Path(__file__).parent / "ocr" / "weights" / "calibration.json"
METER_RECOGNIZER = Path(__file__).parent / "ocr" / "weights" / "meter_rec.onnx"
OWN_CALIBRATION = Path(__file__).parent / "ocr" / "weights" / "calibration_crnn.json"
# Our own reader's calibrated confidence above which it is trusted over PP-OCRv4 when they disagree (it is
# then nearly always right on unseen synthetic photos, and real photos it cannot read do not reach it:
# python -m bench.accuracy).
OWN_TRUSTED = 0.9
# How much more our CRNN's typed-value posterior is doubted than PP-OCRv4's (see vision.verify.combine):
# on synthetic photos (seed 7100, which no benchmark uses) a posterior of 0.98 from it was needed to
# confirm no typing mistake.
CRNN_DOUBT = 5.0
# The weight of our CRNN's log-likelihood beside PP-OCRv4's when the two readings are settled jointly
# (chosen on meter-digits *validation* strips: 1.0 beat 0.5 and 2.0).
JOINT_CRNN_WEIGHT = 1.0
# Rectify from at least as many source pixels of display height as the reader uses, re-decoding a reduced
# JPEG larger only when the display is smaller than that (a second decode costs as much as the first).
MIN_SOURCE_HEIGHT = INPUT_HEIGHT
# A reading of our own reader alone (PP-OCRv4 read nothing there, or another number) claims no more than this:
# its calibration was fitted on synthetic photos, and on real ones it was wrong at 0.94. Only two readers
# agreeing reach the confidence that lets a reading stand without a person.
ALONE_AT_MOST = 0.85
# Below this calibrated confidence a reading is not offered as readable at all.
UNREADABLE_BELOW = 0.2
# ... unless the recognizer is this sure of every digit: the calibration, fitted on synthetic photos, knows
# nothing of real displays our own reader cannot read, where PP-OCRv4 alone is often right.
SURE_DIGIT = 0.8
MIN_REGION = 8  # photo pixels: a region a person marks smaller than this holds no readable register
# The raw confidence (product of digit confidences) is multiplied by these when our own reader did not find
# and read the same digits on its own, but reads them on the same region; or does not read them at all.
SAME_REGION_AGREES = 0.6
NOBODY_AGREES = 0.3
MODE_WORDS = {
    "history": "a billing-history register",
    "kw_md": "the maximum demand (kW MD)",
    "date": "a date",
    "time": "a time",
    "segment_test": "the segment test",
}


@dataclass
class Seen:
    """One photo as the reader saw it: the reading, and what verification looks at again."""

    reading: MeterReading
    region: Candidate | None = None
    photo: Photo | None = None
    found: DisplayQuad | None = None
    own: Own | None = None  # our detector and CRNN alone, on ``found``


@dataclass
class Own:
    """Our own display detector and CRNN's reading, and the CRNN's per-frame probabilities (folded layout)."""

    reading: MeterReading
    probs: np.ndarray


class Calibrator:
    """Maps the raw reading score (product of per-digit confidences) to the probability the reading is right.

    A piecewise-linear map fitted on held-out data (``training/calibrate.py``); identity until fitted.
    """

    def __init__(self, path: Path = CALIBRATION) -> None:
        if path.is_file():
            table = json.loads(path.read_text())
            self.x, self.y = np.array(table["raw"], float), np.array(table["calibrated"], float)
        else:
            self.x, self.y = np.array([0.0, 1.0]), np.array([0.0, 1.0])

    def __call__(self, raw: float) -> float:
        return float(np.interp(raw, self.x, self.y))


class MeterReader:
    """Loads the models once; ``read`` is safe to call from many threads (ONNX Runtime sessions are)."""

    def __init__(
        self,
        reader_weights: Path | None = None,
        version: str = "shipped",
        ranker_weights: Path | None = None,
        meter_weights: Path = METER_RECOGNIZER,
    ) -> None:
        """``reader_weights``: our CRNN's ONNX file, ``ranker_weights`` the register ranker's weights (promoted
        versions; default the shipped ones), ``meter_weights`` the meter recognizer's (a candidate to compare)."""
        self.version = version
        self.detector = DisplayDetector()
        self.crnn = DigitReader(reader_weights) if reader_weights else DigitReader()  # our own digit reader
        # The meter recognizer (PP-OCRv6 small fine-tuned on meter strips) reads the chosen register; the general
        # one finds it (it still knows letters: serial numbers, labels, dates). Absent, the general one reads too.
        self.meter_recognizer = TextRecognizer(meter_weights) if meter_weights.is_file() else None
        drums = (self.meter_recognizer,) if self.meter_recognizer else ()
        ranker = Ranker(ranker_weights) if ranker_weights else Ranker()
        self.locator = Locator(TextDetector(), TextRecognizer(), ranker, drums)
        self.calibrate = Calibrator(CALIBRATION)
        self.calibrate_own = Calibrator(OWN_CALIBRATION)

    def read(self, data: bytes, meter: Meter | None = None) -> MeterReading:
        """Read one photo blind; ``meter`` (digit count, decimals), when known, helps choose the register."""
        start = time.perf_counter()
        result = self._read(data, meter).reading
        result.ms = round((time.perf_counter() - start) * 1000, 1)
        return result

    def verify(self, data: bytes, typed: str, meter: Meter | None = None) -> Verification:
        """Whether the photo shows ``typed`` (see ``vision.verify``); raises ``ValueError`` for a bad ``typed``.

        Ours first: when our own detector and CRNN read the display with confidence and confirm the typed
        value, that is the answer (tens of milliseconds); otherwise the whole path, PP-OCRv4 included.
        """
        parse_typed(typed)  # a malformed typed value is the caller's error, before any work
        start = time.perf_counter()
        seen = self._look(data)
        verification = None
        own = seen.own
        if own is not None and own.reading.readable and own.reading.confidence >= OWN_TRUSTED:
            verification = judge(own.reading, typed, meter, [(own.probs, CRNN_DOUBT)])
            if verification.typed_verdict != MATCHES:
                verification = None
        if verification is None:
            seen = self._finish(seen, meter)
            views = self._views(seen, wider=False)
            verification = judge(seen.reading, typed, meter, views)
            if views and verification.typed_verdict != MATCHES:  # only more looks can still confirm it
                verification = judge(seen.reading, typed, meter, views + self._views(seen, wider=True))
        verification.reading.photo_hash = seen.reading.photo_hash
        verification.reading.ms = round((time.perf_counter() - start) * 1000, 1)
        return verification

    def read_region(self, data: bytes, quad: list[list[float]], meter: Meter | None = None) -> MeterReading:
        """Read the region ``quad`` (photo pixels) as the register: a reviewer picked or marked it as the right
        one. Raises ``ValueError`` for a quad that is not four points on the photo enclosing some text."""
        start = time.perf_counter()
        seen = self._look(data)
        if seen.photo is None:
            return seen.reading
        photo = seen.photo
        working = region_quad(quad, photo.width, photo.height) * (photo.image.shape[1] / photo.width)
        result = self._describe(photo, self.locator.read_quad(photo, working, meter))
        result.photo_hash = seen.reading.photo_hash
        result.ms = round((time.perf_counter() - start) * 1000, 1)
        return result

    def _read(self, data: bytes, meter: Meter | None = None) -> Seen:
        return self._finish(self._look(data), meter)

    def _look(self, data: bytes) -> Seen:
        """Decode the photo, find the display and read it with our own detector and CRNN (cheap; every path
        starts here)."""
        try:
            photo = decode_photo(data)
        except ImageError as e:
            return Seen(MeterReading(quality=[e.reason], reason=e.reason, messages=[str(e)]))
        found = self.detector.detect(photo.image)
        h, w = photo.image.shape[:2]
        if found is None and w >= WHOLE_ASPECT * h:  # a tight crop of the counter: the photo is the display
            found = DisplayQuad(whole_quad(photo.image), 1.0, ())
        own = self._own_reading(photo, found) if found is not None else None
        return Seen(MeterReading(photo_hash=f"{phash(photo.image):016x}"), None, photo, found, own)

    def _finish(self, seen: Seen, meter: Meter | None) -> Seen:
        """The whole read: candidate regions, PP-OCRv4, the combination with our own reader."""
        if seen.photo is None:  # the file could not be decoded: the refusal is the reading
            return seen
        result, region = self._read_photo(seen.photo, meter, seen.found, seen.own)
        result.photo_hash = seen.reading.photo_hash
        return Seen(result, region, seen.photo, seen.found, seen.own)

    def _views(self, seen: Seen, wider: bool) -> list[tuple[np.ndarray, float]]:
        """Looks at the register for verification: (folded per-frame probabilities, doubt).

        First the chosen region as both PP-OCRv4s read it already; ``wider``, the same region wider (a red
        drum or a digit the text box left out) and the display our own detector found, read by both, and that
        display as our CRNN read it (better on drums, trained on them, but overconfident on photos unlike its
        synthetic training set: doubted 5 times more).
        """
        region = seen.region
        if region is None:
            return []
        if not wider:
            return [(line.probs, 1.0) for line in (region.line, region.meter_line) if line is not None]
        quads = [widen(region.quad), *([seen.found.quad] if seen.found is not None else [])]
        strips = [rectify(seen.photo.image, q, 48) for q in quads]
        recognizers = [self.locator.recognizer, *([self.meter_recognizer] if self.meter_recognizer else [])]
        views = [(line.probs, 1.0) for rec in recognizers for line in rec.read(strips)]
        if seen.own is not None:
            views.append((seen.own.probs, CRNN_DOUBT))
        return views

    def _read_photo(
        self, photo: Photo, meter: Meter | None, found: DisplayQuad | None, own_read: Own | None
    ) -> tuple[MeterReading, Candidate | None]:
        """The reading of the best region, with the next best regions named for a reviewer."""
        region, others = self.locator.find(photo, meter, found.quad if found is not None else None)
        scale = photo.width / photo.image.shape[1]
        alternatives = [{"quad": _photo_quad(c.quad, scale), "text": c.text} for c in others]
        result, region = self._combine(photo, region, own_read)
        result.others = alternatives
        return result, region

    def _combine(
        self, photo: Photo, region: Candidate | None, own_read: Own | None
    ) -> tuple[MeterReading, Candidate | None]:
        """Two readers, each on the region it finds best; they are combined by what was measured.

        Our own (display quad + CRNN, trained on synthetic photos) is precise where its calibrated confidence
        is high and knows red decimal drums; PP-OCRv4 (text regions + recognizer, trained on real images)
        finds and reads displays ours never saw. Agreement is the strongest evidence.
        """
        own = own_read.reading if own_read is not None else None
        if region is None:
            if own is not None and own.readable and own.confidence >= OWN_TRUSTED:
                return _alone(own), None
            return MeterReading(
                quality=["no_display"], reason="no_display", messages=["no meter display found in the photo"]
            ), None
        text = self._describe(photo, region)
        if own is None or not own.digits:
            return text, region
        if own.digits.lstrip("0") == (text.digits or "").lstrip("0"):
            if not region.source.startswith("detector"):  # on our detector's quad, _describe counted ours
                # Two readers, each on the region it found itself, read the same: independent evidence.
                text.raw_confidence = round(math.prod(text.digit_confidences), 4)
                text.confidence = round(self.calibrate(text.raw_confidence), 4)
                text.confidence = max(text.confidence, own.confidence)
            if not text.decimals and own.decimals:  # a red decimal drum: ours sees colour cues, PP-OCR not
                text.decimals = own.decimals  # ... ours alone: no more sure than one reader alone
                text.value = reading_value(text.digits, text.decimals)
                text.confidence = min(text.confidence, ALONE_AT_MOST)
            if text.reason == "low_confidence" and text.confidence >= UNREADABLE_BELOW:
                text.readable, text.reason = True, None
                text.messages = [m for m in text.messages if "any confidence" not in m]
            if own.mode not in ("kwh", "none") and text.mode == "kwh":
                # Our CRNN's display-mode head knows the LCD's date, time, MD and segment-test screens.
                text.mode, text.readable, text.reason = own.mode, False, f"display_mode_{own.mode}"
                text.messages.append(
                    f"the display shows {MODE_WORDS.get(own.mode, own.mode)}, not the kWh reading"
                )
            return text, region
        if own.readable and own.confidence >= OWN_TRUSTED and own.confidence > text.confidence:
            return _alone(own), region
        return text, region

    def _own_reading(self, photo: Photo, found: DisplayQuad) -> Own:
        """Our display detector and CRNN alone (the reader before PP-OCRv4 joined it)."""
        image, quad = photo.for_region(found.quad, MIN_SOURCE_HEIGHT)
        strip = self.crnn.read(rectify(image, quad, INPUT_HEIGHT))
        flags = check_strip(rectify(image, quad, 2 * INPUT_HEIGHT))
        scale = photo.width / image.shape[1]
        raw = (
            math.prod(strip.digit_confidences) * strip.mode_confidence * found.score if strip.digits else 0.0
        )
        result = MeterReading(
            digits=strip.digits or None,
            decimals=strip.decimals,
            value=reading_value(strip.digits, strip.decimals) if strip.digits else None,
            raw_confidence=round(raw, 4),
            confidence=round(self.calibrate_own(raw), 4),
            digit_confidences=strip.digit_confidences,
            rolling=[list(r) if r else None for r in strip.rolling],
            display={
                "quad": _photo_quad(quad, scale),
                "score": round(found.score, 4),
                "source": "detector",
            },
            mode=strip.mode,
            quality=[f.code for f in flags],
            messages=[f.message for f in flags],
        )
        result.readable = bool(strip.digits) and strip.mode == "kwh" and result.confidence >= UNREADABLE_BELOW
        if not result.readable:
            result.reason = "no_digits" if not strip.digits else f"display_mode_{strip.mode}"
        return Own(result, strip.probs)

    def settle_digits(
        self, line: TextLine, run: list, meter_line: TextLine | None, second: StripReading
    ) -> tuple[str, list[float], int, list]:
        """The register's digits, their confidences, decimals and rolling figures, settled jointly.

        PP-OCRv4 as pretrained (``line``, its digit ``run``; sure of real LCDs), the meter recognizer
        (``meter_line``; sure of drums and red decimal drums), and our CRNN (``second``) when it reads nearly
        what the pretrained one reads (it misses the thin "1" of real LCDs: measured, letting it join the
        fine-tuned reading instead lost a real register and a point on synthetic photos). The digit string
        with the best summed CTC likelihood wins.
        """
        digit_chars = [c for c in run if c.char.isdigit()]
        digits = "".join(c.char for c in digit_chars)
        confidences = [round(c.confidence, 4) for c in digit_chars]
        decimals = decimals_of("".join(c.char for c in run))
        rolling = [rolling_pair(c) for c in digit_chars]
        views, opinions = [(line.probs, 1.0)], {digits}
        if meter_line is not None and digits:
            meter_run = meter_line.chars[slice(*digit_run(meter_line.chars))]
            meter_digits = "".join(c.char for c in meter_run if c.char.isdigit())
            views.append((meter_line.probs, 1.0))
            opinions.add(meter_digits)
            if not decimals and close_readings(meter_digits, digits):
                decimals = decimals_of("".join(c.char for c in meter_run))
        if close_readings(digits, second.digits):
            views.append((second.probs, JOINT_CRNN_WEIGHT))
            opinions.add(second.digits)
        if len(views) > 1 and digits:
            joint, joint_confidences = joint_reading(views, opinions)
            if len(joint) != len(digits):
                rolling = [None] * len(joint)
            digits, confidences = joint, joint_confidences
            if not decimals and meter_line is not None and joint == meter_digits:
                decimals = decimals_of("".join(c.char for c in meter_run))  # the point of the line settled on
        return digits, confidences, decimals, rolling

    def _describe(self, photo: Photo, region: Candidate) -> MeterReading:
        """The reading of a chosen region: digits, confidences, mode, quality, the second opinion."""
        image, quad = photo.for_region(region.quad, MIN_SOURCE_HEIGHT)
        flags = check_strip(rectify(image, quad, 2 * INPUT_HEIGHT))
        second = self.crnn.read(rectify(image, quad, INPUT_HEIGHT))
        if self.meter_recognizer is not None and region.digits:
            region.meter_line = self.meter_recognizer.read([region.strip])[0]
        digits, confidences, decimals, rolling = self.settle_digits(
            region.line, region.run, region.meter_line, second
        )
        scale = photo.width / photo.image.shape[1]
        mode = display_mode(region)
        result = MeterReading(
            digits=digits or None,
            decimals=decimals,
            value=reading_value(digits, decimals) if digits else None,
            digit_confidences=confidences,
            rolling=[list(r) if r else None for r in rolling],
            display={
                "quad": _photo_quad(region.quad, scale),
                "score": round(float(region.score), 4),
                "source": region.source,
            },
            mode=mode,
            quality=[f.code for f in flags],
            messages=[f.message for f in flags],
        )
        agree = second.digits.lstrip("0") == digits.lstrip("0")
        if agree and not result.decimals and second.decimals and result.digits:
            result.decimals = second.decimals  # a red decimal drum, which our reader was trained to see
            result.value = reading_value(result.digits, result.decimals)
        if not result.decimals and result.digits:
            result.decimals = _red_decimals(region, result.digits)
            result.value = reading_value(result.digits, result.decimals)
        # Our reader on the same region is a second opinion on the digits, not on where the register is.
        raw = math.prod(result.digit_confidences) * (SAME_REGION_AGREES if agree else NOBODY_AGREES)
        result.raw_confidence = round(raw, 4)
        result.confidence = round(self.calibrate(raw), 4)
        if not region.digits:
            result.reason = "no_digits"
            result.messages.append("no digits could be read on the display")
        elif mode != "kwh":
            result.reason = f"display_mode_{mode}"
            result.messages.append(f"the display shows {MODE_WORDS.get(mode, mode)}, not the kWh reading")
        elif result.confidence < UNREADABLE_BELOW and min(result.digit_confidences) < SURE_DIGIT:
            result.reason = "low_confidence"
            result.messages.append("the digits cannot be read with any confidence")
        else:
            result.readable = True
        return result


def region_quad(quad: list, width: int, height: int) -> np.ndarray:
    """A region given by a person, checked: four points (photo pixels) on a ``width`` x ``height`` photo,
    ordered clockwise from top-left, at least ``MIN_REGION`` pixels high and wide."""
    try:
        points = np.asarray(quad, np.float64)
    except (TypeError, ValueError):
        raise ValueError("a region is four points [x, y]") from None
    if points.shape != (4, 2) or not np.isfinite(points).all():
        raise ValueError("a region is four points [x, y]")
    slack = 0.05 * max(width, height)  # a box drawn a little past the edge is still on the photo
    if (
        (points < -slack).any()
        or (points[:, 0] > width + slack).any()
        or (points[:, 1] > height + slack).any()
    ):
        raise ValueError("the region lies outside the photo")
    ordered = order_quad(np.clip(points, 0, (width - 1, height - 1)).astype(np.float32))
    w, h = quad_size(ordered)
    if min(w, h) < MIN_REGION:
        raise ValueError(f"the region is too small to hold a register (under {MIN_REGION} pixels)")
    return ordered


def _alone(own: MeterReading) -> MeterReading:
    """Our own reader's reading as the answer, nobody agreeing: its confidence at most ``ALONE_AT_MOST``."""
    return replace(own, confidence=min(own.confidence, ALONE_AT_MOST))


def _red_decimals(region: Candidate, digits: str) -> int:
    """Decimal drums told by their colour, where a line that read the register's digits placed them."""
    for line in (region.line, region.meter_line):
        if line is not None:
            read, red = red_figures(region.strip, line)
            if read == digits:
                return red
    return 0


def _photo_quad(quad: np.ndarray, scale: float) -> list[list[float]]:
    """A quad of the working image in the photo's own pixels, as stored."""
    return [[round(float(x) * scale, 1), round(float(y) * scale, 1)] for x, y in quad]


def close_readings(a: str, b: str) -> bool:
    """Two readings of one register that differ in at most two figures (not two different registers)."""
    return bool(a) and len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 2


@cache
def default_reader() -> MeterReader:
    return MeterReader()


def read(data: bytes, meter: Meter | None = None) -> MeterReading:
    """Read one photo with the shipped models (loaded on first use)."""
    return default_reader().read(data, meter)


def verify(data: bytes, typed: str, meter: Meter | None = None) -> Verification:
    """Whether the photo shows what the consumer typed: ``typed_probability``, ``typed_verdict``, the reading."""
    return default_reader().verify(data, typed, meter)
