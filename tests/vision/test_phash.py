from __future__ import annotations

import cv2
import numpy as np

from meterdata.synth import render_photo
from vision.phash import hamming, phash


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_same_photo_re_encoded_or_resized_stays_near_other_photos_far() -> None:
    photos = [_decode(render_photo(77, i, (1024, 768))[0]) for i in range(12)]
    a = photos[0]
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(a, (640, 480)), [cv2.IMWRITE_JPEG_QUALITY, 40])
    again = _decode(jpeg.tobytes())
    assert hamming(phash(a), phash(again)) <= 6
    assert hamming(phash(a), phash(cv2.convertScaleAbs(a, alpha=1.1, beta=8))) <= 6
    others = [hamming(phash(a), phash(b)) for b in photos[1:]]
    assert min(others) > 6, others
    assert 0 <= phash(a) < 2**64
