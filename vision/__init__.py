"""Reading meter photos on CPU with ONNX Runtime and OpenCV (never torch): ``read(image_bytes, meter)`` reads
the register blind, ``verify(image_bytes, typed, meter)`` says whether the photo shows the typed value."""

from .reader import read, verify
from .reading import Meter, MeterReading

__all__ = ["Meter", "MeterReading", "read", "verify"]
