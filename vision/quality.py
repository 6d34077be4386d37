"""Photo quality checks on the display: blurred, glare on the glass, too dark. Each flag has a reason."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Thresholds on a 32-pixel-high grey strip of the display (the reader's own view of it).
BLUR_MIN_SHARPNESS = 0.035  # between readable synthetic displays' low tail and blurred ones' median
GLARE_MAX_SATURATED = 0.08  # share of blown-out pixels
DARK_MAX_LEVEL = 40  # 90th-percentile grey level
LOW_CONTRAST = 18  # grey levels between the 10th and 90th percentiles


@dataclass(frozen=True)
class QualityFlag:
    code: str
    message: str
    value: float


def check_strip(strip: np.ndarray) -> list[QualityFlag]:
    """Flags for a rectified display strip (BGR or grey, any size)."""
    grey = cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY) if strip.ndim == 3 else strip
    grey = cv2.resize(
        grey, (max(8, round(grey.shape[1] * 32 / grey.shape[0])), 32), interpolation=cv2.INTER_AREA
    )
    flags = []
    lo, hi = np.percentile(grey, (10, 90))
    contrast = float(hi - lo)
    saturated = float((grey >= 250).mean())
    if saturated > GLARE_MAX_SATURATED:
        flags.append(QualityFlag("glare", f"glare on the display covers {saturated:.0%} of it", saturated))
    if hi < DARK_MAX_LEVEL:
        flags.append(QualityFlag("too_dark", "the display is too dark to read", float(hi)))
    if contrast < LOW_CONTRAST:
        flags.append(QualityFlag("low_contrast", "the digits barely stand out from the display", contrast))
    else:
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        sharpness = float(np.mean(gx * gx + gy * gy)) / (contrast**2 * 16)
        if sharpness < BLUR_MIN_SHARPNESS:
            flags.append(QualityFlag("blurred", "the display is out of focus or shaken", sharpness))
    return flags
