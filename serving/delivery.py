"""Delivering events to billing: signed webhooks from the outbox, retried with exponential backoff until 2xx.

Deciding and delivering are apart: a decision only writes outbox rows; the courier (threads of the API
process, and a Celery queue of its own in distributed mode) sends them, so a slow receiver never slows a
decision. Any number of senders may run: a delivery is claimed by a conditional update that sets a lease,
so two senders never send the same row at the same time. Delivery is at least once; receivers deduplicate by
the ``Meterverify-Event-Id`` header (a crash after the receiver's 2xx and before we record it resends).
Redirects are never followed, and the address is checked after DNS at every send (``webhook_url``).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import or_, select, update

from . import metrics, signing, tables, webhook_url
from .service import Service

log = logging.getLogger("meterverify.delivery")


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2 base, 4 base, ... up to cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def due_ids(svc: Service, limit: int) -> list[int]:
    """Deliveries not yet acknowledged, whose next attempt is due and that no sender holds, oldest first."""
    now = tables.utcnow()
    with svc.sessions() as s:
        return list(
            s.scalars(
                select(tables.Delivery.id)
                .where(tables.Delivery.delivered_at.is_(None), tables.Delivery.next_attempt_at <= now)
                .where(or_(tables.Delivery.lease_until.is_(None), tables.Delivery.lease_until < now))
                .order_by(tables.Delivery.next_attempt_at)
                .limit(limit)
            )
        )


def deliver_due(svc: Service, limit: int = 100) -> int:
    """Send the deliveries that are due, one after the other. Returns how many were delivered."""
    return sum(_deliver_one(svc, delivery_id) for delivery_id in due_ids(svc, limit))


def _claim(svc: Service, delivery_id: int) -> bool:
    now = tables.utcnow()
    with svc.sessions.begin() as s:
        return bool(
            s.execute(
                update(tables.Delivery)
                .where(tables.Delivery.id == delivery_id, tables.Delivery.delivered_at.is_(None))
                .where(or_(tables.Delivery.lease_until.is_(None), tables.Delivery.lease_until < now))
                .values(lease_until=now + timedelta(seconds=svc.settings.webhook_lease_s))
            ).rowcount
        )


def _deliver_one(svc: Service, delivery_id: int) -> bool:
    if not _claim(svc, delivery_id):
        return False
    with svc.sessions() as s:
        delivery = s.get(tables.Delivery, delivery_id)
        event = s.get(tables.Event, delivery.event_seq)
        endpoint = s.get(tables.WebhookEndpoint, delivery.endpoint_id)
        body = event_body(event)
        url, secret, event_id = endpoint.url, endpoint.secret, event.id
    status, error = _post(url, body, secret, event_id, svc.settings)
    ok = status is not None and 200 <= status < 300
    metrics.WEBHOOK_ATTEMPTS.labels("delivered" if ok else "failed").inc()
    with svc.sessions.begin() as s:
        delivery = s.get(tables.Delivery, delivery_id)
        delivery.attempts += 1
        delivery.last_status, delivery.last_error, delivery.lease_until = status, error, None
        if ok:
            delivery.delivered_at = tables.utcnow()
        else:
            wait = backoff_s(
                delivery.attempts, svc.settings.webhook_backoff_s, svc.settings.webhook_backoff_max_s
            )
            delivery.next_attempt_at = tables.utcnow() + timedelta(seconds=wait)
            log.info(
                "webhook to %s failed (%s); attempt %d, next in %.0f s", url, error, delivery.attempts, wait
            )
    return ok


def event_body(event: tables.Event) -> bytes:
    return json.dumps(
        {
            "id": event.id,
            "seq": event.seq,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address we checked, not to whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, secret: str, event_id: str, settings) -> tuple[int | None, str | None]:
    """POST the event; (HTTP status, error). A 3xx is a failure like any other non-2xx: never followed."""
    try:
        parts, address = webhook_url.resolve(url, settings.webhook_allowed_hosts)
    except webhook_url.UnsafeUrl as e:
        return None, f"refused: {e}"
    except OSError as e:
        return None, f"cannot resolve: {e}"[:500]
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    conn = (_PinnedHTTPSConnection if https else _PinnedHTTPConnection)(
        parts.hostname, port, address, settings.webhook_timeout_s
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "meterverify-webhook/1",
        signing.HEADER: signing.sign(secret, body),
        signing.EVENT_HEADER: event_id,
    }
    try:
        conn.request("POST", path, body=body, headers=headers)
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)[:500] or type(e).__name__
    finally:
        conn.close()
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def wake(svc: Service) -> None:
    """Tell the courier there is something to send now (it also looks every ``sweep_every_s``)."""
    if svc.courier is not None:
        svc.courier.wake()
    else:
        svc.queue.wake_courier()


class Courier(threading.Thread):
    """Sends due deliveries on a few threads of its own: a slow receiver holds one thread, not the decisions,
    and not the other receivers."""

    def __init__(self, svc: Service, senders: int = 4) -> None:
        super().__init__(name="meterverify-courier", daemon=True)
        self.svc = svc
        self.pool = ThreadPoolExecutor(senders, thread_name_prefix="meterverify-send")
        self.stopping, self.woken = threading.Event(), threading.Event()
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()

    def wake(self) -> None:
        self.woken.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.woken.wait(self.svc.settings.sweep_every_s)
            self.woken.clear()
            try:
                self._send_due()
            except Exception as e:  # the database is down: look again next round
                log.warning("courier: %s", e)

    def _send_due(self) -> None:
        for delivery_id in due_ids(self.svc, 200):
            with self.lock:
                if delivery_id in self.in_flight:
                    continue
                self.in_flight.add(delivery_id)
            self.pool.submit(self._send, delivery_id)

    def _send(self, delivery_id: int) -> None:
        try:
            _deliver_one(self.svc, delivery_id)
        except Exception as e:
            log.warning("delivery %s: %s", delivery_id, e)
        finally:
            with self.lock:
                self.in_flight.discard(delivery_id)

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()
        self.join(timeout=10)
        self.pool.shutdown(wait=False, cancel_futures=True)


def replay(svc: Service, delivery_id: int) -> bool:
    """Send a delivery again (delivered or not), now. Returns False if there is no such delivery."""
    with svc.sessions.begin() as s:
        delivery = s.get(tables.Delivery, delivery_id)
        if delivery is None:
            return False
        delivery.delivered_at, delivery.lease_until, delivery.next_attempt_at = None, None, tables.utcnow()
    _deliver_one(svc, delivery_id)
    return True
