"""The README's table of error codes is the list the API can answer: none missing, none stale."""

from __future__ import annotations

import re
from pathlib import Path

from serving.api.main import _HTTP_CODES
from serving.submissions.intake import _HEADER_REFUSALS

ROOT = Path(__file__).resolve().parents[2]
# The ways a code is written in the source: error(422, "code", ...), Refused(422, "code", ...), _unavailable("code", ...),
# ReviewRefused("code", ...), a JSON body written by hand, a (status, "code") pair, and the validation
# handler's two.
PATTERNS = [
    r'error\(\s*\d{3},\s*"([a-z_]+)"',
    r'[Rr]efused\(\s*\d{3},\s*"([a-z_]+)"',
    r'_unavailable\(\s*"([a-z_]+)"',
    r'ReviewRefused\(\s*"([a-z_]+)"',
    r'\{"code":"([a-z_]+)"',
    r'\(\d{3}, "([a-z_]+)"\)',
    r'code = "([a-z_]+)" if \w+ else "([a-z_]+)"',
]


def _emitted() -> set[str]:
    codes = set(_HTTP_CODES.values()) | {code for _, code in _HEADER_REFUSALS.values()}
    for path in [*(ROOT / "serving").rglob("*.py"), ROOT / "verification" / "decision.py"]:
        text = path.read_text()
        for pattern in PATTERNS:
            for found in re.findall(pattern, text):
                codes.update(found if isinstance(found, tuple) else (found,))
    return codes


def _documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Errors") :]
    table = table[: table.index("\n### ")]
    rows = [line for line in table.splitlines() if re.match(r"\| [45]\d\d \|", line)]
    return {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[2])}


def test_every_code_the_api_answers_is_in_the_readme_and_no_other() -> None:
    emitted, documented = _emitted(), _documented()
    assert len(emitted) > 30, sorted(emitted)  # the patterns still find the codes
    assert not emitted - documented, f"answered but not in the README's table: {sorted(emitted - documented)}"
    assert not documented - emitted, (
        f"in the README's table but never answered: {sorted(documented - emitted)}"
    )
