from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.verification.factory import CONSUMER, IN_WINDOW, read, steady_history, submission
from verification import (
    ACCEPTED,
    NEEDS_REVIEW,
    REJECTED,
    EarlierPhoto,
    PastReading,
    PhotoFacts,
    Reading,
    ReviewRefused,
    UtilityConfig,
    accept_after_review,
    decide,
    default_config,
)


def test_clean_match_is_accepted_and_enters_the_draw() -> None:
    d = decide(submission())
    assert d.status == ACCEPTED and d.verified_reading == "1650.2" and d.findings == ()
    assert d.lucky_draw_eligible and d.month == "2026-11" and d.in_window


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1650.3", "one_digit_wrong"),
        ("1605.2", "adjacent_digits_swapped"),
        ("165.2", "digit_missing"),
        ("16502.2", "digit_extra"),
        ("165.02", "decimal_shifted"),
        ("16502", "decimal_typed_as_digit"),
        ("1650", "decimals_left_out"),
        ("9999.9", "typed_differs"),
    ],
)
def test_typing_mistakes_are_explained_and_sent_to_review(typed: str, code: str) -> None:
    d = decide(submission(typed=typed))
    assert d.status == NEEDS_REVIEW and d.verified_reading is None
    finding = next(f for f in d.findings if f.code == code)
    assert finding.evidence["likely"] == "1650.2" and "1650.2" in finding.message
    assert d.proposed_reading == "1650.2"
    assert not d.lucky_draw_eligible


def test_rolling_drum_matches_either_figure_and_bills_the_lower() -> None:
    rolling = (None, None, None, None, None, ("2", "3"))
    for typed in ("1650.2", "1650.3"):
        d = decide(submission(typed=typed, read=read("016503", rolling=rolling)))
        assert d.status == ACCEPTED and d.verified_reading == "1650.2"
    assert decide(submission(typed="1650.4", read=read("016503", rolling=rolling))).status == NEEDS_REVIEW


def test_a_drum_turns_only_while_the_one_to_its_right_passes_from_9_to_0() -> None:
    from verification.rules.typed import lower_reading

    def lower(digits: str, rolling: tuple) -> str:
        return str(lower_reading(read(digits, decimals=0, rolling=rolling)))

    # Found by the review browser test: an unsure leading drum beside a 3 turned 13495 into 3495.
    assert lower("013495", (None, ("0", "1"), None, None, None, None)) == "13495"
    # A real carry: the last drums pass 9 -> 0 and the one before them is caught between 2 and 3.
    assert lower("01300", (None, None, ("2", "3"), ("9", "0"), ("9", "0"))) == "1299"
    assert lower("01300", (None, None, ("2", "3"), None, ("9", "0"))) == "1309"


def test_a_photo_that_confirms_the_typed_value_is_accepted_despite_blind_doubts() -> None:
    """``vision.verify`` said the display shows what was typed: the blind reading's doubts no longer matter."""
    unsure = read("016592", confidence=0.4, digit_confidences=(0.99, 0.99, 0.99, 0.45, 0.99, 0.99))
    confirmed = replace(unsure, typed_verdict="matches", typed_probability=0.97)
    d = decide(submission(typed="1650.2", read=confirmed))
    assert d.status == ACCEPTED and d.verified_reading == "1650.2" and d.lucky_draw_eligible
    # Without the confirmation the same photo goes to a person.
    assert decide(submission(typed="1650.2", read=unsure)).status == NEEDS_REVIEW
    # The history rules still hold for a confirmed value.
    history = steady_history(last="1700.0")
    assert decide(submission(typed="1650.2", read=confirmed, history=history)).status != ACCEPTED


def test_a_differing_typed_value_keeps_the_typing_mistake_explanation() -> None:
    differs = replace(read("016502"), typed_verdict="differs", typed_probability=0.001)
    d = decide(submission(typed="1650.3", read=differs))
    assert d.status == NEEDS_REVIEW and "one_digit_wrong" in d.reasons and d.proposed_reading == "1650.2"


def test_reader_doubts_go_to_review() -> None:
    d = decide(submission(read=read("016502", digit_confidences=(0.99, 0.99, 0.5, 0.99, 0.99, 0.99))))
    assert d.status == NEEDS_REVIEW and d.reasons == ["low_digit_confidence"]
    assert decide(submission(read=read("016502", confidence=0.6))).reasons == ["low_reading_confidence"]


@pytest.mark.parametrize(
    ("reason", "status", "code"),
    [
        # Only a file that cannot be decoded is rejected unseen; the reader's view of the scene goes to a person.
        ("no_display", NEEDS_REVIEW, "not_a_meter"),
        ("not_an_image", REJECTED, "photo_unusable"),
        ("display_mode_date", NEEDS_REVIEW, "display_not_kwh"),
        ("display_mode_history", NEEDS_REVIEW, "display_not_kwh"),
        ("low_confidence", NEEDS_REVIEW, "reading_unclear"),
    ],
)
def test_unreadable_photos(reason: str, status: str, code: str) -> None:
    r = read("", confidence=0.0)
    r = type(r)(None, 0, 0.0, (), (), readable=False, reason=reason)
    d = decide(submission(read=r))
    assert d.status == status and code in d.reasons and not d.lucky_draw_eligible


def test_below_last_reading_unless_rollover() -> None:
    d = decide(submission(typed="1400.0", shown="014000"))
    assert d.status == NEEDS_REVIEW and "below_last_reading" in d.reasons
    history = steady_history(last="99950.0", per_month=100)
    d = decide(submission(typed="12.3", shown="000123", history=history))
    assert d.status == ACCEPTED, d.reasons


def test_meter_replacement_resets_the_baseline() -> None:
    history = (*steady_history(), PastReading(date(2026, 10, 20), Reading(0, 1), meter_replaced=True))
    d = decide(submission(typed="55.0", shown="000550", history=history))
    assert "below_last_reading" not in d.reasons


def test_consumption_cap_band_and_stuck_meter() -> None:
    d = decide(submission(typed="4000.0", shown="040000"))  # 2500 kWh in a month on 3 kW
    assert "above_load_cap" in d.reasons
    d = decide(submission(typed="2500.0", shown="025000"))  # 1000 kWh, usual ~150
    assert "unusual_consumption" in d.reasons
    flat = steady_history(per_month=0.0)
    d = decide(submission(typed="1500.0", shown="015000", history=flat))
    assert "zero_consumption_repeated" in d.reasons


def test_band_is_wider_with_short_history() -> None:
    short = steady_history(months=3)  # 2 cycles of history
    long = steady_history(months=8)
    typed, shown = "2100.0", "021000"  # 600 kWh vs usual 150: 4x
    assert "unusual_consumption" not in decide(submission(typed=typed, shown=shown, history=short)).reasons
    assert "unusual_consumption" in decide(submission(typed=typed, shown=shown, history=long)).reasons


def test_digit_count_must_match_the_meter() -> None:
    d = decide(submission(typed="1650.2", shown="0016502"))
    assert "digit_count_mismatch" in d.reasons


def _earlier(
    distance: int = 3, same_consumer: bool = False, same_file: bool = False, reading: str = "1500.0"
):
    return EarlierPhoto("sub-1", distance, CONSUMER.number if same_consumer else "C-OTHER", same_consumer,
                        same_file, date(2026, 10, 2), reading)  # fmt: skip


def test_photo_reuse_quality_and_exif_time() -> None:
    d = decide(submission(photo=PhotoFacts(IN_WINDOW, nearest_earlier_photo=_earlier())))
    assert d.reasons == ["photo_reused"]
    assert (
        d.findings[0].message
        == "the photo looks like one sent by consumer C-OTHER on 02 Oct 2026 (reading 1500.0)"
    )
    assert (
        decide(submission(photo=PhotoFacts(IN_WINDOW, nearest_earlier_photo=_earlier(30)))).status == ACCEPTED
    )


def test_reuse_in_words_that_are_true() -> None:
    # Issue 19, finding 6: a consumer's own meter photographed again shows a new reading: not a reused photo.
    again = _earlier(0, same_consumer=True)
    assert decide(submission(photo=PhotoFacts(IN_WINDOW, nearest_earlier_photo=again))).status == ACCEPTED
    # ... unless it shows the earlier reading, or is the very same file.
    same_reading = _earlier(2, same_consumer=True, reading="1650.2")
    d = decide(submission(photo=PhotoFacts(IN_WINDOW, nearest_earlier_photo=same_reading)))
    assert (
        d.reasons == ["photo_reused"]
        and "the reading this consumer's earlier photo showed" in d.findings[0].message
    )
    d = decide(
        submission(photo=PhotoFacts(IN_WINDOW, nearest_earlier_photo=_earlier(0, True, same_file=True)))
    )
    assert d.findings[0].message.startswith(
        "the same photo file was sent before by this consumer on 02 Oct 2026"
    )
    d = decide(submission(photo=PhotoFacts(IN_WINDOW, exif_taken_at=IN_WINDOW - timedelta(days=10))))
    assert d.reasons == ["photo_old"]
    d = decide(submission(photo=PhotoFacts(IN_WINDOW, exif_taken_at=IN_WINDOW + timedelta(hours=5))))
    assert d.reasons == ["photo_time_ahead"]
    d = decide(submission(read=read("016502", quality=("glare",))))
    assert d.status == NEEDS_REVIEW and d.reasons == ["photo_quality"]
    settled = accept_after_review(
        d, submission(read=read("016502", quality=("glare",))), Reading.parse("1650.2"), "reviewer-7"
    )
    assert (
        settled.status == ACCEPTED
        and not settled.lucky_draw_eligible
        and "clear" in settled.lucky_draw_reason
    )


def test_window_in_kolkata_time_and_one_entry_per_month() -> None:
    # 2026-11-05 20:00 UTC is 2026-11-06 01:30 in Kolkata: outside days 1-5.
    late = decide(submission(when=datetime(2026, 11, 5, 20, 0, tzinfo=UTC)))
    assert late.status == ACCEPTED and not late.lucky_draw_eligible and not late.in_window
    early = decide(submission(when=datetime(2026, 10, 31, 19, 0, tzinfo=UTC)))  # Nov 1, 00:30 IST
    assert early.in_window and early.month == "2026-11"
    again = decide(submission(lucky_draw_entries_this_month=1))
    assert again.status == ACCEPTED and not again.lucky_draw_eligible and "already" in again.lucky_draw_reason
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(submission(when=datetime(2026, 11, 3)))


def test_reviewer_accepts_and_eligibility_is_recomputed() -> None:
    sub = submission(typed="1650.3")
    d = decide(sub)
    settled = accept_after_review(d, sub, Reading.parse("1650.2"), "reviewer-7")
    assert (
        settled.status == ACCEPTED
        and settled.verified_reading == "1650.2"
        and settled.decided_by == "reviewer-7"
    )
    assert settled.lucky_draw_eligible


def test_config_from_toml_with_defaults_and_typos() -> None:
    cfg = UtilityConfig.from_toml("[window]\nfirst_day = 2\nlast_day = 7\n", name="tsspdcl")
    assert cfg.window.first_day == 2 and cfg.reader == default_config().reader
    with pytest.raises(ValueError, match="unknown key"):
        UtilityConfig.from_toml("[window]\nfirst_dya = 2\n")
    with pytest.raises(ValueError, match="unknown section"):
        UtilityConfig.from_toml("[windows]\nfirst_day = 2\n")
    with pytest.raises(ValueError, match="first_day"):
        UtilityConfig.from_toml("[window]\nfirst_day = 9\nlast_day = 5\n")
    late = decide(submission(when=datetime(2026, 11, 6, 4, 30, tzinfo=UTC)), cfg)
    assert late.lucky_draw_eligible


def test_reading_parse() -> None:
    assert Reading.parse("13441.6") == Reading(134416, 1)
    assert str(Reading.parse("0012.30")) == "12.30"
    assert str(Reading(5, 2)) == "0.05"
    for bad in ("", "12a", "-5", "1.2.3", "1e5", "12.34567"):
        with pytest.raises(ValueError):
            Reading.parse(bad)
    assert CONSUMER.meter_digits == 6


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("999999999999", "reading_does_not_fit"),  # 12 digits on a 6-digit meter
        ("5", "below_last_reading"),  # the last verified reading is 1500.0
        ("1650.25", "reading_decimals"),  # the meter shows one decimal
        ("90000.0", "above_load_cap"),  # 88,500 kWh in a month on a 3 kW load
    ],
)
def test_a_reviewer_cannot_accept_an_impossible_reading(value: str, code: str) -> None:
    sub = submission()
    d = decide(sub)
    with pytest.raises(ReviewRefused) as refused:
        accept_after_review(d, sub, Reading.parse(value), "reviewer-7")
    assert refused.value.code == code and value in str(refused.value)


def test_a_reviewer_may_accept_a_rollover_they_state() -> None:
    sub = submission(history=steady_history(last="99950.0"))
    d = decide(sub)
    with pytest.raises(ReviewRefused):
        accept_after_review(d, sub, Reading.parse("12.3"), "reviewer-7")
    settled = accept_after_review(d, sub, Reading.parse("12.3"), "reviewer-7", rollover=True)
    assert settled.status == ACCEPTED and settled.verified_reading == "12.3"


def test_a_stated_rollover_must_fit_the_load_too() -> None:
    # Issue 22, finding 3: a rollover one unit below the last reading means a whole counter in a month.
    sub = submission(history=steady_history(last="50083.0"))
    d = decide(sub)
    with pytest.raises(ReviewRefused) as refused:
        accept_after_review(d, sub, Reading.parse("50082.0"), "reviewer-7", rollover=True)
    assert refused.value.code == "above_load_cap" and "going round the counter" in str(refused.value)


def test_a_new_meters_first_reading_is_checked_against_its_own_register_only() -> None:
    sub = submission(history=steady_history(last="50083.0"))
    d = decide(sub)
    settled = accept_after_review(d, sub, Reading.parse("12.34"), "reviewer-7", new_meter=(7, 2))
    assert settled.status == ACCEPTED and settled.verified_reading == "12.34"
    for new_meter, value, code in (((7, 2), "12.345", "reading_decimals"), ((2, 0), "12", "bad_meter"),
                                   ((5, 1), "99999.9", "reading_does_not_fit")):  # fmt: skip
        with pytest.raises(ReviewRefused) as refused:
            accept_after_review(d, sub, Reading.parse(value), "reviewer-7", new_meter=new_meter)
        assert refused.value.code == code


def test_a_reader_that_saw_every_position_is_read_with_the_meters_decimals() -> None:
    # Issue 19, finding 2: the reader missed the point (134359) on a 6-digit meter with one decimal.
    missed_point = read("016502", decimals=0)
    d = decide(submission(typed="1650.2", read=missed_point))
    assert d.status == ACCEPTED and d.verified_reading == "1650.2"
    d = decide(submission(typed="1650.9", read=missed_point))
    assert d.status == NEEDS_REVIEW and d.proposed_reading == "1650.2"
    # Fewer digits than the register: a digit is missing (a red drum left out), not the point; nothing is
    # offered to accept with one key (1650 would be saved as 1650.0).
    d = decide(submission(typed="1650.2", read=read("01650", decimals=0)))
    assert d.status == NEEDS_REVIEW and d.proposed_reading is None
