"""Running the pipeline: Celery tasks (distributed) or a thread pool (embedded), plus the sweeper.

Both queues run the same function, ``run_submission``. Celery is configured so that no job is lost:
``acks_late`` (a job is acknowledged only when done) and ``reject_on_worker_lost`` (a worker killed mid-job
puts it back), one job prefetched at a time. What still slips through is found by the sweeper within
seconds: a job never queued (the broker was down: ``queued_at`` is empty), a job whose worker died
(``lease_until`` passed), a job queued long ago and never started. ``submissions.process`` makes a repeat
harmless. Dependency outages (store, database) are retried quickly and do not count as attempts.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from billiard.exceptions import WorkerLostError
from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from celery.worker.request import Request
from kombu.exceptions import ChannelError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError

from . import delivery, metrics, submissions, tables
from .config import get_settings
from .service import Service, TaskQueue
from .store import StoreUnavailable

log = logging.getLogger("meterverify.tasks")

TRANSIENT = (StoreUnavailable, OperationalError, SoftTimeLimitExceeded)
UNDECIDED = ("received", "processing")


def retry_delay_s(retries: int, cap: float) -> float:
    """Wait before retrying a job that met an outage: 1, 2, 4, 8 s ... up to ``cap`` (short: when the
    store is back, the jobs follow within ``cap`` seconds)."""
    return min(cap, 2.0 ** min(retries, 10))


def run_submission(svc: Service, submission_id: str) -> str | None:
    """Process a submission; a final decision wakes the courier, which sends the webhook on its own time."""
    status = submissions.process(svc, submission_id)
    if status in submissions.FINAL:
        try:
            delivery.wake(svc)
        except Exception as e:  # the outbox row is written; the courier's next round sends it
            log.warning("could not wake the courier: %s", e)
    return status


def queue_submission(svc: Service, submission_id: str) -> bool:
    """Put a job on the queue (its row already says ``queued_at``: set when it was written). If the broker is
    down, clear ``queued_at`` so the sweeper queues it within seconds of the broker's return; False."""
    try:
        svc.queue.enqueue(submission_id)
    except Exception as e:
        metrics.DEPENDENCY_ERRORS.labels("broker").inc()
        log.warning("could not queue %s (%s); the sweeper will once the broker is back", submission_id, e)
        with svc.sessions.begin() as s:
            s.execute(
                update(tables.Submission).where(tables.Submission.id == submission_id).values(queued_at=None)
            )
        return False
    return True


# --- embedded: a thread pool in this process -------------------------------------------------------------


class InProcessQueue:
    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.pool = ThreadPoolExecutor(svc.settings.inprocess_workers, thread_name_prefix="meterverify-task")
        self.closed = False
        self._pending = 0  # queued or running here
        self._lock = threading.Lock()

    def enqueue(self, submission_id: str) -> None:
        with self._lock:
            self._pending += 1
        self.pool.submit(self._run, submission_id, 0)

    def ping(self) -> None:
        pass  # the pool is this process

    def waiting(self) -> int:
        return self._pending

    def wake_courier(self) -> None:
        pass  # the API process's courier looks every sweep_every_s

    def _run(self, submission_id: str, retries: int) -> None:
        retry = False
        try:
            run_submission(self.svc, submission_id)
        except TRANSIENT as e:
            delay = retry_delay_s(retries, self.svc.settings.retry_max_s)
            log.warning("submission %s: %s; retry in %.0f s", submission_id, e, delay)
            if not self.closed:
                retry = True  # still this queue's job: counted until it is done
                timer = threading.Timer(delay, self.pool.submit, (self._run, submission_id, retries + 1))
                timer.daemon = True
                timer.start()
        except Exception:
            log.exception("submission %s failed", submission_id)
        finally:
            if not retry:
                with self._lock:
                    self._pending -= 1

    def close(self) -> None:
        self.closed = True
        self.pool.shutdown(wait=True, cancel_futures=False)


# --- distributed: Celery ---------------------------------------------------------------------------------

_CONF = dict(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    # The broker confirms each job once it is on disk (a persistent message in a durable queue), so a job
    # the API answered 202 for survives a broker killed the next moment.
    broker_transport_options={"confirm_publish": True},
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=3,
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    worker_hijack_root_logger=False,
    task_soft_time_limit=120,  # a job hung on I/O is stopped and retried instead of holding a worker
    task_time_limit=150,
)
celery_app = Celery("meterverify")  # the workers' (``meterverify worker`` sets its broker)
celery_app.conf.update(_CONF)


def webhook_queue(settings) -> str:
    return f"{settings.task_queue}-webhooks"


class CeleryQueue:
    """Sends jobs to the workers through a client app of its own, on its service's broker (a process may hold
    services of several brokers: tests, benchmarks)."""

    def __init__(self, svc: Service) -> None:
        self.settings = svc.settings
        self.app = Celery("meterverify-client", broker=svc.settings.broker_url, set_as_current=False)
        self.app.conf.update(_CONF)

    def enqueue(self, submission_id: str) -> None:
        self.app.send_task(
            process_submission.name, args=[submission_id], queue=self.settings.task_queue, retry=True
        )

    def wake_courier(self) -> None:
        # Expires: with no webhook worker running, the API's courier sends them anyway; nothing piles up.
        self.app.send_task(
            send_due_webhooks.name, queue=webhook_queue(self.settings), expires=120, retry=False
        )

    def ping(self) -> None:
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    def waiting(self) -> int:
        with self.app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            try:
                return conn.default_channel.queue_declare(
                    self.settings.task_queue, passive=True
                ).message_count
            except ChannelError:  # no such queue yet: nothing waits in it
                return 0

    def close(self) -> None:
        self.app.close()  # its connections; queued jobs live in the broker


@cache
def worker_service() -> Service:
    """The worker process's service, built from the settings on first use."""
    return Service.from_settings(get_settings(), make_queue)


# Signals that come from outside the process (an operator, a deploy, the OOM killer); any other death of a
# pool process mid-job (SIGSEGV, SIGABRT, SIGBUS, an exit) is a crash the photo may have caused.
_KILLED_FROM_OUTSIDE = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}


def crashed(lost: WorkerLostError) -> bool:
    """Whether a pool process lost mid-job crashed (rather than being killed): billiard says
    ``signal 11 (SIGSEGV)`` or ``exitcode 1``."""
    m = re.search(r"signal (\d+)", str(lost))
    return int(m[1]) not in _KILLED_FROM_OUTSIDE if m else True


class SubmissionRequest(Request):
    """In the worker's main process: a pool process that died running a submission is recorded as a crash or
    a kill (``submissions.record_lost_run``) before the job is put back on the queue."""

    def on_failure(self, exc_info, send_failed_event=True, return_ok=False):
        lost = getattr(exc_info.exception, "exc", exc_info.exception)  # billiard wraps it with its traceback
        if isinstance(lost, WorkerLostError) and self.args:
            log.warning("submission %s: its worker process died (%s)", self.args[0], lost)
            try:
                submissions.record_lost_run(worker_service(), str(self.args[0]), crashed(lost))
            except Exception as e:  # the database is down: the run counts only as a run
                log.warning("could not record the lost run of %s: %s", self.args[0], e)
        return super().on_failure(exc_info, send_failed_event, return_ok)


@celery_app.task(
    name="meterverify.process_submission", bind=True, max_retries=None, Request=SubmissionRequest
)
def process_submission(self, submission_id: str) -> str | None:
    try:
        return run_submission(worker_service(), submission_id)
    except TRANSIENT as e:
        metrics.DEPENDENCY_ERRORS.labels(
            "store"
            if isinstance(e, StoreUnavailable)
            else "database"
            if isinstance(e, OperationalError)
            else "timeout"
        ).inc()
        countdown = retry_delay_s(self.request.retries, worker_service().settings.retry_max_s)
        log.warning("submission %s: %s; retry in %.0f s", submission_id, e, countdown)
        raise self.retry(exc=e, countdown=countdown) from e


@celery_app.task(name="meterverify.send_due_webhooks", ignore_result=True)
def send_due_webhooks() -> int:
    return delivery.deliver_due(worker_service())


def make_queue(svc: Service) -> TaskQueue:
    return InProcessQueue(svc) if svc.settings.embedded_broker else CeleryQueue(svc)


# --- the sweeper: jobs that fell through ------------------------------------------------------------------


def requeue_stale(svc: Service, everything: bool = False) -> int:
    """Queue again what no worker will finish: never queued (broker was down), held by a worker whose lease
    ran out (it died), or queued ``stale_after_s`` ago and not started while nothing waits in the queue (a
    long queue is a backlog, not a loss: queuing its jobs again would only add duplicates to it).
    ``everything``: all undecided work (an embedded service starting: nobody else can hold it)."""
    now = tables.utcnow()
    stale = now - timedelta(seconds=svc.settings.stale_after_s)
    if everything:
        lost = tables.Submission.status.in_(UNDECIDED)
    else:
        rules = [
            and_(tables.Submission.status == "received", tables.Submission.queued_at.is_(None)),
            and_(tables.Submission.status == "processing", tables.Submission.lease_until < now),
            and_(
                tables.Submission.status == "processing",
                tables.Submission.lease_until.is_(None),
                tables.Submission.updated_at < stale,
            ),
        ]
        if _queue_empty(svc):
            rules.append(and_(tables.Submission.status == "received", tables.Submission.queued_at < stale))
        lost = or_(*rules)
    with svc.sessions() as s:
        ids = s.scalars(
            select(tables.Submission.id).where(lost).order_by(tables.Submission.received_at).limit(500)
        ).all()
    if not ids:
        return 0
    try:
        svc.queue.ping()
    except Exception:
        return 0  # the broker is still down: try again next round
    queued = 0
    for submission_id in ids:
        with svc.sessions.begin() as s:  # claim: only one sweeper re-queues it
            claimed = s.execute(
                update(tables.Submission)
                .where(tables.Submission.id == submission_id, lost)
                .values(status="received", queued_at=now, lease_until=None)
            ).rowcount
        if claimed and queue_submission(svc, submission_id):
            queued += 1
    if queued:
        log.info("queued %d submission(s) again", queued)
    return queued


def _queue_empty(svc: Service) -> bool:
    try:
        return svc.queue.waiting() == 0
    except Exception:  # the broker cannot say: the jobs that were never queued are still found
        return False


class Sweeper(threading.Thread):
    """Runs ``requeue_stale`` every ``sweep_every_s`` until stopped; errors are logged, never fatal."""

    def __init__(self, svc: Service) -> None:
        super().__init__(name="meterverify-sweeper", daemon=True)
        self.svc = svc
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.svc.settings.sweep_every_s):
            try:
                requeue_stale(self.svc)
            except Exception as e:  # the database is down: try again next round
                log.warning("sweep failed: %s", e)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
