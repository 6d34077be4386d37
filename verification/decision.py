"""Combine the rules into a decision: accepted, needs_review or rejected, with every reason and the draw flag."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .config import UtilityConfig, default_config
from .model import Consumer, Finding, ReaderResult, Reading, Submission, meter_spec_ok
from .rules import history, photo, reader, typed, window

ACCEPTED, NEEDS_REVIEW, REJECTED = "accepted", "needs_review", "rejected"


@dataclass(slots=True)  # not frozen: frozen dataclasses are slow to build, and this is the hot path
class Decision:
    status: str
    verified_reading: str | None  # set when accepted
    proposed_reading: str | None  # what the photo shows, for the reviewer (never applied silently)
    findings: tuple[Finding, ...]
    lucky_draw_eligible: bool
    lucky_draw_reason: str
    month: str  # YYYY-MM of the submission in the utility's time zone
    in_window: bool
    decided_by: str = "automatic"

    @property
    def reasons(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "verified_reading": self.verified_reading,
            "proposed_reading": self.proposed_reading,
            "reasons": [
                {"code": f.code, "outcome": f.outcome, "message": f.message, "evidence": f.evidence}
                for f in self.findings
            ],
            "lucky_draw_eligible": self.lucky_draw_eligible,
            "lucky_draw_reason": self.lucky_draw_reason,
            "month": self.month,
            "in_window": self.in_window,
            "decided_by": self.decided_by,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        """The inverse of ``to_dict`` (a stored decision, to be settled by a reviewer)."""
        findings = tuple(Finding(r["code"], r["outcome"], r["message"], r["evidence"]) for r in d["reasons"])
        return cls(
            status=d["status"],
            verified_reading=d["verified_reading"],
            proposed_reading=d["proposed_reading"],
            findings=findings,
            lucky_draw_eligible=d["lucky_draw_eligible"],
            lucky_draw_reason=d["lucky_draw_reason"],
            month=d["month"],
            in_window=d["in_window"],
            decided_by=d["decided_by"],
        )


ALREADY_ENTERED = "already entered this month"


def _lucky_draw(
    status: str, findings: tuple[Finding, ...], sub: Submission, inside: bool, config: UtilityConfig
) -> tuple[bool, str]:
    if status != ACCEPTED:
        return False, "not accepted"
    if sub.read.quality:
        return False, "the photo is not clear"
    if not inside:
        w = config.window
        return False, f"sent outside the self-reading days ({w.first_day}-{w.last_day} of the month)"
    # Another consumer's photo never enters, whatever a reviewer does, unless a supervisor cleared the flag.
    ev = [f.evidence for f in findings if f.code == "photo_reused"]
    if any(not e.get("same_consumer") and not e.get("cleared_by") for e in ev):
        return False, "the photo is like another consumer's"
    if sub.draw_closed:
        return False, "decided after the month's draw closed"
    if sub.lucky_draw_entries_this_month >= config.lucky_draw.entries_per_month:
        return False, ALREADY_ENTERED
    return True, "accepted with a clear photo inside the self-reading days"


def offered_reading(read: ReaderResult, consumer: Consumer) -> Reading | None:
    """The reading a reviewer is offered from a reader's result (see ``rules.typed.offered``)."""
    return typed.offered(read, consumer)


def decide(sub: Submission, config: UtilityConfig | None = None) -> Decision:
    """The automatic decision for one submission. Pure: the same submission always gets the same decision."""
    config = config or default_config()
    sub = replace(sub, read=typed.in_register(sub.read, sub.consumer))
    today = window.local_date(sub.photo.submitted_at, config.window)
    inside = window.in_window(today, config.window)
    verified = proposed = shown_text = None
    if sub.read.typed_verdict == "matches" and sub.read.readable:
        # The photo confirms the typed value itself (its likelihood beats every typing mistake's): the blind
        # reading's doubts about single digits no longer matter.
        findings: list[Finding] = []
        verified = sub.typed
        proposed = shown_text = str(sub.typed)
        findings += history.check(
            sub.typed,
            str(sub.typed.units).rjust(sub.consumer.meter_digits, "0"),
            sub.consumer,
            sub.history,
            today,
            config.history,
        )
    else:
        findings = reader.check(sub.read, config.reader)
    if verified is None and sub.read.digits and sub.read.readable:
        shown = typed.lower_reading(sub.read)
        shown_text = str(shown)
        typed_findings, verified = typed.check(sub.typed, sub.read, shown)
        findings += typed_findings
        findings += history.check(shown, sub.read.digits, sub.consumer, sub.history, today, config.history)
    if proposed is None:  # what a reviewer is offered: the whole register read (a screen doubt included)
        offered = typed.offered(sub.read, sub.consumer)
        proposed = str(offered) if offered is not None else None
    findings += photo.check(sub.photo, sub.read.quality, config.photo, shown_text)
    if not findings:
        status = ACCEPTED if verified is not None else NEEDS_REVIEW
    elif any(f.outcome == "reject" for f in findings):
        status = REJECTED
    else:
        status = NEEDS_REVIEW
    eligible, why = _lucky_draw(status, tuple(findings), sub, inside, config)
    return Decision(
        status=status,
        verified_reading=str(verified) if status == ACCEPTED else None,
        proposed_reading=proposed,
        findings=tuple(findings),
        lucky_draw_eligible=eligible,
        lucky_draw_reason=why,
        month=f"{today.year:04d}-{today.month:02d}",
        in_window=inside,
    )


class ReviewRefused(ValueError):
    """A reviewed reading that cannot be right: ``code`` names the rule, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_reviewed(
    value: Reading,
    sub: Submission,
    rollover: bool = False,
    config: UtilityConfig | None = None,
    new_meter: tuple[int, int] | None = None,
) -> None:
    """A reading a person enters must fit the meter and its history, like one the photo gives: the meter's
    width and decimals, never below the last reading but for a rollover the reviewer states, and no more
    than the sanctioned load can draw since the last reading (a rollover included). ``new_meter`` (digits,
    decimals): the photo shows a meter fitted since the last reading; the value is its first reading, checked
    against its register only (the old meter's history says nothing of it)."""
    config = config or default_config()
    meter = sub.consumer
    if new_meter is not None:
        if not meter_spec_ok(*new_meter):
            raise ReviewRefused(
                "bad_meter",
                f"a meter has 3 to 12 digit positions and fewer decimals; got {new_meter[0]}.{new_meter[1]}",
            )
        meter = replace(meter, meter_digits=new_meter[0], meter_decimals=new_meter[1])
    if value.decimals > meter.meter_decimals:
        raise ReviewRefused(
            "reading_decimals",
            f"{value} has {value.decimals} decimal(s); the meter shows {meter.meter_decimals}",
        )
    whole = value.units // 10**value.decimals
    if len(str(whole)) > meter.meter_digits - meter.meter_decimals:
        raise ReviewRefused(
            "reading_does_not_fit",
            f"{value} does not fit the meter ({meter.meter_digits} digits, {meter.meter_decimals} decimal(s))",
        )
    if not sub.history or new_meter is not None:
        return
    last = sub.history[-1]
    used, rolled = history.consumption(value, last.reading, meter)
    if rolled and not rollover:
        raise ReviewRefused(
            "below_last_reading",
            f"{value} is below the last verified reading {last.reading}: accept it as a rollover if the counter "
            "went round, or import the new meter's first reading with meter_replaced",
        )
    days = max(1, (window.local_date(sub.photo.submitted_at, config.window) - last.on).days)
    cap = history.load_cap(meter, days, config.history)
    if used > cap:
        went = " going round the counter" if rolled else ""
        raise ReviewRefused(
            "above_load_cap",
            f"{value} means {used:.0f} kWh in {days} days since {last.reading}{went}; the sanctioned "
            f"{meter.sanctioned_load_kw:g} kW can draw at most {cap:.0f} kWh",
        )


def accept_after_review(
    decision: Decision,
    sub: Submission,
    value: Reading,
    reviewer: str,
    config: UtilityConfig | None = None,
    rollover: bool = False,
    new_meter: tuple[int, int] | None = None,
) -> Decision:
    """A reviewer settles a submission with ``value`` (``ReviewRefused`` if it cannot be right; ``new_meter``:
    see ``check_reviewed``); lucky-draw eligibility follows the same rule as automatic."""
    config = config or default_config()
    check_reviewed(value, sub, rollover, config, new_meter)
    eligible, why = _lucky_draw(ACCEPTED, decision.findings, sub, decision.in_window, config)
    return replace(
        decision,
        status=ACCEPTED,
        verified_reading=str(value),
        lucky_draw_eligible=eligible,
        lucky_draw_reason=why,
        decided_by=reviewer,
    )


def reject_after_review(decision: Decision, reviewer: str, why: str) -> Decision:
    finding = Finding("rejected_by_reviewer", "reject", why, {"reviewer": reviewer})
    return replace(
        decision,
        status=REJECTED,
        verified_reading=None,
        findings=(*decision.findings, finding),
        lucky_draw_eligible=False,
        lucky_draw_reason="not accepted",
        decided_by=reviewer,
    )
