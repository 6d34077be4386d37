"""Reading meter photos on CPU with ONNX Runtime and OpenCV (never torch).

``read(image_bytes, meter=None)`` reads the register blind; ``verify(image_bytes, typed, meter=None)`` says
whether the photo shows what the consumer typed.
"""

from .locate import Meter
from .reader import MeterReading, read, verify

__all__ = ["Meter", "MeterReading", "read", "verify"]
