"""Writing a decision once (a conditional update: the first run to finish decides), the verified reading into
the history, and what billing learns: the event, its outbox rows and the one shape of a submission billing sees."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import verification as v

from .. import tables
from ..tables import EVENT_DECIDED
from .facts import hash_bands

FINAL = (v.ACCEPTED, v.REJECTED)


DECIDED = (v.ACCEPTED, v.NEEDS_REVIEW, v.REJECTED)


def record(
    s: Session,
    sub: tables.Submission,
    decision: v.Decision,
    reading: dict,
    day: date,
    expect: str | None = None,
) -> bool:
    """Write the decision unless another run already did; on a final decision also the event and outbox rows."""
    now = tables.utcnow()
    undecided = (
        tables.Submission.status.not_in(DECIDED) if expect is None else tables.Submission.status == expect
    )
    won = s.execute(
        update(tables.Submission)
        .where(tables.Submission.id == sub.id, undecided)
        .values(
            status=decision.status,
            decision=decision.to_dict(),
            reading=reading,
            verified_reading=decision.verified_reading,
            lucky_draw_eligible=decision.lucky_draw_eligible,
            month=decision.month,
            photo_hash=reading.get("photo_hash"),
            decided_at=now,
            updated_at=now,
            lease_until=None,
            review_reasons=_codes(decision) if decision.status == v.NEEDS_REVIEW else None,
            claimed_by=None,
            claim_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        return False
    s.expire(sub)
    if expect is None and reading.get("photo_hash"):
        s.add_all(
            tables.PhotoHashBand(band=b, value=val, submission_id=sub.id)
            for b, val in enumerate(hash_bands(reading["photo_hash"]))
        )
    if decision.status in FINAL:
        _emit_decided(s, sub, day)
    return True


def _emit_decided(s: Session, sub: tables.Submission, on: date) -> None:
    if sub.status == v.ACCEPTED:
        exists = s.scalar(
            select(func.count()).where(
                tables.PastReading.consumer_number == sub.consumer_number, tables.PastReading.on == on
            )
        )
        if not exists:  # one verified reading a day; a second accepted photo the same day adds nothing
            s.add(
                tables.PastReading(
                    consumer_number=sub.consumer_number,
                    on=on,
                    reading=sub.verified_reading,
                    submission_id=sub.id,
                )
            )
    emit(s, sub, EVENT_DECIDED)


def _codes(decision: v.Decision) -> str:
    return f" {' '.join(decision.reasons)} "  # spaces around each code: the review queue filters with LIKE


def emit(s: Session, sub: tables.Submission, event_type: str) -> None:
    """An event for billing (the feed) and a delivery to each of the utility's endpoints (the outbox)."""
    event = tables.Event(
        id=str(uuid.uuid4()),
        type=event_type,
        submission_id=sub.id,
        utility=sub.utility,
        revision=sub.revision,
        payload=submission_view(sub),
    )
    s.add(event)
    s.flush()
    endpoints = s.scalars(
        select(tables.WebhookEndpoint.id).where(
            tables.WebhookEndpoint.active.is_(True), tables.WebhookEndpoint.utility == sub.utility
        )
    ).all()
    s.add_all(
        tables.Delivery(event_seq=event.seq, endpoint_id=e, next_attempt_at=tables.utcnow())
        for e in endpoints
    )


def submission_view(sub: tables.Submission) -> dict:
    """What billing sees of a submission: the API's answer and the events' payload."""
    decision = sub.decision or {}
    reading = sub.reading or {}
    return {
        "id": sub.id,
        "consumer_number": sub.consumer_number,
        "typed_reading": sub.typed_reading,
        "typed_as": sub.typed_as,
        "submitted_at": sub.submitted_at.isoformat(),
        "channel": sub.channel,
        "status": sub.status,
        "verified_reading": sub.verified_reading,
        "proposed_reading": decision.get("proposed_reading"),
        "read": {
            "value": reading.get("value"),
            "confidence": reading.get("confidence"),
            "readable": reading.get("readable"),
            "quality": reading.get("quality", []),
        }
        if reading
        else None,
        "reasons": decision.get("reasons", []),
        "lucky_draw_eligible": sub.lucky_draw_eligible,
        "lucky_draw_reason": decision.get("lucky_draw_reason"),
        "month": sub.month,
        "decided_by": decision.get("decided_by"),
        "decided_at": sub.decided_at.isoformat() if sub.decided_at else None,
        "photo_sha256": sub.photo_sha256,
    }
