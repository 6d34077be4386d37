"""Properties that must hold for every submission, checked on many generated ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from verification import (
    ACCEPTED,
    Consumer,
    EarlierPhoto,
    PastReading,
    PhotoFacts,
    ReaderResult,
    Reading,
    Submission,
    decide,
)

consumers = st.builds(
    Consumer,
    number=st.just("C1"),
    meter_digits=st.integers(5, 8),
    meter_decimals=st.integers(0, 2),
    sanctioned_load_kw=st.floats(0.5, 20),
)


@st.composite
def submissions(draw) -> Submission:
    consumer = draw(consumers)
    n, dec = consumer.meter_digits, consumer.meter_decimals
    top = 10**n - 1
    units = st.integers(0, top)
    months = draw(st.integers(0, 8))
    start = date(2025, 1, 2)
    history = []
    value = draw(units)
    for k in range(months):
        history.append(
            PastReading(
                start + timedelta(days=30 * k),
                Reading(value, dec),
                meter_replaced=draw(st.booleans()) and k > 0 and draw(st.booleans()),
            )
        )
        value = min(top, value + draw(st.integers(0, 3000)))
    shown = draw(units)
    digits = str(shown).rjust(n, "0")
    rolling = tuple(draw(st.sampled_from([None, None, None, (d, str((int(d) + 1) % 10))])) for d in digits)
    read = ReaderResult(
        digits=digits,
        decimals=dec,
        confidence=draw(st.floats(0, 1)),
        digit_confidences=tuple(draw(st.floats(0, 1)) for _ in digits),
        rolling=rolling,
        readable=draw(st.booleans()) or True,
        quality=tuple(draw(st.lists(st.sampled_from(["blurred", "glare", "too_dark"]), max_size=1))),
    )
    typed = draw(st.one_of(st.just(Reading(shown, dec)), st.builds(Reading, units, st.integers(0, 2))))
    when = datetime(2025, 1, 2, tzinfo=UTC) + timedelta(
        days=30 * months + draw(st.integers(0, 29)), hours=draw(st.integers(0, 23))
    )
    earlier = st.builds(EarlierPhoto, st.just("s0"), st.integers(0, 64), st.just("C-0"), st.booleans(),
                        st.booleans(), st.just(date(2024, 12, 2)), st.sampled_from([None, "1.0"]))  # fmt: skip
    photo = PhotoFacts(when, nearest_earlier_photo=draw(st.one_of(st.none(), earlier)))
    return Submission(consumer, typed, read, photo, tuple(history), draw(st.integers(0, 1)))


def _rolled_over(sub: Submission) -> bool:
    last = sub.history[-1].reading
    return Reading.from_digits(sub.read.digits, sub.read.decimals).units < last.units


@settings(max_examples=400, deadline=None)
@given(submissions())
def test_never_accepts_below_last_without_rollover_or_replacement(sub: Submission) -> None:
    d = decide(sub)
    if d.status == ACCEPTED and sub.history:
        verified = Reading.parse(d.verified_reading)
        last = sub.history[-1].reading
        if verified.minus(last) < 0:
            # only a genuine rollover: from near the top of the counter, within what the load could draw
            span = 10 ** (sub.consumer.meter_digits - sub.consumer.meter_decimals)
            days = max(1, (sub.photo.submitted_at.date() - sub.history[-1].on).days + 1)
            assert verified.minus(last) + span <= sub.consumer.sanctioned_load_kw * 24 * days


@settings(max_examples=400, deadline=None)
@given(submissions())
def test_never_accepts_when_typed_and_read_differ(sub: Submission) -> None:
    d = decide(sub)
    if d.status == ACCEPTED:
        typed = sub.typed
        assert typed.decimals == sub.read.decimals
        text = str(typed.units).rjust(len(sub.read.digits), "0")
        options = [
            d + (r[0] + r[1] if r else "") for d, r in zip(sub.read.digits, sub.read.rolling, strict=True)
        ]
        assert len(text) == len(options) and all(t in o for t, o in zip(text, options, strict=True))
        assert d.verified_reading is not None


@settings(max_examples=200, deadline=None)
@given(submissions())
def test_same_input_same_decision(sub: Submission) -> None:
    assert decide(sub) == decide(sub)
    assert decide(sub).to_dict() == decide(sub).to_dict()
