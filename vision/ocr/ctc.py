"""Greedy CTC decoding with per-character confidence and a runner-up per character (for rolling drums)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .charset import BLANK, CHARS

# A runner-up this likely means the digit is between two values (a rolling drum), not a misread.
ROLLING_RUNNER_UP = 0.2


@dataclass(frozen=True)
class DecodedChar:
    char: str
    confidence: float  # probability of this character at its most confident frame
    runner_up: str | None  # the second most likely character there, if any
    runner_up_p: float
    frame: int


def rolling_pair(c: DecodedChar) -> tuple[str, str] | None:
    """(lower, upper) when a drum digit is caught between two consecutive figures, else None."""
    alt = c.runner_up
    if alt is None or not alt.isdigit() or not c.char.isdigit() or c.runner_up_p < ROLLING_RUNNER_UP:
        return None
    step = (int(alt) - int(c.char)) % 10
    return (c.char, alt) if step == 1 else (alt, c.char) if step == 9 else None


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def greedy_decode(probs: np.ndarray, alphabet: str = CHARS) -> list[DecodedChar]:
    """Decode one sequence of per-frame class probabilities ``(T, C)``; class i + 1 is ``alphabet[i]``.

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
                    alphabet[c - 1],
                    p,
                    alphabet[alt - 1] if row[alt] > 0 else None,
                    float(max(row[alt], 0)),
                    frame,
                )
            )
        t = end + 1
    return out


def ctc_log_likelihoods(log_probs: np.ndarray, labels: list[list[int]]) -> np.ndarray:
    """``log P(label | frames)`` under CTC for each label sequence, given per-frame log-probabilities ``(T, C)``.

    The forward algorithm (Graves et al., 2006), batched over the labels of each length: a few hundred
    candidate readings of one strip cost a few milliseconds. Class 0 is the blank.
    """
    out = np.full(len(labels), -np.inf)
    by_length: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_length.setdefault(len(label), []).append(i)
    for length, rows in by_length.items():
        if length == 0:
            out[rows] = log_probs[:, BLANK].sum()
            continue
        lab = np.array([labels[i] for i in rows])  # (R, L)
        ext = np.zeros((len(rows), 2 * length + 1), int)  # blank, l1, blank, l2, ..., blank
        ext[:, 1::2] = lab
        # A skip from s-2 to s is allowed onto a label that differs from the one two places back.
        skip = np.zeros(ext.shape, bool)
        skip[:, 3::2] = lab[:, 1:] != lab[:, :-1]
        alpha = np.full(ext.shape, -np.inf)
        alpha[:, 0] = log_probs[0, BLANK]
        alpha[:, 1] = log_probs[0, ext[:, 1]]
        for t in range(1, log_probs.shape[0]):
            prev1 = np.concatenate([np.full((len(rows), 1), -np.inf), alpha[:, :-1]], axis=1)
            prev2 = np.concatenate([np.full((len(rows), 2), -np.inf), alpha[:, :-2]], axis=1)
            prev2 = np.where(skip, prev2, -np.inf)
            alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + log_probs[t, ext]
        out[rows] = np.logaddexp(alpha[:, -1], alpha[:, -2])
    return out
