"""Reading and deciding one submission: photo -> reading -> facts -> decision -> record, whatever happens.

``process`` may run twice for the same submission (a worker died, a task was queued again): the decision is
written by a conditional update, so only the first run to finish decides, and only that run writes the event
billing receives."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import update

import verification as v
from verification.rules.window import local_date
from vision.reading import Meter

from .. import metrics, tables
from ..service import Service
from ..store import PhotoMissing, StoreUnavailable
from .facts import lock_consumer, submission_facts
from .record import DECIDED, record

# A submission whose runs crashed the worker this often goes to a person instead of being tried forever;
# runs whose worker was killed from outside (a deploy, the OOM killer, a lost node) have a larger allowance.
MAX_CRASHES = 5


MAX_RUNS = 25


log = logging.getLogger("meterverify.pipeline")


def _unreadable(reason: str, message: str) -> dict:
    return {"readable": False, "reason": reason, "quality": [], "messages": [message]}


def process(svc: Service, submission_id: str) -> str | None:
    """Read and decide one submission. Returns its status, or None if there is no such submission.

    Raises ``StoreUnavailable`` (or a database error) when the caller should retry later. Such an outage is
    not the photo's fault, so it does not count as an attempt: attempts count only runs that reached the
    reader. A photo that crashes the worker every time ends with a person after ``MAX_CRASHES`` crashes
    (``record_lost_run``); a run whose worker was killed from outside costs only one of ``MAX_RUNS``.
    """
    now = tables.utcnow()
    with svc.sessions.begin() as s:
        sub = s.get(tables.Submission, submission_id)
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
        row = s.get(tables.Consumer, sub.consumer_number)
        meter = Meter(row.meter_digits, row.meter_decimals) if row is not None else None
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
        sub = s.get(tables.Submission, submission_id)
        consumer = lock_consumer(s, sub.consumer_number)
        config = svc.utility_config(consumer.utility)
        facts = submission_facts(s, sub, consumer, reading, config)
        decision = v.decide(facts, config)
        day = local_date(sub.submitted_at, config.window)
        if record(s, sub, decision, reading, day):
            metrics.DECISIONS.labels(decision.status, "automatic").inc()
        return s.get(tables.Submission, submission_id).status


def record_lost_run(svc: Service, submission_id: str, crashed: bool) -> None:
    """The worker process running this submission died (its pool's parent saw it go): a crash (a signal a
    photo can cause: SIGSEGV, SIGABRT, ...) counts against ``MAX_CRASHES``; a kill from outside does not."""
    if crashed:
        with svc.sessions.begin() as s:
            s.execute(
                update(tables.Submission)
                .where(tables.Submission.id == submission_id, tables.Submission.status == "processing")
                .values(crashes=tables.Submission.crashes + 1)
            )


def _give_back(svc: Service, submission_id: str) -> None:
    """Undo this run's claim: the attempt did not happen, and the next run may start at once."""
    with svc.sessions.begin() as s:
        s.execute(
            update(tables.Submission)
            .where(tables.Submission.id == submission_id, tables.Submission.status == "processing")
            .values(status="received", attempts=tables.Submission.attempts - 1, lease_until=None)
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
            reading["shadow"] = {
                "version": shadow.version,
                "value": seen.value,
                "confidence": seen.confidence,
                "readable": seen.readable,
            }
        except Exception:
            log.exception("the shadow reader failed on photo %s", digest)
    return reading
