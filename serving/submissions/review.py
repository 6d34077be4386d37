"""The one review door: a reviewer's verdict (API or UI) takes the claim or is refused, is checked like an
automatic reading, recorded once with its audit row, and wakes the courier; supervisors reopen and clear flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

import verification as v
from verification.rules.window import local_date
from vision.reading import Meter

from .. import delivery, draws, metrics, tables
from ..service import Service
from ..tables import EVENT_REOPENED
from .facts import consumer_facts, lock_consumer, submission_facts
from .record import FINAL, emit, record


def reader_reading(sub: tables.Submission) -> str | None:
    """What the reader offers a reviewer: its reading of the region the reviewer picked, else the decision's
    (``verification.offered_reading``: none unless the reader saw the whole register)."""
    picked = (sub.reading or {}).get("picked")
    return picked.get("offered") if picked else (sub.decision or {}).get("proposed_reading")


def read_region(svc: Service, digest: str, quad: list, consumer: tables.Consumer) -> dict:
    """The reader's reading of one region of the photo (a reviewer picked it as the register), with what it
    offers in the meter's layout (``offered``). Raises ``StoreUnavailable`` or ``PhotoMissing``."""
    data = svc.store.get(digest)
    out = svc.reader.read_region(data, quad, Meter(consumer.meter_digits, consumer.meter_decimals)).to_dict()
    out.pop("others", None)
    offered = v.offered_reading(v.ReaderResult.from_reading(out), consumer_facts(consumer))
    out["offered"] = str(offered) if offered is not None else None
    return out


class ItemClaimed(Exception):
    """Another reviewer holds the item (a claim that has not expired): ``holder`` and ``until`` say who and
    how long."""

    def __init__(self, holder: str, until: datetime) -> None:
        super().__init__(f"{holder} is reviewing this item (until {until:%H:%M} UTC)")
        self.holder, self.until = holder, until


def settle(
    svc: Service,
    submission_id: str,
    reviewer: str,
    value: v.Reading | None,
    why: str = "",
    rollover: bool = False,
    *,
    utility: str | None = None,
    action: str = "",
    own_claim: bool = False,
    new_meter: tuple[int, int] | None = None,
) -> None:
    """The one door for a person's verdict, from the API and the review UI alike: accept with ``value`` or
    reject (``value`` None, with ``why``) a submission in review, in one transaction with its audit row; then
    the courier is woken so billing hears of it now.

    ``utility``: the reviewer's (None: any, an operator). An item another reviewer holds is refused
    (``ItemClaimed``); with ``own_claim`` (the UI) the reviewer must hold it. ``new_meter`` (digits, decimals):
    the photo shows a meter fitted since the last reading; the consumer's record takes its register and the
    value goes into the history as the new meter's first reading. Raises ``v.ReviewRefused`` for a
    reading that cannot be right (``rollover``: the reviewer says the counter went round), ``LookupError`` for
    no such submission, ``ValueError`` when it is not waiting for review."""
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(tables.Submission, submission_id)
        if sub is None or (utility is not None and sub.utility != utility):
            raise LookupError(submission_id)
        if sub.status != v.NEEDS_REVIEW:
            raise ValueError(f"submission is {sub.status}, not waiting for review")
        held = sub.claimed_by if sub.claim_until is not None and sub.claim_until > tables.utcnow() else None
        if held is not None and held != reviewer:
            raise ItemClaimed(held, sub.claim_until)
        if own_claim and held != reviewer:
            raise ValueError("open the item first: the claim on it has expired")
        consumer = lock_consumer(s, sub.consumer_number)
        config = svc.utility_config(consumer.utility)
        decision = v.Decision.from_dict(sub.decision)
        if value is None:
            settled = v.reject_after_review(decision, reviewer, why or "rejected by the reviewer")
            draws.disqualify(s, sub, reviewer, why or "rejected by the reviewer")  # if it was drawn
        else:
            facts = submission_facts(s, sub, consumer, sub.reading, config)
            settled = v.accept_after_review(decision, facts, value, reviewer, config, rollover, new_meter)
        reader_value, typed = reader_reading(sub), sub.typed_reading
        if not record(
            s, sub, settled, sub.reading, local_date(sub.submitted_at, config.window), expect=v.NEEDS_REVIEW
        ):
            raise ValueError("submission was settled by someone else meanwhile")
        if new_meter is not None and value is not None:
            consumer.meter_digits, consumer.meter_decimals = new_meter
            s.execute(
                update(tables.PastReading)
                .where(tables.PastReading.submission_id == submission_id)
                .values(meter_replaced=True)
            )
            why = f"new meter: {new_meter[0]} digits, {new_meter[1]} decimal(s)" + (f"; {why}" if why else "")
        s.add(
            tables.ReviewAction(
                submission_id=submission_id,
                utility=sub.utility,
                username=reviewer[:64],
                action=(action or ("accept" if value is not None else "reject"))[:20],
                before={"status": v.NEEDS_REVIEW, "verified_reading": None},
                after={"status": settled.status, "verified_reading": settled.verified_reading},
                reason=why[:500],
                reader_value=reader_value,
                typed=typed,
            )
        )
        metrics.DECISIONS.labels(settled.status, "reviewer").inc()
    delivery.wake(svc)


def review_refusal(svc: Service, s: Session, sub: tables.Submission, value: v.Reading) -> str | None:
    """Why a reviewer could not accept ``value`` for this submission now (the rule's words), or None."""
    consumer = s.get(tables.Consumer, sub.consumer_number)
    config = svc.utility_config(consumer.utility)
    try:
        v.check_reviewed(value, submission_facts(s, sub, consumer, sub.reading or {}, config), config=config)
    except v.ReviewRefused as e:
        return str(e)
    return None


def clear_reuse(svc: Service, submission_id: str, supervisor: str, why: str) -> None:
    """A supervisor clears an item's "another consumer's photo" flag (the two photos are of different meters
    after all): the item can then enter the draw when accepted. Only while it is in review; ``ValueError``
    otherwise, ``LookupError`` for no such submission."""
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(tables.Submission, submission_id)
        if sub is None:
            raise LookupError(submission_id)
        if sub.status != v.NEEDS_REVIEW:
            raise ValueError(f"submission is {sub.status}: a flag is cleared while the item is in review")
        decision = dict(sub.decision)
        reasons, cleared = [], False
        for r in decision["reasons"]:
            if r["code"] == "photo_reused" and not r["evidence"].get("same_consumer"):
                r = {**r, "evidence": {**r["evidence"], "cleared_by": supervisor, "cleared_why": why[:500]}}
                cleared = True
            reasons.append(r)
        if not cleared:
            raise ValueError("the item carries no flag of another consumer's photo")
        sub.decision = {**decision, "reasons": reasons}
        sub.updated_at = tables.utcnow()


def reopen(svc: Service, submission_id: str, supervisor: str, why: str) -> None:
    """A supervisor sends a final decision back to review. Billing receives ``submission.reopened`` (the
    earlier verified reading is withdrawn); the next decision is a new ``submission.decided`` event.

    Raises ``LookupError`` for no such submission, ``ValueError`` when it is not decided."""
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(tables.Submission, submission_id)
        if sub is None:
            raise LookupError(submission_id)
        if sub.status not in FINAL:
            raise ValueError(f"submission is {sub.status}, not decided")
        lock_consumer(s, sub.consumer_number)
        decision = dict(sub.decision)
        decision["reasons"] = [r for r in decision["reasons"] if r["code"] != "rejected_by_reviewer"] + [
            {
                "code": "reopened",
                "outcome": "review",
                "message": f"reopened by {supervisor}: {why}"[:500],
                "evidence": {
                    "supervisor": supervisor,
                    "was": sub.status,
                    "verified_reading": sub.verified_reading,
                },
            }
        ]
        decision.update(
            status=v.NEEDS_REVIEW,
            verified_reading=None,
            lucky_draw_eligible=False,
            lucky_draw_reason="in review",
        )
        s.execute(delete(tables.PastReading).where(tables.PastReading.submission_id == sub.id))
        sub.status, sub.decision, sub.verified_reading, sub.lucky_draw_eligible = (
            v.NEEDS_REVIEW,
            decision,
            None,
            False,
        )
        sub.review_reasons = f" {' '.join(r['code'] for r in decision['reasons'])} "
        sub.revision, sub.updated_at, sub.decided_at = sub.revision + 1, tables.utcnow(), None
        s.flush()
        emit(s, sub, EVENT_REOPENED)
