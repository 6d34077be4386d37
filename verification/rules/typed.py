"""Typed vs read: an exact match, a drum caught between two figures, or a typing mistake explained."""

from __future__ import annotations

from dataclasses import replace

from ..model import Consumer, Finding, ReaderResult, Reading


def candidates(read: ReaderResult) -> list[str]:
    """Per displayed digit, the figures it may show (two while a drum turns)."""
    digits = read.digits or ""
    rolling = read.rolling or (None,) * len(digits)
    return [d + (r[0] + r[1] if r else "") for d, r in zip(digits, rolling, strict=False)]


def in_register(read: ReaderResult, consumer: Consumer) -> ReaderResult:
    """The reader's digits with the meter's decimals when it saw every position of the register: the
    consumer record knows where the point is, and a reader may miss a faint LCD point or a red decimal drum
    (``134359`` on a 6-digit meter with one decimal is 13435.9)."""
    if read.digits and len(read.digits) == consumer.meter_digits and read.decimals != consumer.meter_decimals:
        return replace(read, decimals=consumer.meter_decimals)
    return read


def lower_reading(read: ReaderResult) -> Reading:
    """The reading a meter reader would write down: the lower figure of every turning drum. A drum turns only
    while the one to its right passes from 9 to 0, so a "turning" drum beside one that shows another figure
    is the reader's doubt, not a turn: its digit stands."""
    chars = list(read.digits or "")
    rolling = list(read.rolling) + [None] * (len(chars) - len(read.rolling))
    carrying = True  # the rightmost drum may always be caught turning
    for i in range(len(chars) - 1, -1, -1):
        turning = rolling[i] is not None and carrying
        if turning:
            chars[i] = rolling[i][0]
        carrying = turning and chars[i] == "9"
    return Reading.from_digits("".join(chars), read.decimals)


def offered(read: ReaderResult, consumer: Consumer) -> Reading | None:
    """What the reader offers a reviewer: its digits in the meter's layout, the lower figure of turning drums;
    None unless it read the register whole to its decimals (a dropped red drum must not become ``.0``)."""
    read = in_register(read, consumer)
    # A doubt about which screen is shown is not one about the digits: the reviewer sees the screen.
    seen = read.readable or (read.reason or "").startswith("display_mode_")
    if not (read.digits and seen) or read.decimals != consumer.meter_decimals:
        return None
    return lower_reading(read)


def _matches(typed: Reading, read: ReaderResult) -> bool:
    if typed.decimals != read.decimals:
        return False
    digits = read.digits or ""
    text = str(typed.units).rjust(len(digits), "0")
    if len(text) != len(digits):
        return False
    return all(t in c for t, c in zip(text, candidates(read), strict=True))


def _one_edit(short: str, long: str) -> int | None:
    """Position where deleting one character of ``long`` gives ``short``, or None."""
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return i
    return None


def explain_mismatch(typed: Reading, read: Reading) -> tuple[str, str, dict]:
    """Name the typing mistake that turns ``read`` into ``typed``: (code, message, evidence)."""
    r_int = read.units // 10**read.decimals if read.decimals else read.units
    if read.decimals and typed.decimals == 0 and typed.units == read.units:
        return (
            "decimal_typed_as_digit",
            f"the decimal digit was typed as a whole-number digit ({typed} for {read})",
            {},
        )
    if typed.units == read.units and typed.decimals != read.decimals:
        return "decimal_shifted", f"the decimal point is in the wrong place ({typed} for {read})", {}
    if read.decimals and typed.decimals == 0 and typed.units == r_int:
        return "decimals_left_out", f"the decimals were left out ({typed} for {read})", {}
    if typed.decimals <= read.decimals:
        a, b = str(typed.at(read.decimals)), str(read.units)
        if len(a) == len(b):
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            if len(diff) == 1:
                i = diff[0]
                return (
                    "one_digit_wrong",
                    f"one digit differs: typed {a[i]} where the meter shows {b[i]}",
                    {"position": i, "typed": a[i], "read": b[i]},
                )
            if (
                len(diff) == 2
                and diff[1] == diff[0] + 1
                and a[diff[0]] == b[diff[1]]
                and a[diff[1]] == b[diff[0]]
            ):
                i = diff[0]
                return (
                    "adjacent_digits_swapped",
                    f"two digits swapped: typed {a[i : i + 2]} where the meter shows {b[i : i + 2]}",
                    {"position": i},
                )
        elif len(a) + 1 == len(b) and (i := _one_edit(a, b)) is not None:
            return (
                "digit_missing",
                f"a digit is missing: the meter shows a {b[i]} the typed reading lacks",
                {"position": i, "digit": b[i]},
            )
        elif len(a) == len(b) + 1 and (i := _one_edit(b, a)) is not None:
            return "digit_extra", f"an extra digit was typed: {a[i]}", {"position": i, "digit": a[i]}
    return "typed_differs", f"typed {typed} but the meter shows {read}", {}


def check(typed: Reading, read: ReaderResult, shown: Reading) -> tuple[list[Finding], Reading | None]:
    """Findings, and the verified reading when typed and read agree.

    ``shown`` is ``lower_reading(read)``: what the photo says, the lower figure of any turning drum.
    """
    if not read.digits:
        return [], None
    if typed.units == shown.units and typed.decimals == shown.decimals or _matches(typed, read):
        return [], shown
    code, message, evidence = explain_mismatch(typed, Reading.from_digits(read.digits, read.decimals))
    evidence.update(
        typed=str(typed), read=str(Reading.from_digits(read.digits, read.decimals)), likely=str(shown)
    )
    return [Finding(code, "review", message + f"; the photo suggests {shown}", evidence)], None
