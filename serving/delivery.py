"""Delivering events to billing: signed webhooks from the outbox, retried with exponential backoff until 2xx.

Any number of processes may deliver at once: a delivery is claimed by a conditional update that sets a lease,
so two senders never send the same row at the same time. Delivery is at least once; receivers deduplicate by
the ``Meterverify-Event-Id`` header (a crash after the receiver's 2xx and before we record it resends).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from sqlalchemy import or_, select, update

from . import db, metrics, signing
from .service import Service

log = logging.getLogger("meterverify.delivery")


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2 base, 4 base, ... up to cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def deliver_due(svc: Service, limit: int = 100, event_seq: int | None = None) -> int:
    """Send the deliveries that are due (or all of ``event_seq``'s). Returns how many were delivered."""
    now = db.utcnow()
    due = (
        select(db.Delivery.id)
        .where(db.Delivery.delivered_at.is_(None), db.Delivery.next_attempt_at <= now)
        .where(or_(db.Delivery.lease_until.is_(None), db.Delivery.lease_until < now))
        .order_by(db.Delivery.next_attempt_at)
        .limit(limit)
    )
    if event_seq is not None:
        due = due.where(db.Delivery.event_seq == event_seq)
    with svc.sessions() as s:
        ids = s.scalars(due).all()
    return sum(_deliver_one(svc, delivery_id) for delivery_id in ids)


def deliver_submission_event(svc: Service, submission_id: str) -> int:
    """Send a just-decided submission's event now rather than at the next sweep."""
    with svc.sessions() as s:
        seq = s.scalar(select(db.Event.seq).where(db.Event.submission_id == submission_id))
    return deliver_due(svc, event_seq=seq) if seq is not None else 0


def _claim(svc: Service, delivery_id: int) -> bool:
    now = db.utcnow()
    with svc.sessions.begin() as s:
        return bool(
            s.execute(
                update(db.Delivery)
                .where(db.Delivery.id == delivery_id, db.Delivery.delivered_at.is_(None))
                .where(or_(db.Delivery.lease_until.is_(None), db.Delivery.lease_until < now))
                .values(lease_until=now + timedelta(seconds=svc.settings.webhook_lease_s))
            ).rowcount
        )


def _deliver_one(svc: Service, delivery_id: int) -> bool:
    if not _claim(svc, delivery_id):
        return False
    with svc.sessions() as s:
        delivery = s.get(db.Delivery, delivery_id)
        event = s.get(db.Event, delivery.event_seq)
        endpoint = s.get(db.WebhookEndpoint, delivery.endpoint_id)
        body = event_body(event)
        url, secret, event_id = endpoint.url, endpoint.secret, event.id
    status, error = _post(url, body, secret, event_id, svc.settings.webhook_timeout_s)
    ok = status is not None and 200 <= status < 300
    metrics.WEBHOOK_ATTEMPTS.labels("delivered" if ok else "failed").inc()
    with svc.sessions.begin() as s:
        delivery = s.get(db.Delivery, delivery_id)
        delivery.attempts += 1
        delivery.last_status, delivery.last_error, delivery.lease_until = status, error, None
        if ok:
            delivery.delivered_at = db.utcnow()
        else:
            wait = backoff_s(
                delivery.attempts, svc.settings.webhook_backoff_s, svc.settings.webhook_backoff_max_s
            )
            delivery.next_attempt_at = db.utcnow() + timedelta(seconds=wait)
            log.info(
                "webhook to %s failed (%s); attempt %d, next in %.0f s", url, error, delivery.attempts, wait
            )
    return ok


def event_body(event: db.Event) -> bytes:
    return json.dumps(
        {"id": event.id, "seq": event.seq, "type": event.type, "created_at": event.created_at.isoformat(),
         "data": event.payload},
        separators=(",", ":"), sort_keys=True,
    ).encode()  # fmt: skip


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver's redirect is a failed attempt (retried), never followed: following it would send the
    event (or a bodiless GET with our signature) somewhere the endpoint's owner did not register."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def _post(url: str, body: bytes, secret: str, event_id: str, timeout: float) -> tuple[int | None, str | None]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "meterverify-webhook/1",
            signing.HEADER: signing.sign(secret, body),
            signing.EVENT_HEADER: event_id,
        },
    )
    try:
        with _NO_REDIRECTS.open(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as e:
        return e.code, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return None, str(getattr(e, "reason", e))[:500]


def replay(svc: Service, delivery_id: int) -> bool:
    """Send a delivery again (delivered or not), now. Returns False if there is no such delivery."""
    with svc.sessions.begin() as s:
        delivery = s.get(db.Delivery, delivery_id)
        if delivery is None:
            return False
        delivery.delivered_at, delivery.lease_until, delivery.next_attempt_at = None, None, db.utcnow()
    _deliver_one(svc, delivery_id)
    return True
