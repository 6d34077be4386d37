"""Two readers, one reading: the digit string that both explain best, by their summed CTC log-likelihoods.

Each reader's own best string is only its opinion; the string that maximises ``log P_a(s) + w log P_b(s)``
over both opinions and every string one edit from either is the joint reading, and each digit's confidence
is its posterior against the nine other figures in its place under the same joint score.
"""

from __future__ import annotations

import numpy as np

from .ctc import ctc_log_likelihoods
from .ppocr import DOT


def digit_log_probs(probs: np.ndarray) -> np.ndarray:
    """Folded probabilities ``(T, 13)`` -> log-probabilities over blank and the ten digits (a point is no digit)."""
    folded = np.concatenate([probs[:, :1] + probs[:, DOT : DOT + 1], probs[:, 1:DOT]], axis=1)
    return np.log(np.clip(folded, 1e-9, 1.0))


def neighbours(strings: set[str]) -> set[str]:
    """Every string one digit edit (change, swap of neighbours, deletion, insertion) from any of ``strings``."""
    out: set[str] = set()
    for s in strings:
        for i in range(len(s)):
            out.update(s[:i] + d + s[i + 1 :] for d in "0123456789")
            out.add(s[:i] + s[i + 1 :])
            if i + 1 < len(s):
                out.add(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
        for i in range(len(s) + 1):
            out.update(s[:i] + d + s[i:] for d in "0123456789")
    return {r for r in out if r} - strings


def _scores(views: list[tuple[np.ndarray, float]], strings: list[str]) -> np.ndarray:
    labels = [[int(c) + 1 for c in s] for s in strings]
    return sum(w * ctc_log_likelihoods(digit_log_probs(p), labels) for p, w in views)


def joint_reading(views: list[tuple[np.ndarray, float]], opinions: set[str]) -> tuple[str, list[float]]:
    """The joint best digit string among the opinions and their neighbours, and its per-digit confidences."""
    opinions = {o for o in opinions if o}
    candidates = sorted(opinions | neighbours(opinions))
    best = candidates[int(np.argmax(_scores(views, candidates)))]
    confidences = []
    for i in range(len(best)):
        figures = [best[:i] + d + best[i + 1 :] for d in "0123456789"]
        scores = _scores(views, figures)
        p = np.exp(scores - np.logaddexp.reduce(scores))
        confidences.append(round(float(p[int(best[i])]), 4))
    return best, confidences
