"""Consumers: their verified readings, and the CSV import of consumers and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from sqlalchemy import select

from ... import db
from ...consumers import CONSUMER_NUMBER, CsvImportError, csv_text, import_csv
from ..deps import AnyKey, ImportKey, ServiceDep, SessionDep, error
from ..schemas import ConsumerReadingsOut, ImportOut, PastReadingOut

router = APIRouter(prefix="/v1/consumers", tags=["consumers"])
MAX_CSV_BYTES = 50 * 1024 * 1024


def _text(upload: UploadFile | None, name: str) -> str | None:
    if upload is None:
        return None
    data = upload.file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise error(413, "csv_too_large", f"{name} is larger than 50 MB; split it")
    try:
        return csv_text(data, name)
    except CsvImportError as e:
        raise error(422, "csv_not_utf8", str(e)) from None


@router.post(
    "/import", response_model=ImportOut, responses={422: {"description": "Errors by line and column"}}
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
) -> ImportOut:
    """Import consumers and their verified reading history. All rows or none."""
    consumers_csv, readings_csv = _text(consumers, "consumers"), _text(readings, "readings")
    if consumers_csv is None and readings_csv is None:
        raise error(422, "nothing_to_import", "send a consumers and/or a readings CSV file")
    try:
        with svc.decision_lock(), svc.sessions.begin() as s:
            result = import_csv(s, consumers_csv, readings_csv)
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
    consumer = session.get(db.Consumer, number) if CONSUMER_NUMBER.match(number) else None
    if consumer is None:
        raise error(404, "unknown_consumer", f"no consumer {number[:40]}")
    rows = session.scalars(
        select(db.PastReading).where(db.PastReading.consumer_number == number).order_by(db.PastReading.on)
    ).all()
    return ConsumerReadingsOut(
        consumer_number=consumer.number, meter_digits=consumer.meter_digits, meter_decimals=consumer.meter_decimals,
        sanctioned_load_kw=consumer.sanctioned_load_kw, utility=consumer.utility,
        readings=[PastReadingOut(on=r.on.isoformat(), reading=r.reading, meter_replaced=r.meter_replaced,
                                 submission_id=r.submission_id) for r in rows],
    )  # fmt: skip
