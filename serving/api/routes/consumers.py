"""Consumers: their verified readings, and the CSV import of consumers and history."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from sqlalchemy import select

from ... import tables
from ...consumers import CONSUMER_NUMBER, CsvImportError, import_csv
from ..deps import AnyKey, ImportKey, ServiceDep, SessionDep, acting_for, error
from ..schemas import ConsumerReadingsOut, ImportOut, PastReadingOut

router = APIRouter(prefix="/v1/consumers", tags=["consumers"])


def _text(upload: UploadFile | None) -> io.TextIOWrapper | None:
    """The upload as text, read as it goes (it is spooled to disk, not held in memory)."""
    if upload is None:
        return None
    return io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")


@router.post(
    "/import",
    response_model=ImportOut,
    responses={
        413: {"description": "Larger than max_import_mb"},
        422: {"description": "Errors by line and column; nothing was imported"},
    },
)
def import_consumers(
    svc: ServiceDep,
    key: ImportKey,
    consumers: Annotated[
        UploadFile | None,
        File(description="consumer_number,meter_digits,meter_decimals,sanctioned_load_kw[,utility]"),
    ] = None,
    readings: Annotated[
        UploadFile | None, File(description="consumer_number,date,reading[,meter_replaced]")
    ] = None,
    utility: Annotated[
        str | None, Query(max_length=32, description="Operator keys only: whose consumers")
    ] = None,
) -> ImportOut:
    """Import the key's utility's consumers and their verified reading history. Every row is checked first;
    a file with any error imports nothing. Re-importing updates what is there."""
    owner = acting_for(key, utility)
    if consumers is None and readings is None:
        raise error(422, "nothing_to_import", "send a consumers and/or a readings CSV file")
    try:
        result = import_csv(svc.sessions, owner, _text(consumers), _text(readings), svc.decision_lock)
    except CsvImportError as e:
        raise error(422, "bad_csv", str(e)) from None
    return ImportOut(consumers=result.consumers, readings=result.readings)


@router.get(
    "/{number}/readings",
    response_model=ConsumerReadingsOut,
    responses={404: {"description": "Unknown consumer"}},
)
def consumer_readings(number: str, session: SessionDep, key: AnyKey) -> ConsumerReadingsOut:
    """The consumer's meter and verified readings (imported history and accepted submissions), oldest first."""
    consumer = session.get(tables.Consumer, number) if CONSUMER_NUMBER.match(number) else None
    if consumer is None or not key.sees(consumer.utility):
        raise error(404, "unknown_consumer", f"no consumer {number[:40]}")
    rows = session.scalars(
        select(tables.PastReading)
        .where(tables.PastReading.consumer_number == number)
        .order_by(tables.PastReading.on)
    ).all()
    return ConsumerReadingsOut(
        consumer_number=consumer.number,
        meter_digits=consumer.meter_digits,
        meter_decimals=consumer.meter_decimals,
        sanctioned_load_kw=consumer.sanctioned_load_kw,
        utility=consumer.utility,
        readings=[
            PastReadingOut(
                on=r.on.isoformat(),
                reading=r.reading,
                meter_replaced=r.meter_replaced,
                submission_id=r.submission_id,
            )
            for r in rows
        ],
    )
