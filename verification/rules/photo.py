"""The photo itself: clear enough, not reused, taken when it says it was submitted."""

from __future__ import annotations

from ..config import PhotoLimits
from ..model import Finding, PhotoFacts

_QUALITY_WORDS = {
    "blurred": "blurred",
    "glare": "glare on the display",
    "too_dark": "too dark",
    "low_contrast": "low contrast",
}


def check(photo: PhotoFacts, quality: tuple[str, ...], limits: PhotoLimits) -> list[Finding]:
    findings = []
    if quality:
        findings.append(
            Finding(
                "photo_quality",
                "review",
                "the photo is not clear: "
                + ", ".join(_QUALITY_WORDS.get(q, q.replace("_", " ")) for q in quality),
                {"flags": list(quality)},
            )
        )
    if photo.nearest_earlier_photo and photo.nearest_earlier_photo[1] <= limits.reuse_max_distance:
        earlier, distance = photo.nearest_earlier_photo
        findings.append(
            Finding(
                "photo_reused",
                "review",
                f"this photo matches an earlier submission ({earlier})",
                {"earlier": earlier, "distance": distance},
            )
        )
    if photo.exif_taken_at is not None:
        age_hours = (photo.submitted_at - photo.exif_taken_at).total_seconds() / 3600
        if age_hours > limits.exif_max_age_hours:
            findings.append(
                Finding(
                    "photo_old",
                    "review",
                    f"the photo was taken {age_hours / 24:.1f} days before it was sent",
                    {"taken_at": photo.exif_taken_at.isoformat()},
                )
            )
        elif -age_hours * 60 > limits.exif_max_ahead_minutes:
            findings.append(
                Finding(
                    "photo_time_ahead",
                    "review",
                    "the photo's own time is after it was sent",
                    {"taken_at": photo.exif_taken_at.isoformat()},
                )
            )
    return findings
