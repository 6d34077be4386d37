"""Synthetic photos of Indian kWh meters with exact labels: ``generate`` writes a dataset folder."""

from .generate import generate
from .scene import render_photo

__all__ = ["generate", "render_photo"]
