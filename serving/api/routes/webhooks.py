"""Webhook endpoints and the outbox: register, list, and replay deliveries."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from ... import delivery, tables, webhook_url
from ..deps import AdminKey, RowId, ServiceDep, SessionDep, acting_for, error
from ..schemas import DeliveryOut, WebhookIn, WebhookOut

router = APIRouter(prefix="/v1", tags=["delivery"])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookOut,
    responses={422: {"description": "The URL is not allowed (internal address, credentials)"}},
)
def register_webhook(body: WebhookIn, svc: ServiceDep, session: SessionDep, key: AdminKey) -> WebhookOut:
    """Register a billing endpoint. Every later decision of the utility is POSTed to it, signed with the secret
    returned here (shown once): header ``Meterverify-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
    Internal addresses (loopback, private, link-local, metadata) are refused unless the operator allows the host.
    """
    utility = acting_for(key, body.utility)
    try:
        webhook_url.check(body.url, svc.settings.webhook_allowed_hosts)
    except webhook_url.UnsafeUrl as e:
        raise error(422, "webhook_url_not_allowed", str(e)) from None
    endpoint = tables.WebhookEndpoint(
        utility=utility, url=body.url, secret="whsec_" + secrets.token_urlsafe(32)
    )
    session.add(endpoint)
    session.commit()
    return WebhookOut(id=endpoint.id, utility=utility, url=endpoint.url, active=True, secret=endpoint.secret)


def _endpoints(key):
    q = select(tables.WebhookEndpoint)
    return q if key.utility is None else q.where(tables.WebhookEndpoint.utility == key.utility)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(session: SessionDep, key: AdminKey) -> list[WebhookOut]:
    rows = session.scalars(_endpoints(key).order_by(tables.WebhookEndpoint.id)).all()
    return [WebhookOut(id=e.id, utility=e.utility, url=e.url, active=e.active) for e in rows]


@router.delete(
    "/webhooks/{endpoint_id}", status_code=204, responses={404: {"description": "No such endpoint"}}
)
def deactivate_webhook(endpoint_id: RowId, session: SessionDep, key: AdminKey) -> None:
    """Stop sending new events to an endpoint (what is already in the outbox stays there)."""
    endpoint = session.get(tables.WebhookEndpoint, endpoint_id)
    if endpoint is None or not key.sees(endpoint.utility):
        raise error(404, "not_found", "no such webhook endpoint")
    endpoint.active = False
    session.commit()


def _out(d: tables.Delivery, event_id: str) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_id=event_id,
        event_seq=d.event_seq,
        endpoint_id=d.endpoint_id,
        attempts=d.attempts,
        delivered_at=d.delivered_at.isoformat() if d.delivered_at else None,
        next_attempt_at=None if d.delivered_at else d.next_attempt_at.isoformat(),
        last_status=d.last_status,
        last_error=d.last_error,
    )


@router.get("/outbox", response_model=list[DeliveryOut])
def list_outbox(
    session: SessionDep,
    key: AdminKey,
    state: Annotated[Literal["pending", "failing", "delivered", "all"], Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Deliveries: pending (not yet acknowledged), failing (pending after a failed try), delivered, or all."""
    q = select(tables.Delivery, tables.Event.id).join(
        tables.Event, tables.Event.seq == tables.Delivery.event_seq
    )
    if key.utility is not None:
        q = q.where(tables.Event.utility == key.utility)
    if state in ("pending", "failing"):
        q = q.where(tables.Delivery.delivered_at.is_(None))
    if state == "failing":
        q = q.where(tables.Delivery.attempts > 0)
    if state == "delivered":
        q = q.where(tables.Delivery.delivered_at.is_not(None))
    rows = session.execute(q.order_by(tables.Delivery.id).limit(limit)).all()
    return [_out(d, event_id) for d, event_id in rows]


@router.post(
    "/outbox/{delivery_id}/replay",
    response_model=DeliveryOut,
    responses={404: {"description": "No such delivery"}},
)
def replay_delivery(delivery_id: RowId, svc: ServiceDep, session: SessionDep, key: AdminKey) -> DeliveryOut:
    """Send a delivery again now, even if it was delivered before (the receiver deduplicates by event id)."""
    row = session.get(tables.Delivery, delivery_id)
    if row is None or not key.sees(session.get(tables.WebhookEndpoint, row.endpoint_id).utility):
        raise error(404, "not_found", "no such delivery")
    if not delivery.replay(svc, delivery_id):
        raise error(404, "not_found", "no such delivery")
    with svc.sessions() as s:
        d = s.get(tables.Delivery, delivery_id)
        return _out(d, s.get(tables.Event, d.event_seq).id)
