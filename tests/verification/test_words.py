"""Every reason code a rule can give has plain words for reviewers, and no words wait for a code that is gone."""

from __future__ import annotations

import re
from pathlib import Path

from verification.rules.reader import _NOT_THE_PHOTO
from verification.words import REASON_WORDS, reason_words

ROOT = Path(__file__).resolve().parents[2]


def _codes_the_rules_give() -> set[str]:
    codes = set(_NOT_THE_PHOTO)  # reader.py passes these through by name
    for path in (ROOT / "verification").rglob("*.py"):
        text = path.read_text()
        codes.update(re.findall(r'Finding\(\s*"([a-z_]+)"', text))
        codes.update(
            re.findall(r'return\s*\(?\s*"([a-z_]+)",\s*f?"', text)
        )  # explain_mismatch's (code, message)
    codes.update(
        re.findall(
            r'"code": "([a-z_]+)"',
            "".join(p.read_text() for p in (ROOT / "serving" / "submissions").glob("*.py")),
        )
    )  # reopened
    return codes


def test_every_reason_code_has_words_and_every_word_a_code() -> None:
    codes = _codes_the_rules_give()
    assert {
        "one_digit_wrong",
        "photo_reused",
        "above_load_cap",
        "reopened",
    } <= codes  # the search still works
    assert not codes - set(REASON_WORDS), f"codes without words: {sorted(codes - set(REASON_WORDS))}"
    assert not set(REASON_WORDS) - codes, (
        f"words for codes no rule gives: {sorted(set(REASON_WORDS) - codes)}"
    )
    assert all("_" not in words for words in REASON_WORDS.values())
    assert reason_words("some_new_code") == "some new code"
