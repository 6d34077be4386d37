"""easyocr entry point for the meterverify digit reader."""

from training.models.crnn import Model  # noqa: F401
