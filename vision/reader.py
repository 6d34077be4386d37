"""``read(image_bytes) -> MeterReading``: the one inference path, used by the CLI, the service and the benchmarks.

photo bytes -> upright, reduced-scale decode -> display quad -> rectified strip (re-decoded sharper if the
display is small) -> digits, decimals, per-digit confidence, display mode -> quality flags -> calibrated
confidence that the whole reading is right.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from .detect import DisplayDetector
from .geometry import quad_size, rectify
from .image import ImageError, Photo, decode_photo
from .ocr import DigitReader
from .ocr.charset import INPUT_HEIGHT
from .phash import phash
from .quality import check_strip

CALIBRATION = Path(__file__).parent / "ocr" / "weights" / "calibration.json"
# Rectify from at least as many source pixels of display height as the reader uses, re-decoding a reduced
# JPEG larger only when the display is smaller than that (a second decode costs as much as the first).
MIN_SOURCE_HEIGHT = INPUT_HEIGHT
# Below this calibrated confidence a reading is not offered as readable at all.
UNREADABLE_BELOW = 0.2


@dataclass
class MeterReading:
    digits: str | None = None
    decimals: int = 0
    value: str | None = None
    confidence: float = 0.0
    raw_confidence: float = 0.0  # before calibration: product of digit, mode and detection confidences
    digit_confidences: list[float] = field(default_factory=list)
    rolling: list[list[str] | None] = field(default_factory=list)
    display: dict | None = None
    mode: str | None = None
    quality: list[str] = field(default_factory=list)
    readable: bool = False
    reason: str | None = None
    messages: list[str] = field(default_factory=list)
    photo_hash: str | None = None  # 64-bit perceptual hash (hex), for spotting a photo sent again
    ms: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def reading_value(digits: str, decimals: int) -> str:
    whole = (digits[: len(digits) - decimals] if decimals else digits).lstrip("0") or "0"
    return f"{whole}.{digits[len(digits) - decimals :]}" if decimals else whole


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

    def __init__(self) -> None:
        self.detector = DisplayDetector()
        self.reader = DigitReader()
        self.calibrate = Calibrator()

    def read(self, data: bytes) -> MeterReading:
        start = time.perf_counter()
        result = self._read(data)
        result.ms = round((time.perf_counter() - start) * 1000, 1)
        return result

    def _read(self, data: bytes) -> MeterReading:
        try:
            photo = decode_photo(data)
        except ImageError as e:
            return MeterReading(quality=[e.reason], reason=e.reason, messages=[str(e)])
        result = self._read_photo(photo)
        result.photo_hash = f"{phash(photo.image):016x}"
        return result

    def _read_photo(self, photo: Photo) -> MeterReading:
        found = self.detector.detect(photo.image)
        if found is None:
            return MeterReading(
                quality=["no_display"], reason="no_display", messages=["no meter display found in the photo"]
            )
        image, quad = self._source_for(photo, found.quad)
        strip = rectify(image, quad, INPUT_HEIGHT)
        flags = check_strip(rectify(image, quad, 2 * INPUT_HEIGHT))
        strip_reading = self.reader.read(strip)
        scale = photo.width / image.shape[1]
        display = {
            "quad": [[round(float(x) * scale, 1), round(float(y) * scale, 1)] for x, y in quad],
            "score": round(found.score, 4),
        }
        result = MeterReading(
            digits=strip_reading.digits or None,
            decimals=strip_reading.decimals,
            value=reading_value(strip_reading.digits, strip_reading.decimals)
            if strip_reading.digits
            else None,
            digit_confidences=strip_reading.digit_confidences,
            rolling=[list(r) if r else None for r in strip_reading.rolling],
            display=display,
            mode=strip_reading.mode,
            quality=[f.code for f in flags],
            messages=[f.message for f in flags],
        )
        raw = (
            math.prod(strip_reading.digit_confidences) * strip_reading.mode_confidence * found.score
            if strip_reading.digits
            else 0.0
        )
        result.raw_confidence = round(raw, 4)
        result.confidence = round(self.calibrate(raw), 4)
        if not strip_reading.digits or strip_reading.mode == "none":
            result.reason = "no_digits"
            result.messages.append("no digits could be read on the display")
        elif strip_reading.mode != "kwh":
            result.reason = f"display_mode_{strip_reading.mode}"
            result.messages.append(
                f"the display shows {strip_reading.mode.replace('_', ' ')}, not the kWh reading"
            )
        elif result.confidence < UNREADABLE_BELOW:
            result.reason = "low_confidence"
            result.messages.append("the digits cannot be read with any confidence")
        else:
            result.readable = True
        return result

    @staticmethod
    def _source_for(photo: Photo, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The image to cut the display from: the decoded one, or a sharper decode when the display is small."""
        _, height = quad_size(quad)
        factor = photo.factor
        while factor > 1 and height * photo.factor / factor < MIN_SOURCE_HEIGHT:
            factor //= 2
        if factor == photo.factor:
            return photo.image, quad
        image = photo.at_factor(factor)
        return image, quad * (image.shape[1] / photo.image.shape[1])


@cache
def default_reader() -> MeterReader:
    return MeterReader()


def read(data: bytes) -> MeterReading:
    """Read one photo with the shipped models (loaded on first use)."""
    return default_reader().read(data)
