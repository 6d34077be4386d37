"""Greedy CTC decoding with per-character confidence and a runner-up per character (for rolling drums)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .charset import BLANK, CHARS


@dataclass(frozen=True)
class DecodedChar:
    char: str
    confidence: float  # probability of this character at its most confident frame
    runner_up: str | None  # the second most likely character there, if any
    runner_up_p: float
    frame: int


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def greedy_decode(probs: np.ndarray) -> list[DecodedChar]:
    """Decode one sequence of per-frame class probabilities ``(T, C)``.

    A character spans consecutive frames with the same best class; its confidence is the best probability
    over those frames, its runner-up the best other non-blank class at that frame.
    """
    best = probs.argmax(axis=1)
    out: list[DecodedChar] = []
    t = 0
    n = len(best)
    while t < n:
        c = int(best[t])
        end = t
        while end + 1 < n and best[end + 1] == c:
            end += 1
        if c != BLANK:
            span = probs[t : end + 1]
            frame = t + int(span[:, c].argmax())
            row = probs[frame].copy()
            p = float(row[c])
            row[[BLANK, c]] = -1
            alt = int(row.argmax())
            out.append(
                DecodedChar(
                    CHARS[c - 1], p, CHARS[alt - 1] if row[alt] > 0 else None, float(max(row[alt], 0)), frame
                )
            )
        t = end + 1
    return out
