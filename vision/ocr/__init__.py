"""Read a rectified display strip: digits as displayed, decimals, per-digit confidence, display mode."""

from .model import DigitReader, StripReading

__all__ = ["DigitReader", "StripReading"]
