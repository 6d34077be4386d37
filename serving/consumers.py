"""Importing consumers and their reading history from CSV: all rows or none, errors naming line and column.

consumers.csv: ``consumer_number,meter_digits,meter_decimals,sanctioned_load_kw[,utility]``
readings.csv:  ``consumer_number,date,reading[,meter_replaced]`` (date as YYYY-MM-DD; verified readings)
Importing again updates consumers and replaces a reading of the same consumer and day.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from verification import Reading

from . import db

CONSUMER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
CONSUMER_COLUMNS = ("consumer_number", "meter_digits", "meter_decimals", "sanctioned_load_kw")
READING_COLUMNS = ("consumer_number", "date", "reading")
MAX_ERRORS = 50


class CsvImportError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(
            "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
        )
        self.errors = errors


@dataclass
class ImportResult:
    consumers: int = 0
    readings: int = 0
    errors: list[str] = field(default_factory=list)


def _rows(text: str, required: tuple[str, ...], what: str, errors: list[str]) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        errors.append(f"{what}: header lacks {', '.join(missing)} (has {', '.join(header) or 'nothing'})")
        return []
    return [
        (i, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for i, row in enumerate(reader, 2)
    ]


def csv_text(data: bytes, name: str) -> str:
    """An uploaded or read CSV file as text; ``CsvImportError`` if it is not UTF-8 (a BOM is allowed)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvImportError(
            [f"{name} is not UTF-8 text (byte {e.start}); save it as CSV UTF-8 and send it again"]
        ) from None


def parse_consumers(text: str, errors: list[str]) -> list[db.Consumer]:
    out = []
    first_line: dict[str, int] = {}
    for line, row in _rows(text, CONSUMER_COLUMNS, "consumers.csv", errors):
        where = f"consumers.csv line {line}"
        number = row["consumer_number"]
        if not CONSUMER_NUMBER.match(number):
            errors.append(f"{where}, consumer_number: {number!r} is not 1-32 letters, digits or '-'")
            continue
        if number in first_line:
            errors.append(f"{where}, consumer_number: {number!r} is also on line {first_line[number]}")
            continue
        first_line[number] = line
        try:
            digits, decimals = int(row["meter_digits"]), int(row["meter_decimals"])
            load = float(row["sanctioned_load_kw"])
        except ValueError as e:
            errors.append(f"{where}: {e}")
            continue
        if not (3 <= digits <= 12 and 0 <= decimals < digits and 0 < load <= 10_000):
            errors.append(
                f"{where}: need 3 <= meter_digits <= 12, 0 <= meter_decimals < meter_digits, 0 < load"
            )
            continue
        out.append(db.Consumer(number=number, meter_digits=digits, meter_decimals=decimals,
                               sanctioned_load_kw=load, utility=row.get("utility") or "default"))  # fmt: skip
    return out


def parse_readings(text: str, errors: list[str]) -> list[db.PastReading]:
    out = []
    for line, row in _rows(text, READING_COLUMNS, "readings.csv", errors):
        where = f"readings.csv line {line}"
        try:
            on = date.fromisoformat(row["date"])
        except ValueError:
            errors.append(f"{where}, date: {row['date']!r} is not YYYY-MM-DD")
            continue
        try:
            reading = str(Reading.parse(row["reading"]))
        except ValueError as e:
            errors.append(f"{where}, reading: {e}")
            continue
        replaced = row.get("meter_replaced", "").lower() in ("1", "true", "yes")
        out.append(
            db.PastReading(
                consumer_number=row["consumer_number"], on=on, reading=reading, meter_replaced=replaced
            )
        )
    return out


def import_csv(s: Session, consumers_csv: str | None, readings_csv: str | None) -> ImportResult:
    """Validate everything, then write everything (in the caller's transaction). Raises ``CsvImportError``."""
    errors: list[str] = []
    consumers = parse_consumers(consumers_csv, errors) if consumers_csv else []
    readings = parse_readings(readings_csv, errors) if readings_csv else []
    known = {c.number for c in consumers}
    known |= {
        c.number
        for c in _existing(s, db.Consumer, db.Consumer.number, {r.consumer_number for r in readings} - known)
    }
    errors += [
        f"readings.csv: unknown consumer {r.consumer_number!r}"
        for r in readings
        if r.consumer_number not in known
    ]
    if errors:
        raise CsvImportError(errors[:MAX_ERRORS])
    # One lookup per thousand consumers, not one per row: files run to millions of rows.
    stored = {
        c.number: c for c in _existing(s, db.Consumer, db.Consumer.number, {c.number for c in consumers})
    }
    for c in consumers:
        if (old := stored.get(c.number)) is None:
            s.add(c)
        else:
            old.meter_digits, old.meter_decimals = c.meter_digits, c.meter_decimals
            old.sanctioned_load_kw, old.utility = c.sanctioned_load_kw, c.utility
    s.flush()
    numbers = {r.consumer_number for r in readings}
    past = {
        (p.consumer_number, p.on): p
        for p in _existing(s, db.PastReading, db.PastReading.consumer_number, numbers)
    }
    for r in readings:
        if (old := past.get((r.consumer_number, r.on))) is None:
            s.add(r)
            past[(r.consumer_number, r.on)] = (
                r  # a second row for the same day in the file replaces the first
            )
        else:
            old.reading, old.meter_replaced = r.reading, r.meter_replaced
    return ImportResult(len(consumers), len(readings))


def _existing(s: Session, model, column, values: set[str], chunk: int = 1000) -> list:
    """Rows of ``model`` whose ``column`` is in ``values``, fetched a chunk at a time."""
    ordered = sorted(values)
    return [
        row
        for i in range(0, len(ordered), chunk)
        for row in s.scalars(select(model).where(column.in_(ordered[i : i + chunk])))
    ]
