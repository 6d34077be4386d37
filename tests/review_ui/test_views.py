"""The item page's digit rows: on the meter's register positions, only real differences marked."""

from __future__ import annotations

from review_ui.views import digits, verdict


def _row(ds) -> str:
    return "".join(d.char for d in ds)


def _marked(ds) -> list[int]:
    return [i for i, d in enumerate(ds) if d.differs]


def test_a_digit_the_reader_missed_leaves_its_position_empty() -> None:
    # Issue 19, finding 4: "0904.7" over "9047.7" marked every digit; the reader had missed the decimal drum.
    read, typed = digits(
        {"digits": "09047", "decimals": 0, "digit_confidences": [0.99] * 5}, "9047.7", 6, 1, 0.9
    )
    assert (_row(read), _row(typed)) == ("09047 ", "090477")
    assert _marked(read) == _marked(typed) == [5]
    assert [d.confidence for d in read] == [0.99] * 5 + [None]


def test_a_full_register_takes_the_meters_point() -> None:
    read, typed = digits({"digits": "134359", "decimals": 0}, "13435.9", 6, 1, 0.9)
    assert _row(read) == _row(typed) == "134359" and _marked(read) == []


def test_one_wrong_digit_is_the_only_one_marked() -> None:
    read, typed = digits({"digits": "016502", "decimals": 1}, "1660.2", 6, 1, 0.9)
    assert _marked(read) == [3] and _row(typed) == "016602"


def test_the_verdict_line_agrees_with_the_digits() -> None:
    # Issue 19, finding 7: "neither confirms nor rules out" under eight equal digits.
    reading = {"digits": "016502", "decimals": 1, "typed_verdict": "unsure", "typed_probability": 0.898}
    read, typed = digits(reading, "1650.2", 6, 1, 0.9)
    assert verdict(reading, read, typed) == (
        "unsure",
        "The reader's digits are the typed ones, but not surely enough to accept them alone (89.8%)",
    )
    read, typed = digits(reading, "1660.2", 6, 1, 0.9)
    assert verdict(reading, read, typed)[1].startswith("The photo neither confirms nor rules out")
    assert verdict({**reading, "typed_verdict": "matches"}, read, typed)[0] == "matches"
