"""The digit reader at serving time: MeterCRNN through ONNX Runtime, CTC-decoded with confidences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..runtime import session
from .charset import INPUT_HEIGHT, MODES
from .ctc import greedy_decode, rolling_pair, softmax

WEIGHTS = Path(__file__).parent / "weights" / "reader.onnx"


@dataclass(frozen=True)
class StripReading:
    text: str  # as read, with '.' where the decimal point (or red drums) starts
    digits: str  # the digits only
    decimals: int
    digit_confidences: list[float]
    # Per digit: (lower, upper) when a drum is caught between two consecutive values, else None.
    rolling: list[tuple[str, str] | None] = field(default_factory=list)
    mode: str = "kwh"
    mode_confidence: float = 1.0
    # Per-frame probabilities in PP-OCRv4's folded layout (blank, digits, '.', other): ``(T, 13)``, for
    # settling the digits jointly with PP-OCRv4 and for verifying a typed value.
    probs: np.ndarray | None = field(default=None, repr=False, compare=False)


def prepare(strip: np.ndarray) -> np.ndarray:
    """A strip (any height, BGR or grey) -> the reader's input: grey, 32 high, [-1, 1], padded as easyocr does."""
    grey = cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY) if strip.ndim == 3 else strip
    h, w = grey.shape
    if h != INPUT_HEIGHT:
        width = max(1, math.ceil(INPUT_HEIGHT * w / h))
        grey = cv2.resize(
            grey, (width, INPUT_HEIGHT), interpolation=cv2.INTER_AREA if h > INPUT_HEIGHT else cv2.INTER_CUBIC
        )
    padded_w = math.ceil(grey.shape[1] / INPUT_HEIGHT) * INPUT_HEIGHT
    x = grey.astype(np.float32) / 127.5 - 1
    if padded_w > x.shape[1]:
        x = np.concatenate([x, np.repeat(x[:, -1:], padded_w - x.shape[1], axis=1)], axis=1)
    return x[None, None]


def interpret(logits: np.ndarray, mode_logits: np.ndarray) -> StripReading:
    """Turn one strip's raw outputs into digits, decimals, confidences and rolling candidates."""
    probs = softmax(logits)
    chars = greedy_decode(probs)
    text = "".join(c.char for c in chars)
    digits = [c for c in chars if c.char != "."]
    dot = text.find(".")
    decimals = len(text) - dot - 1 if dot >= 0 and text.count(".") == 1 else 0
    rolling = [rolling_pair(c) for c in digits]
    mode_p = softmax(mode_logits)
    return StripReading(
        text=text,
        digits="".join(c.char for c in digits),
        decimals=decimals,
        digit_confidences=[round(c.confidence, 4) for c in digits],
        rolling=rolling,
        mode=MODES[int(mode_p.argmax())],
        mode_confidence=float(mode_p.max()),
        probs=np.concatenate([probs, np.full((len(probs), 1), 1e-7, probs.dtype)], axis=1),
    )


class DigitReader:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        self.session = session(weights)

    def read(self, strip: np.ndarray) -> StripReading:
        logits, mode_logits = self.session.run(None, {"image": prepare(strip)})
        return interpret(logits[0], mode_logits[0])
