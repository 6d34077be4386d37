"""The reader's own doubts: digits it is unsure of, a reading it is unsure of, a photo it could not use."""

from __future__ import annotations

from ..config import ReaderLimits
from ..model import Finding, ReaderResult

_UNUSABLE_FILE = frozenset(
    {
        "empty",
        "not_an_image",
        "corrupt",
        "truncated",
        "too_small",
        "too_many_pixels",
        "too_large",
        "unsupported_format",
    }
)

# Failures of ours, not of the photo: a reviewer must see what happened, not "unclear".
_NOT_THE_PHOTO = {
    "processing_failed": "processing failed repeatedly (internal error); the photo was not judged",
    "reader_error": "the reader failed on this photo (internal error); the photo was not judged",
    "photo_missing": "the photo is missing from the store; ask the consumer to send it again",
}


def check(read: ReaderResult, limits: ReaderLimits) -> list[Finding]:
    if not read.readable:
        reason = read.reason or "unreadable"
        if reason in _UNUSABLE_FILE:
            return [
                Finding(
                    "photo_unusable",
                    "reject",
                    f"the photo cannot be used ({reason.replace('_', ' ')})",
                    {"reason": reason},
                )
            ]
        # The reader's view of what the photo shows is no evidence strong enough to reject a consumer's
        # reading unseen (issue 19): only a file that cannot be decoded is refused without a person.
        if reason == "no_display":
            return [Finding("not_a_meter", "review", "the reader found no meter display in the photo", {})]
        if reason.startswith("display_mode_"):
            mode = reason.removeprefix("display_mode_")
            return [
                Finding(
                    "display_not_kwh",
                    "review",
                    f"the reader thinks the display shows {mode.replace('_', ' ')}, not the kWh reading",
                    {"mode": mode},
                )
            ]
        if reason in _NOT_THE_PHOTO:  # the photo was never judged: say so, not that it was unclear
            return [Finding(reason, "review", _NOT_THE_PHOTO[reason], {"reason": reason})]
        return [
            Finding(
                "reading_unclear",
                "review",
                "the reader could not read the display with confidence",
                {"reason": reason},
            )
        ]
    findings = []
    low = [i for i, c in enumerate(read.digit_confidences) if c < limits.min_digit_confidence]
    if low:
        findings.append(
            Finding(
                "low_digit_confidence",
                "review",
                f"unsure of digit(s) at position {', '.join(str(i + 1) for i in low)}",
                {"positions": low, "confidences": [read.digit_confidences[i] for i in low]},
            )
        )
    if read.confidence < limits.min_reading_confidence:
        findings.append(
            Finding(
                "low_reading_confidence",
                "review",
                f"the reading is only {read.confidence:.0%} likely right",
                {"confidence": read.confidence},
            )
        )
    return findings
