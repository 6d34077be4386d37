"""Plain words for every reason a rule gives, as reviewers read them in the queue and on an item page (the
rules' messages say the particulars: which digit, how many kWh)."""

from __future__ import annotations

REASON_WORDS = {
    # the photo file
    "photo_unusable": "the photo cannot be used",
    "photo_missing": "the photo is missing from the store",
    # the reader
    "not_a_meter": "no meter display found",
    "display_not_kwh": "the display may show another register",
    "reading_unclear": "the display could not be read",
    "low_digit_confidence": "reader unsure of some digits",
    "low_reading_confidence": "reader unsure of the reading",
    "processing_failed": "processing failed (internal)",
    "reader_error": "the reader failed (internal)",
    # typed against read
    "typed_differs": "typed reading differs from the photo",
    "one_digit_wrong": "one digit typed differently",
    "adjacent_digits_swapped": "two digits swapped",
    "digit_missing": "a digit left out",
    "digit_extra": "an extra digit typed",
    "decimal_shifted": "decimal point in another place",
    "decimal_typed_as_digit": "the decimal typed as a whole digit",
    "decimals_left_out": "the decimals left out",
    # the consumer's history
    "digit_count_mismatch": "more or fewer digits than the meter has",
    "below_last_reading": "below the last verified reading",
    "above_load_cap": "more than the sanctioned load can draw",
    "unusual_consumption": "unusual consumption for this consumer",
    "zero_consumption_repeated": "no consumption for several months",
    # the photo itself
    "photo_quality": "the photo is not clear",
    "photo_reused": "a photo sent before",
    "photo_old": "the photo was taken long before it was sent",
    "photo_time_ahead": "the photo's time is after it was sent",
    # people
    "rejected_by_reviewer": "rejected by a reviewer",
    "reopened": "reopened by a supervisor",
}


def reason_words(code: str) -> str:
    """The words for ``code``; an unknown code (from a newer rule) still reads as words, not as an identifier."""
    return REASON_WORDS.get(code) or code.replace("_", " ")
