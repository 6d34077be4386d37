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


def _reuse(photo: PhotoFacts, shown: str | None, limits: PhotoLimits) -> Finding | None:
    """A photo sent before, said as it is: the same file, or one like another consumer's; a consumer's own
    meter looks alike every month, so a new photo of it counts only when it shows the earlier reading."""
    earlier = photo.nearest_earlier_photo
    if earlier is None or earlier.distance > limits.reuse_max_distance:
        return None
    who = "this consumer" if earlier.same_consumer else f"consumer {earlier.consumer_number}"
    what = f"{who} on {earlier.sent_on:%d %b %Y}" + (
        f" (reading {earlier.reading})" if earlier.reading else ""
    )
    if earlier.same_file:
        message = f"the same photo file was sent before by {what}"
    elif not earlier.same_consumer:
        message = f"the photo looks like one sent by {what}"
    elif shown is not None and shown == earlier.reading:
        message = f"the photo shows the reading this consumer's earlier photo showed: sent by {what}"
    else:
        return None  # the same meter, photographed again: a new reading
    evidence = {
        "earlier": earlier.submission_id,
        "distance": earlier.distance,
        "consumer": earlier.consumer_number,
        "same_consumer": earlier.same_consumer,
        "same_file": earlier.same_file,
        "sent_on": earlier.sent_on.isoformat(),
        "reading": earlier.reading,
    }
    return Finding("photo_reused", "review", message, evidence)


def check(
    photo: PhotoFacts, quality: tuple[str, ...], limits: PhotoLimits, shown: str | None = None
) -> list[Finding]:
    """``shown``: the reading the photo shows (``Reading`` text), when it could be read."""
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
    reused = _reuse(photo, shown, limits)
    if reused is not None:
        findings.append(reused)
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
