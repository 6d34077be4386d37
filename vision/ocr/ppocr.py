"""The pretrained PP-OCRv4 text recognizer, folded to what a meter shows: digits, the decimal point, other.

The network (SVTR-LCNet, CTC over 6,623 characters, trained on millions of real text lines) comes from the
``rapidocr_onnxruntime`` 1.4.4 wheel (Apache-2.0, see ``vision/third_party/PPOCR.md``). Its per-frame distribution is
folded into ours: blank (the space joins it: a gap between drums is not a character), ``0``-``9``, ``.``,
and one "other" class holding every other character, so a serial number's letters or a ``kWh`` label count
against a region being the reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..runtime import session
from .ctc import DecodedChar, greedy_decode

WEIGHTS = Path(__file__).parent / "weights" / "ppocrv4_rec.onnx"
HEIGHT = 48
MAX_WIDTH = HEIGHT * 16
BATCH = 8
# Folded classes: 0 blank, 1-10 digits, 11 '.', 12 other (shown as '?').
FOLDED = "0123456789.?"
DOT, OTHER = 11, 12


@dataclass(frozen=True)
class TextLine:
    """One crop as the recognizer saw it."""

    probs: np.ndarray  # (T, 13) folded per-frame probabilities
    chars: list[DecodedChar]  # greedy decode; '?' is any character that is not a digit or '.'
    raw: str  # the best path over every character the network knows (for people and for labels)

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)


def fold(probs: np.ndarray, keep: np.ndarray, space: int) -> np.ndarray:
    """The network's per-frame distribution ``(T, 6625)`` folded to ``(T, 13)``: blank (with the space),
    the classes ``keep`` (digits, '.'), and "other" for the rest."""
    folded = np.empty((len(probs), len(FOLDED) + 1), np.float32)
    folded[:, 0] = probs[:, 0] + probs[:, space]
    folded[:, 1:OTHER] = probs[:, keep]
    folded[:, OTHER] = np.clip(1.0 - folded[:, :OTHER].sum(1), 1e-7, 1.0)
    return folded


class TextRecognizer:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        self.session = session(weights)
        chars = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        index = {c: i + 1 for i, c in enumerate(chars)}  # class 0 is the blank, the last class a space
        self.keep = np.array([index[c] for c in FOLDED[:-1]])
        self.space = len(chars) + 1
        self.vocabulary = ["", *chars, " "]

    def read(self, crops: list[np.ndarray]) -> list[TextLine]:
        """Read BGR crops (any size; each is scaled to 48 pixels high), batched by similar width."""
        widths = [
            min(MAX_WIDTH, max(HEIGHT, math.ceil(HEIGHT * c.shape[1] / max(1, c.shape[0])))) for c in crops
        ]
        order = sorted(range(len(crops)), key=widths.__getitem__)
        lines: list[TextLine | None] = [None] * len(crops)
        while order:
            # Padding to the widest crop of a batch costs time: batch crops within 30% of each other's width.
            batch = [i for i in order[:BATCH] if widths[i] <= 1.3 * widths[order[0]]]
            order = order[len(batch) :]
            for i, line in zip(
                batch, self._run([crops[i] for i in batch], [widths[i] for i in batch]), strict=True
            ):
                lines[i] = line
        return lines  # type: ignore[return-value]

    def _run(self, crops: list[np.ndarray], widths: list[int]) -> list[TextLine]:
        batch = np.zeros((len(crops), 3, HEIGHT, max(widths)), np.float32)
        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            if crop.ndim == 2:
                crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
            interpolation = cv2.INTER_AREA if crop.shape[0] > HEIGHT else cv2.INTER_CUBIC
            resized = cv2.resize(crop, (w, HEIGHT), interpolation=interpolation)
            batch[i, :, :, :w] = (resized.astype(np.float32) / 127.5 - 1).transpose(2, 0, 1)
        (probs,) = self.session.run(None, {"x": batch})
        lines = []
        for p, w in zip(probs, widths, strict=True):
            p = p[: max(1, round(p.shape[0] * w / batch.shape[3]))]  # drop the padding's frames
            folded = fold(p, self.keep, self.space)
            best = p.argmax(1)
            raw = "".join(
                self.vocabulary[b] for i, b in enumerate(best) if b and (i == 0 or b != best[i - 1])
            )
            lines.append(TextLine(folded, greedy_decode(folded, FOLDED), raw))
        return lines
