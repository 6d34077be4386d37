"""Reading meter photos on CPU with ONNX Runtime and OpenCV (never torch): ``read(image_bytes)``."""

from .reader import MeterReading, read

__all__ = ["MeterReading", "read"]
