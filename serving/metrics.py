"""Prometheus metrics. Counters are per process; the gauges are read from the database at scrape time, so any
API process reports the whole system's queue depth, the oldest undecided submission, decisions by status and
undelivered webhooks. A worker with several processes (Celery's prefork pool) reports through Prometheus'
multiprocess mode: ``meterverify worker --metrics-port`` sets it up before these metrics are created."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from . import tables

REGISTRY = CollectorRegistry(auto_describe=True)

SUBMISSIONS = Counter(
    "meterverify_submissions_total", "Submissions accepted by the API (202)", ["channel"], registry=REGISTRY
)
REJECTED_UPLOADS = Counter(
    "meterverify_rejected_uploads_total",
    "Submissions refused by the API, by reason",
    ["reason"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "meterverify_decisions_total", "Decisions made in this process", ["status", "by"], registry=REGISTRY
)
READ_SECONDS = Histogram(
    "meterverify_read_seconds",
    "Time to read one photo (decode, detect, OCR)",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
    registry=REGISTRY,
)
WEBHOOK_ATTEMPTS = Counter(
    "meterverify_webhook_attempts_total", "Webhook sends by outcome", ["outcome"], registry=REGISTRY
)


DEPENDENCY_ERRORS = Counter(
    "meterverify_dependency_errors_total",
    "Errors reaching a dependency (store, broker, database)",
    ["dependency"],
    registry=REGISTRY,
)
WORKER_PROCESSES = Gauge(  # a worker's own (its --metrics-port); not the API's, which runs no worker
    "meterverify_worker_processes",
    "Worker processes alive and taking jobs",
    registry=None,
    multiprocess_mode="livesum",
)


class DatabaseGauges(Collector):
    sessions: sessionmaker[Session] | None = None

    def collect(self):
        if self.sessions is None:
            return
        status = GaugeMetricFamily("meterverify_submissions", "Submissions by status", labels=["status"])
        depth = GaugeMetricFamily("meterverify_queue_depth", "Submissions received but not yet decided")
        outbox = GaugeMetricFamily("meterverify_webhook_pending", "Webhook deliveries not yet acknowledged")
        failing = GaugeMetricFamily(
            "meterverify_webhook_failing", "Undelivered webhook deliveries that failed at least once"
        )
        oldest = GaugeMetricFamily(
            "meterverify_oldest_undecided_seconds", "Age of the oldest submission not yet decided (0: none)"
        )
        with self.sessions() as s:
            first = s.scalar(
                select(func.min(tables.Submission.received_at)).where(
                    tables.Submission.status.in_(("received", "processing"))
                )
            )
            counts = dict(
                s.execute(
                    select(tables.Submission.status, func.count()).group_by(tables.Submission.status)
                ).all()
            )
            pending = select(func.count()).where(tables.Delivery.delivered_at.is_(None))
            n_pending = s.scalar(pending)
            n_failing = s.scalar(pending.where(tables.Delivery.attempts > 0))
        for name in ("received", "processing", "accepted", "needs_review", "rejected"):
            status.add_metric([name], counts.get(name, 0))
        depth.add_metric([], counts.get("received", 0) + counts.get("processing", 0))
        outbox.add_metric([], n_pending)
        failing.add_metric([], n_failing)
        age = (tables.utcnow() - first).total_seconds() if first else 0
        oldest.add_metric([], max(0.0, age))
        yield from (status, depth, outbox, failing, oldest)


DATABASE_GAUGES = DatabaseGauges()
REGISTRY.register(DATABASE_GAUGES)


def watch_database(sessions: sessionmaker[Session]) -> None:
    """Report the gauges from this database (the API process calls this at start)."""
    DATABASE_GAUGES.sessions = sessions
