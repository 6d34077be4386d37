"""Find the kWh display in a whole photo: four corners, clockwise from top-left, or nothing."""

from .model import DisplayDetector, DisplayQuad

__all__ = ["DisplayDetector", "DisplayQuad"]
