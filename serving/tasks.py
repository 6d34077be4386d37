"""Running the pipeline: Celery tasks (distributed) or a thread pool (embedded), plus the sweeper.

Both queues run the same function, ``run_submission``. Celery is configured so that no job is lost:
``acks_late`` (a job is acknowledged only when done) and ``reject_on_worker_lost`` (a worker killed mid-job
puts it back), one job prefetched at a time. Whatever still slips through (the broker was down when the API
queued the job) the sweeper queues again; ``pipeline.process`` makes the repeat harmless.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from meterverify.settings import get_settings

from . import db, delivery, pipeline
from .service import Service, TaskQueue
from .store import StoreUnavailable

log = logging.getLogger("meterverify.tasks")

TRANSIENT = (StoreUnavailable, OperationalError, SoftTimeLimitExceeded)


def run_submission(svc: Service, submission_id: str) -> str | None:
    """Process a submission, then try to deliver its event at once (the sweeper retries what fails)."""
    status = pipeline.process(svc, submission_id)
    if status in pipeline.FINAL:
        delivery.deliver_submission_event(svc, submission_id)
    return status


# --- embedded: a thread pool in this process -------------------------------------------------------------


class InProcessQueue:
    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.pool = ThreadPoolExecutor(svc.settings.inprocess_workers, thread_name_prefix="meterverify-task")

    def enqueue(self, submission_id: str) -> None:
        self.pool.submit(self._run, submission_id)

    def ping(self) -> None:
        pass  # the pool is this process

    def _run(self, submission_id: str) -> None:
        try:
            run_submission(self.svc, submission_id)
        except TRANSIENT as e:  # the sweeper queues it again after stale_after_s
            log.warning("submission %s: %s; will retry", submission_id, e)
        except Exception:
            log.exception("submission %s failed", submission_id)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)


# --- distributed: Celery ---------------------------------------------------------------------------------

celery_app = Celery("meterverify")
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=3,
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    worker_hijack_root_logger=False,
    task_soft_time_limit=120,  # a job hung on I/O is stopped and retried instead of holding a worker
    task_time_limit=150,
)


class CeleryQueue:
    def __init__(self, svc: Service) -> None:
        celery_app.conf.broker_url = svc.settings.broker_url
        self.queue_name = svc.settings.task_queue

    def enqueue(self, submission_id: str) -> None:
        process_submission.apply_async(args=[submission_id], queue=self.queue_name, retry=True)

    def ping(self) -> None:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)

    def close(self) -> None:
        pass  # queued jobs live in the broker


@cache
def worker_service() -> Service:
    """The worker process's service, built from the settings on first use."""
    return Service.from_settings(get_settings())


@celery_app.task(name="meterverify.process_submission", bind=True, max_retries=None)
def process_submission(self, submission_id: str) -> str | None:
    try:
        return run_submission(worker_service(), submission_id)
    except TRANSIENT as e:
        countdown = min(300, 2 ** min(self.request.retries, 8))
        log.warning("submission %s: %s; retry in %d s", submission_id, e, countdown)
        raise self.retry(exc=e, countdown=countdown) from e


def make_queue(svc: Service) -> TaskQueue:
    return InProcessQueue(svc) if svc.settings.embedded_broker else CeleryQueue(svc)


# --- the sweeper: jobs that fell through, deliveries that are due -----------------------------------------


def requeue_stale(svc: Service) -> int:
    """Queue again the submissions not decided ``stale_after_s`` after their last change."""
    cutoff = db.utcnow() - timedelta(seconds=svc.settings.stale_after_s)
    with svc.sessions() as s:
        ids = s.scalars(
            select(db.Submission.id)
            .where(db.Submission.status.in_(("received", "processing")), db.Submission.updated_at < cutoff)
            .limit(500)
        ).all()
    queued = 0
    for submission_id in ids:
        with svc.sessions.begin() as s:  # claim: only one sweeper re-queues it
            claimed = s.execute(
                update(db.Submission)
                .where(db.Submission.id == submission_id, db.Submission.updated_at < cutoff)
                .where(db.Submission.status.in_(("received", "processing")))
                .values(updated_at=db.utcnow())
            ).rowcount
        if claimed:
            svc.queue.enqueue(submission_id)
            queued += 1
    return queued


def sweep_once(svc: Service) -> None:
    requeue_stale(svc)
    delivery.deliver_due(svc)


class Sweeper(threading.Thread):
    """Runs ``sweep_once`` every ``sweep_every_s`` until stopped; errors are logged, never fatal."""

    def __init__(self, svc: Service) -> None:
        super().__init__(name="meterverify-sweeper", daemon=True)
        self.svc = svc
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.svc.settings.sweep_every_s):
            try:
                sweep_once(self.svc)
            except Exception as e:  # the database or store is down: try again next round
                log.warning("sweep failed: %s", e)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
