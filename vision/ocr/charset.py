"""What the digit reader can output: its characters and the display modes it tells apart."""

from __future__ import annotations

# CTC class 0 is the blank; class i + 1 is CHARS[i]. The same order is written into the easyocr bundle.
CHARS = "0123456789."
BLANK = 0
# What a display can be showing. Only "kwh" is a consumption reading; "none" is an unreadable or blank display.
MODES = ("kwh", "kw_md", "date", "time", "segment_test", "none")
INPUT_HEIGHT = 32


def encode_text(digits: str, decimals: int) -> str:
    """The reader's target text: digits with a '.' before the decimal ones (``"0134416", 1 -> "013441.6"``)."""
    if decimals and len(digits) > decimals:
        return digits[: len(digits) - decimals] + "." + digits[len(digits) - decimals :]
    return digits


def text_to_labels(text: str) -> list[int]:
    return [CHARS.index(c) + 1 for c in text]
