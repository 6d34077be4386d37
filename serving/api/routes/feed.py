"""The pull feed: every final decision, in order, after a cursor. The same events the webhooks carry."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ... import tables
from ...delivery import event_body
from ..deps import BillingKey, SessionDep, error
from ..schemas import EventOut, FeedOut

router = APIRouter(prefix="/v1", tags=["delivery"])
MAX_CURSOR = 2**63 - 1


@router.get("/verified", response_model=FeedOut)
def verified_feed(
    session: SessionDep,
    key: BillingKey,
    after: Annotated[
        str, Query(max_length=20, description="Cursor from the last page; 0 or empty: from the start")
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedOut:
    """Decided submissions (accepted or rejected, automatically or by a reviewer) of the key's utility after
    ``after``. Cursors are global sequence numbers: expect gaps."""
    after = after or "0"
    cursor = int(after) if after.isascii() and after.isdigit() else -1  # the feed's own cursors: ASCII digits
    if not 0 <= cursor <= MAX_CURSOR:  # event sequence numbers are 64-bit integers
        raise error(422, "bad_cursor", "after must be a cursor this feed returned")
    query = select(tables.Event).where(tables.Event.seq > cursor)
    if key.utility is not None:  # a utility's feed holds its own decisions only (an operator's: all)
        query = query.where(tables.Event.utility == key.utility)
    events = session.scalars(query.order_by(tables.Event.seq).limit(limit)).all()
    out = [EventOut(**json.loads(event_body(e))) for e in events]
    return FeedOut(events=out, next_cursor=str(events[-1].seq if events else cursor))
