"""Typing mistakes as consumers make them, for measuring that ``vision.verify`` never confirms one."""

from __future__ import annotations

import numpy as np

KINDS = ("one_digit_wrong", "adjacent_digits_swapped", "digit_left_out", "decimal_shifted")


def with_point(digits: str, decimals: int) -> str:
    """``"134149", 1`` -> ``"13414.9"`` (leading zeros dropped, as people type)."""
    whole = digits[: len(digits) - decimals].lstrip("0") or "0"
    return f"{whole}.{digits[len(digits) - decimals :]}" if decimals else whole


def mistake(value: str, kind: str, rng: np.random.Generator) -> str | None:
    """``value`` (as typed right, e.g. ``"13414.9"``) with one mistake of ``kind``; None if impossible."""
    whole, _, frac = value.partition(".")
    digits = whole + frac
    n = len(digits)
    if kind == "one_digit_wrong":
        i = int(rng.integers(n))
        wrong = str((int(digits[i]) + int(rng.integers(1, 10))) % 10)
        out = digits[:i] + wrong + digits[i + 1 :]
    elif kind == "adjacent_digits_swapped":
        pairs = [i for i in range(n - 1) if digits[i] != digits[i + 1]]
        if not pairs:
            return None
        i = int(rng.choice(pairs))
        out = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    elif kind == "digit_left_out":
        if n < 2:
            return None
        i = int(rng.integers(n))
        out = digits[:i] + digits[i + 1 :]
        frac = frac[: max(0, len(frac) - (i >= len(whole)))]
    elif kind == "decimal_shifted":
        if len(whole) < 2:
            return None
        return with_point(digits, len(frac) + 1)
    else:
        raise ValueError(kind)
    typed = with_point(out, len(frac))
    return None if typed == value else typed
