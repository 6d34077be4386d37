"""Reading meter photos on CPU with ONNX Runtime and OpenCV (never torch).

``read(image_bytes, meter=None)`` reads the register blind; ``verify(image_bytes, typed, meter=None)`` says
whether the photo shows what the consumer typed.
"""

from .reader import read, verify
from .reading import Meter, MeterReading

__all__ = ["Meter", "MeterReading", "read", "verify"]
