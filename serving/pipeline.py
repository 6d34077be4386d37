"""One submission through the pipeline: photo -> reading -> decision, stored once, whatever happens.

``process`` may run twice for the same submission (a worker died, a task was queued again): the decision is
written by a conditional update, so only the first run to finish decides, and only that run writes the event
billing receives. ``settle`` is the same for a reviewer's verdict.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

import verification as v
from verification.rules.window import local_date
from vision.reading import Meter

from . import db, delivery, draws, metrics
from .service import Service
from .store import PhotoMissing, StoreUnavailable

log = logging.getLogger("meterverify.pipeline")

FINAL = (v.ACCEPTED, v.REJECTED)
DECIDED = (v.ACCEPTED, v.NEEDS_REVIEW, v.REJECTED)
EVENT_DECIDED = "submission.decided"
EVENT_REOPENED = "submission.reopened"
PHASH_BANDS = 8
# A submission whose runs crashed the worker this often goes to a person instead of being tried forever;
# runs whose worker was killed from outside (a deploy, the OOM killer, a lost node) have a larger allowance.
MAX_CRASHES = 5
MAX_RUNS = 25


def _unreadable(reason: str, message: str) -> dict:
    return {"readable": False, "reason": reason, "quality": [], "messages": [message]}


def process(svc: Service, submission_id: str) -> str | None:
    """Read and decide one submission. Returns its status, or None if there is no such submission.

    Raises ``StoreUnavailable`` (or a database error) when the caller should retry later. Such an outage is
    not the photo's fault, so it does not count as an attempt: attempts count only runs that reached the
    reader. A photo that crashes the worker every time ends with a person after ``MAX_CRASHES`` crashes
    (``record_lost_run``); a run whose worker was killed from outside costs only one of ``MAX_RUNS``.
    """
    now = db.utcnow()
    with svc.sessions.begin() as s:
        sub = s.get(db.Submission, submission_id)
        if sub is None:
            log.warning("submission %s does not exist; task dropped", submission_id)
            return None
        if sub.status in DECIDED:
            return sub.status
        lease = timedelta(seconds=svc.settings.processing_lease_s)
        sub.status, sub.attempts, sub.updated_at, sub.lease_until = (
            "processing",
            sub.attempts + 1,
            now,
            now + lease,
        )
        digest, attempts, crashes, typed = sub.photo_sha256, sub.attempts, sub.crashes, sub.typed_reading
        record = s.get(db.Consumer, sub.consumer_number)
        meter = Meter(record.meter_digits, record.meter_decimals) if record is not None else None
    if crashes >= MAX_CRASHES:
        reading = _unreadable("processing_failed", f"reading the photo crashed the worker {crashes} times")
    elif attempts > MAX_RUNS:
        reading = _unreadable("processing_failed", f"processing was cut short {attempts - 1} times")
    else:
        try:
            reading = _read(svc, digest, typed, meter)
        except StoreUnavailable:
            _give_back(svc, submission_id)
            raise
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(db.Submission, submission_id)
        consumer = _lock_consumer(s, sub.consumer_number)
        config = svc.utility_config(consumer.utility)
        facts = _submission_facts(s, sub, consumer, reading, config)
        decision = v.decide(facts, config)
        day = local_date(sub.submitted_at, config.window)
        if _record(s, sub, decision, reading, day):
            metrics.DECISIONS.labels(decision.status, "automatic").inc()
        return s.get(db.Submission, submission_id).status


def record_lost_run(svc: Service, submission_id: str, crashed: bool) -> None:
    """The worker process running this submission died (its pool's parent saw it go): a crash (a signal a
    photo can cause: SIGSEGV, SIGABRT, ...) counts against ``MAX_CRASHES``; a kill from outside does not."""
    if crashed:
        with svc.sessions.begin() as s:
            s.execute(
                update(db.Submission)
                .where(db.Submission.id == submission_id, db.Submission.status == "processing")
                .values(crashes=db.Submission.crashes + 1)
            )


def _give_back(svc: Service, submission_id: str) -> None:
    """Undo this run's claim: the attempt did not happen, and the next run may start at once."""
    with svc.sessions.begin() as s:
        s.execute(
            update(db.Submission)
            .where(db.Submission.id == submission_id, db.Submission.status == "processing")
            .values(status="received", attempts=db.Submission.attempts - 1, lease_until=None)
        )


def _read(svc: Service, digest: str, typed: str, meter: Meter | None) -> dict:
    """What the photo shows, and whether it shows the typed reading (``typed_verdict``)."""
    try:
        data = svc.store.get(digest)  # StoreUnavailable: the caller retries later
    except PhotoMissing:
        return _unreadable("photo_missing", "the photo is missing from the store")
    start = time.perf_counter()
    reader = svc.reader
    try:
        reading = reader.verify(data, typed, meter).to_dict()
    except Exception:  # a bug in reading must not lose the submission: a person looks at it instead
        log.exception("reading photo %s failed", digest)
        return _unreadable("reader_error", "the photo could not be read (internal error)")
    metrics.READ_SECONDS.observe(time.perf_counter() - start)
    reading["reader_version"] = reader.version
    shadow = svc.models.shadow
    if shadow is not None:  # a candidate reads beside the served model; decisions never look at it
        try:
            seen = shadow.read(data, meter)
            reading["shadow"] = {"version": shadow.version, "value": seen.value,
                                 "confidence": seen.confidence, "readable": seen.readable}  # fmt: skip
        except Exception:
            log.exception("the shadow reader failed on photo %s", digest)
    return reading


def reader_reading(sub: db.Submission) -> str | None:
    """What the reader offers a reviewer: its reading of the region the reviewer picked, else the decision's
    (``verification.offered_reading``: none unless the reader saw the whole register)."""
    picked = (sub.reading or {}).get("picked")
    return picked.get("offered") if picked else (sub.decision or {}).get("proposed_reading")


def read_region(svc: Service, digest: str, quad: list, consumer: db.Consumer) -> dict:
    """The reader's reading of one region of the photo (a reviewer picked it as the register), with what it
    offers in the meter's layout (``offered``). Raises ``StoreUnavailable`` or ``PhotoMissing``."""
    data = svc.store.get(digest)
    out = svc.reader.read_region(data, quad).to_dict()
    out.pop("others", None)
    offered = v.offered_reading(v.ReaderResult.from_reading(out), _consumer(consumer))
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
        sub = s.get(db.Submission, submission_id)
        if sub is None or (utility is not None and sub.utility != utility):
            raise LookupError(submission_id)
        if sub.status != v.NEEDS_REVIEW:
            raise ValueError(f"submission is {sub.status}, not waiting for review")
        held = sub.claimed_by if sub.claim_until is not None and sub.claim_until > db.utcnow() else None
        if held is not None and held != reviewer:
            raise ItemClaimed(held, sub.claim_until)
        if own_claim and held != reviewer:
            raise ValueError("open the item first: the claim on it has expired")
        consumer = _lock_consumer(s, sub.consumer_number)
        config = svc.utility_config(consumer.utility)
        decision = v.Decision.from_dict(sub.decision)
        if value is None:
            settled = v.reject_after_review(decision, reviewer, why or "rejected by the reviewer")
            draws.disqualify(s, sub, reviewer, why or "rejected by the reviewer")  # if it was drawn
        else:
            facts = _submission_facts(s, sub, consumer, sub.reading, config)
            settled = v.accept_after_review(decision, facts, value, reviewer, config, rollover, new_meter)
        reader_value, typed = reader_reading(sub), sub.typed_reading
        if not _record(
            s, sub, settled, sub.reading, local_date(sub.submitted_at, config.window), expect=v.NEEDS_REVIEW
        ):
            raise ValueError("submission was settled by someone else meanwhile")
        if new_meter is not None and value is not None:
            consumer.meter_digits, consumer.meter_decimals = new_meter
            s.execute(update(db.PastReading).where(db.PastReading.submission_id == submission_id)
                      .values(meter_replaced=True))  # fmt: skip
            why = f"new meter: {new_meter[0]} digits, {new_meter[1]} decimal(s)" + (f"; {why}" if why else "")
        s.add(db.ReviewAction(
            submission_id=submission_id, utility=sub.utility, username=reviewer[:64],
            action=(action or ("accept" if value is not None else "reject"))[:20],
            before={"status": v.NEEDS_REVIEW, "verified_reading": None},
            after={"status": settled.status, "verified_reading": settled.verified_reading},
            reason=why[:500], reader_value=reader_value, typed=typed,
        ))  # fmt: skip
        metrics.DECISIONS.labels(settled.status, "reviewer").inc()
    delivery.wake(svc)


def review_refusal(svc: Service, s: Session, sub: db.Submission, value: v.Reading) -> str | None:
    """Why a reviewer could not accept ``value`` for this submission now (the rule's words), or None."""
    consumer = s.get(db.Consumer, sub.consumer_number)
    config = svc.utility_config(consumer.utility)
    try:
        v.check_reviewed(value, _submission_facts(s, sub, consumer, sub.reading or {}, config), config=config)
    except v.ReviewRefused as e:
        return str(e)
    return None


def clear_reuse(svc: Service, submission_id: str, supervisor: str, why: str) -> None:
    """A supervisor clears an item's "another consumer's photo" flag (the two photos are of different meters
    after all): the item can then enter the draw when accepted. Only while it is in review; ``ValueError``
    otherwise, ``LookupError`` for no such submission."""
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(db.Submission, submission_id)
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
        sub.updated_at = db.utcnow()


def reopen(svc: Service, submission_id: str, supervisor: str, why: str) -> None:
    """A supervisor sends a final decision back to review. Billing receives ``submission.reopened`` (the
    earlier verified reading is withdrawn); the next decision is a new ``submission.decided`` event.

    Raises ``LookupError`` for no such submission, ``ValueError`` when it is not decided."""
    with svc.decision_lock(), svc.sessions.begin() as s:
        sub = s.get(db.Submission, submission_id)
        if sub is None:
            raise LookupError(submission_id)
        if sub.status not in FINAL:
            raise ValueError(f"submission is {sub.status}, not decided")
        _lock_consumer(s, sub.consumer_number)
        decision = dict(sub.decision)
        decision["reasons"] = [r for r in decision["reasons"] if r["code"] != "rejected_by_reviewer"] + [
            {"code": "reopened", "outcome": "review", "message": f"reopened by {supervisor}: {why}"[:500],
             "evidence": {"supervisor": supervisor, "was": sub.status, "verified_reading": sub.verified_reading}}
        ]  # fmt: skip
        decision.update(status=v.NEEDS_REVIEW, verified_reading=None, lucky_draw_eligible=False,
                        lucky_draw_reason="in review")  # fmt: skip
        s.execute(delete(db.PastReading).where(db.PastReading.submission_id == sub.id))
        sub.status, sub.decision, sub.verified_reading, sub.lucky_draw_eligible = (
            v.NEEDS_REVIEW,
            decision,
            None,
            False,
        )
        sub.review_reasons = f" {' '.join(r['code'] for r in decision['reasons'])} "
        sub.revision, sub.updated_at, sub.decided_at = sub.revision + 1, db.utcnow(), None
        s.flush()
        _emit(s, sub, EVENT_REOPENED)


def _lock_consumer(s: Session, number: str) -> db.Consumer:
    # Row lock on PostgreSQL: two submissions of one consumer are decided one after the other, so the
    # history and the one-draw-entry-a-month rule see each other. (SQLite: the service's decision lock.)
    return s.execute(select(db.Consumer).where(db.Consumer.number == number).with_for_update()).scalar_one()


def _submission_facts(
    s: Session, sub: db.Submission, consumer: db.Consumer, reading: dict, config: v.UtilityConfig
) -> v.Submission:
    today = local_date(sub.submitted_at, config.window)
    month = f"{today.year:04d}-{today.month:02d}"
    entries = s.scalar(
        select(func.count()).where(
            db.Submission.consumer_number == consumer.number,
            db.Submission.month == month,
            db.Submission.lucky_draw_eligible.is_(True),
            db.Submission.id != sub.id,
        )
    )
    history = s.scalars(
        select(db.PastReading)
        .where(db.PastReading.consumer_number == consumer.number, db.PastReading.on <= today)
        .where(or_(db.PastReading.submission_id.is_(None), db.PastReading.submission_id != sub.id))
        .order_by(db.PastReading.on)
    ).all()
    return v.Submission(
        consumer=_consumer(consumer),
        typed=v.Reading.parse(sub.typed_reading),
        read=v.ReaderResult.from_reading(reading),
        photo=v.PhotoFacts(
            submitted_at=sub.submitted_at,
            exif_taken_at=_taken_at(sub.photo_taken, config),
            nearest_earlier_photo=_nearest_earlier_photo(s, sub, reading.get("photo_hash"), config),
        ),
        history=tuple(v.PastReading(p.on, v.Reading.parse(p.reading), p.meter_replaced) for p in history),
        lucky_draw_entries_this_month=entries or 0,
        draw_closed=draws.is_closed(s, consumer.utility, month),
    )


def _consumer(consumer: db.Consumer) -> v.Consumer:
    return v.Consumer(consumer.number, consumer.meter_digits, consumer.meter_decimals,
                      consumer.sanctioned_load_kw, consumer.utility)  # fmt: skip


def _taken_at(exif: str | None, config: v.UtilityConfig) -> datetime | None:
    """The EXIF time; a camera that wrote no offset kept the utility's local time."""
    if not exif:
        return None  # stripped by a messaging app: not suspicious by itself
    when = datetime.fromisoformat(exif)
    return when if when.tzinfo is not None else when.replace(tzinfo=config.window.tz)


def hash_bands(photo_hash: str) -> list[int]:
    h = int(photo_hash, 16)
    return [(h >> (8 * band)) & 0xFF for band in range(PHASH_BANDS)]


def _nearest_earlier_photo(
    s: Session, sub: db.Submission, photo_hash: str | None, config: v.UtilityConfig
) -> v.EarlierPhoto | None:
    """The earlier submission of the utility whose photo looks most like this one, with what it showed."""
    if not photo_hash:
        return None
    bands = hash_bands(photo_hash)
    matches = or_(*(
        (db.PhotoHashBand.band == band) & (db.PhotoHashBand.value == value) for band, value in enumerate(bands)
    ))  # fmt: skip
    S = db.Submission
    rows = s.execute(
        select(S.id, S.photo_hash)
        .join(db.PhotoHashBand, db.PhotoHashBand.submission_id == S.id)
        .where(matches, S.id != sub.id, S.received_at <= sub.received_at)
        .where(S.utility == sub.utility)  # evidence never points into another utility
        .distinct()
    ).all()
    mine = int(photo_hash, 16)
    best = min(rows, key=lambda r: ((int(r.photo_hash, 16) ^ mine).bit_count(), r.id), default=None)
    if best is None:
        return None
    earlier = s.get(S, best.id)
    return v.EarlierPhoto(
        submission_id=earlier.id,
        distance=(int(best.photo_hash, 16) ^ mine).bit_count(),
        consumer_number=earlier.consumer_number,
        same_consumer=earlier.consumer_number == sub.consumer_number,
        same_file=earlier.photo_sha256 == sub.photo_sha256,
        sent_on=local_date(earlier.submitted_at, config.window),
        reading=earlier.verified_reading or (earlier.decision or {}).get("proposed_reading"),
    )


def _record(
    s: Session, sub: db.Submission, decision: v.Decision, reading: dict, day: date, expect: str | None = None
) -> bool:
    """Write the decision unless another run already did; on a final decision also the event and outbox rows."""
    now = db.utcnow()
    undecided = db.Submission.status.not_in(DECIDED) if expect is None else db.Submission.status == expect
    won = s.execute(
        update(db.Submission)
        .where(db.Submission.id == sub.id, undecided)
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
            db.PhotoHashBand(band=b, value=val, submission_id=sub.id)
            for b, val in enumerate(hash_bands(reading["photo_hash"]))
        )
    if decision.status in FINAL:
        _emit_decided(s, sub, day)
    return True


def _emit_decided(s: Session, sub: db.Submission, on: date) -> None:
    if sub.status == v.ACCEPTED:
        exists = s.scalar(
            select(func.count()).where(
                db.PastReading.consumer_number == sub.consumer_number, db.PastReading.on == on
            )
        )
        if not exists:  # one verified reading a day; a second accepted photo the same day adds nothing
            s.add(
                db.PastReading(
                    consumer_number=sub.consumer_number,
                    on=on,
                    reading=sub.verified_reading,
                    submission_id=sub.id,
                )
            )
    _emit(s, sub, EVENT_DECIDED)


def _codes(decision: v.Decision) -> str:
    return f" {' '.join(decision.reasons)} "  # spaces around each code: the review queue filters with LIKE


def _emit(s: Session, sub: db.Submission, event_type: str) -> None:
    """An event for billing (the feed) and a delivery to each of the utility's endpoints (the outbox)."""
    event = db.Event(
        id=str(uuid.uuid4()), type=event_type, submission_id=sub.id, utility=sub.utility,
        revision=sub.revision, payload=submission_view(sub),
    )  # fmt: skip
    s.add(event)
    s.flush()
    endpoints = s.scalars(
        select(db.WebhookEndpoint.id).where(
            db.WebhookEndpoint.active.is_(True), db.WebhookEndpoint.utility == sub.utility
        )
    ).all()
    s.add_all(db.Delivery(event_seq=event.seq, endpoint_id=e, next_attempt_at=db.utcnow()) for e in endpoints)


def submission_view(sub: db.Submission) -> dict:
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
