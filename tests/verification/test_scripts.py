"""Typed readings in the digit scripts Indian phones type, normalised on purpose; others refused."""

from __future__ import annotations

import pytest

from verification import Reading
from verification.scripts import SCRIPTS, ScriptRefused, to_ascii


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_accepted_script_reads_as_ascii(script: str) -> None:
    zero = SCRIPTS[script]
    text = "".join(chr(zero + int(c)) for c in "0123456789")
    assert to_ascii(text) == ("0123456789", script)


def test_ascii_and_separators() -> None:
    assert to_ascii("13441.6") == ("13441.6", "ascii")
    assert to_ascii("١٣٤٤١٫٦") == ("13441.6", "arabic_indic")  # the Arabic decimal separator
    assert Reading.parse(to_ascii("१३४४१.६")[0]) == Reading(134416, 1)


@pytest.mark.parametrize("text", ["๑๒๓", "१२3", "²", "\U0001d7ce", "①"])
def test_other_digits_and_mixtures_are_refused(text: str) -> None:
    with pytest.raises(ScriptRefused):
        to_ascii(text)


def test_reading_parse_itself_takes_ascii_only() -> None:
    with pytest.raises(ValueError):
        Reading.parse("१२३")
