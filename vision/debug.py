"""Pictures of a reading for people: the photo with the display outlined and the digits written on it."""

from __future__ import annotations

import cv2
import numpy as np

from .geometry import rectify
from .image import ImageError, decode_photo
from .reading import MeterReading

_GREEN, _RED, _WHITE = (60, 220, 60), (60, 60, 230), (255, 255, 255)


def annotate(
    data: bytes, reading: MeterReading, max_side: int = 1280
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(annotated photo, rectified display strip) for a reading; (None, None) if the photo can't be decoded."""
    try:
        photo = decode_photo(data)
    except ImageError:
        return None, None
    image = photo.image
    scale = min(1.0, max_side / max(image.shape[:2]))
    shown = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image.copy()
    )
    strip = None
    colour = _GREEN if reading.readable else _RED
    if reading.display:
        quad = np.array(reading.display["quad"], np.float32) / photo.scale
        strip = rectify(image, quad, 96)
        pts = (quad * scale).astype(np.int32)
        cv2.polylines(shown, [pts], True, colour, 3, cv2.LINE_AA)
        cv2.circle(shown, tuple(int(v) for v in pts[0]), 6, colour, -1)
    label = f"{reading.value or '-'}  conf {reading.confidence:.2f}" + (
        "" if reading.readable else f"  UNREADABLE: {reading.reason}"
    )
    cv2.rectangle(shown, (0, 0), (shown.shape[1], 34), (0, 0, 0), -1)
    cv2.putText(shown, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, _WHITE, 2, cv2.LINE_AA)
    if reading.quality:
        cv2.putText(
            shown,
            "quality: " + ", ".join(reading.quality),
            (8, shown.shape[0] - 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            _RED,
            2,
            cv2.LINE_AA,
        )
    return shown, strip
