"""Typed readings in the digit scripts Indian apps send, turned into ASCII on purpose.

Keyboards in Hindi, Marathi, Bengali, Tamil... type their own digits (``१२३४५``), Urdu keyboards the
Extended Arabic-Indic ones, some phones full-width digits. These are accepted and normalised; the script is
recorded beside the reading. Any other non-ASCII digit (Thai, superscripts, mathematical bold, a mix of
scripts) is refused: it is more likely a mistake or an attack than a reading.
"""

from __future__ import annotations

import unicodedata

# Script name -> the code point of its zero (each block holds 0-9 in order).
SCRIPTS = {
    "devanagari": 0x0966,
    "bengali": 0x09E6,
    "gurmukhi": 0x0A66,
    "gujarati": 0x0AE6,
    "oriya": 0x0B66,
    "tamil": 0x0BE6,
    "telugu": 0x0C66,
    "kannada": 0x0CE6,
    "malayalam": 0x0D66,
    "arabic_indic": 0x0660,
    "extended_arabic_indic": 0x06F0,
    "fullwidth": 0xFF10,
}
_ZERO_OF = {chr(zero + d): (name, d) for name, zero in SCRIPTS.items() for d in range(10)}
# Decimal separators those keyboards type, besides '.' and ','.
_SEPARATORS = {"\u066b": ".", "\uff0e": ".", "\uff0c": ","}


class ScriptRefused(ValueError):
    pass


def to_ascii(text: str) -> tuple[str, str]:
    """``("१२३४.५")`` -> ``("1234.5", "devanagari")``; ASCII text comes back as it is, script ``"ascii"``.

    Raises ``ScriptRefused`` for digits of another script, or of two scripts in one reading."""
    scripts: set[str] = set()
    out = []
    for ch in text:
        if ch in _ZERO_OF:
            name, digit = _ZERO_OF[ch]
            scripts.add(name)
            out.append(str(digit))
        elif ch in _SEPARATORS:
            out.append(_SEPARATORS[ch])
        elif ch.isascii():
            if ch.isdigit():
                scripts.add("ascii")
            out.append(ch)
        elif unicodedata.category(ch) == "Nd" or ch.isdigit() or ch.isnumeric():
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            raise ScriptRefused(f"digits like {name.title()} are not accepted; send 0-9 or an Indian script")
        else:
            out.append(ch)  # anything else is left for the reading's own parser to refuse
    if len(scripts) > 1:
        raise ScriptRefused(f"the reading mixes digit scripts ({', '.join(sorted(scripts))})")
    return "".join(out), next(iter(scripts), "ascii")
