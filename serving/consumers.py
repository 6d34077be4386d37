"""Importing a utility's consumers and their reading history from CSV, streamed, errors naming line and column.

consumers.csv: ``consumer_number,meter_digits,meter_decimals,sanctioned_load_kw[,utility][,area]``
readings.csv:  ``consumer_number,date,reading[,meter_replaced]`` (date as YYYY-MM-DD; verified readings)

Two passes over the files: the first checks every row and keeps nothing but consumer numbers (a file of
millions of readings costs megabytes, not gigabytes); only a file without errors is written, by the second
pass, in batches of short transactions, so decisions are never held up for a whole import. Importing again
updates consumers and replaces a reading of the same consumer and day, so an interrupted import is finished
by running it again. Consumers belong to the importing key's utility; a ``utility`` column, when present,
must say the same. Consumer numbers are unique across the platform.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from verification import Reading, meter_spec_ok

from . import tables

CONSUMER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
CONSUMER_COLUMNS = ("consumer_number", "meter_digits", "meter_decimals", "sanctioned_load_kw")
READING_COLUMNS = ("consumer_number", "date", "reading")
MAX_ERRORS = 50
BATCH = 5000


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


def _rows(
    file: TextIO, required: tuple[str, ...], what: str, errors: list[str]
) -> Iterator[tuple[int, dict]]:
    """(line number, row) of a CSV file, read as it goes; a bad header or encoding is an error."""
    file.seek(0)
    reader = csv.DictReader(file)
    try:
        header = [h.strip().lstrip("\ufeff") for h in reader.fieldnames or []]
        if not header:
            errors.append(f"{what} is empty")
            return
        missing = [c for c in required if c not in header]
        if missing:
            errors.append(f"{what}: header lacks {', '.join(missing)} (has {', '.join(header)[:200]})")
            return
        reader.fieldnames = header
        for line, row in enumerate(reader, 2):
            yield line, {k: (v or "").strip() for k, v in row.items() if k}
    except UnicodeDecodeError as e:
        errors.append(f"{what} is not UTF-8 text (byte {e.start}); save it as CSV UTF-8 and send it again")
    except csv.Error as e:
        errors.append(f"{what} line {reader.line_num}: {e}")


def _consumer(line: int, row: dict, utility: str, errors: list[str]) -> dict | None:
    where = f"consumers.csv line {line}"
    number = row["consumer_number"]
    if not CONSUMER_NUMBER.match(number):
        errors.append(f"{where}, consumer_number: {number[:40]!r} is not 1-32 letters, digits or '-'")
        return None
    if row.get("utility") and row["utility"] != utility:
        errors.append(f"{where}, utility: {row['utility'][:40]!r} is not this key's utility ({utility})")
        return None
    try:
        digits, decimals = int(row["meter_digits"]), int(row["meter_decimals"])
        load = float(row["sanctioned_load_kw"])
    except ValueError as e:
        errors.append(f"{where}: {str(e)[:100]}")
        return None
    if not (meter_spec_ok(digits, decimals) and 0 < load <= 10_000):
        errors.append(f"{where}: need 3 <= meter_digits <= 12, 0 <= meter_decimals < meter_digits, 0 < load")
        return None
    return {
        "number": number,
        "meter_digits": digits,
        "meter_decimals": decimals,
        "sanctioned_load_kw": load,
        "utility": utility,
        "area": row.get("area", "")[:64] or None,
    }


def _reading(line: int, row: dict, errors: list[str]) -> dict | None:
    where = f"readings.csv line {line}"
    try:
        on = date.fromisoformat(row["date"])
    except ValueError:
        errors.append(f"{where}, date: {row['date'][:40]!r} is not YYYY-MM-DD")
        return None
    try:
        reading = str(Reading.parse(row["reading"]))
    except ValueError:
        errors.append(f"{where}, reading: {row['reading'][:40]!r} is not a meter reading")
        return None
    replaced = row.get("meter_replaced", "").lower() in ("1", "true", "yes")
    return {
        "consumer_number": row["consumer_number"],
        "on": on,
        "reading": reading,
        "meter_replaced": replaced,
    }


def _check(s: Session, utility: str, consumers: TextIO | None, readings: TextIO | None) -> list[str]:
    """Every error in the files, without writing anything (the first pass)."""
    errors: list[str] = []
    first_line: dict[str, int] = {}
    if consumers is not None:
        for line, row in _rows(consumers, CONSUMER_COLUMNS, "consumers.csv", errors):
            if _consumer(line, row, utility, errors) is None:
                continue
            number = row["consumer_number"]
            if number in first_line:
                errors.append(
                    f"consumers.csv line {line}, consumer_number: {number!r} is also on line {first_line[number]}"
                )
            first_line[number] = line
            if len(errors) >= MAX_ERRORS:
                return errors
        if consumers is not None and not first_line and not errors:
            errors.append("consumers.csv has a header but no consumers")
        elsewhere = _owned_elsewhere(s, set(first_line), utility)
        errors += [
            f"consumers.csv line {first_line[n]}: consumer {n!r} belongs to another utility"
            for n in elsewhere
        ]
    if readings is not None:
        wanted: set[str] = set()
        rows = 0
        for line, row in _rows(readings, READING_COLUMNS, "readings.csv", errors):
            rows += 1
            if _reading(line, row, errors) is not None and row["consumer_number"] not in first_line:
                wanted.add(row["consumer_number"])
            if len(errors) >= MAX_ERRORS:
                return errors
        if not rows and not errors:
            errors.append("readings.csv has a header but no readings")
        known = {c.number for c in _existing(s, wanted) if c.utility == utility}
        errors += [f"readings.csv: unknown consumer {n[:40]!r}" for n in sorted(wanted - known)]
    return errors[:MAX_ERRORS]


def _owned_elsewhere(s: Session, numbers: set[str], utility: str) -> list[str]:
    return sorted(c.number for c in _existing(s, numbers) if c.utility != utility)


def _existing(s: Session, numbers: set[str], chunk: int = 1000) -> list[tables.Consumer]:
    ordered = sorted(numbers)
    return [
        c
        for i in range(0, len(ordered), chunk)
        for c in s.scalars(select(tables.Consumer).where(tables.Consumer.number.in_(ordered[i : i + chunk])))
    ]


def _upsert(
    s: Session, table, rows: list[dict], keys: list[str], update: list[str], same_utility=False
) -> None:
    insert = (postgresql if s.bind.dialect.name == "postgresql" else sqlite).insert(table)
    # same_utility: never touch another utility's consumer, even one created since the check
    where = table.c.utility == insert.excluded.utility if same_utility else None
    s.execute(
        insert.on_conflict_do_update(
            index_elements=keys, set_={c: insert.excluded[c] for c in update}, where=where
        ),
        rows,
    )


def _batches(items: Iterator[dict], key: Callable[[dict], object]) -> Iterator[list[dict]]:
    """Rows in batches; within a batch a later row of the same key replaces an earlier one."""
    batch: dict[object, dict] = {}
    for item in items:
        batch[key(item)] = item
        if len(batch) >= BATCH:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


def import_csv(
    sessions: sessionmaker[Session],
    utility: str,
    consumers: TextIO | None,
    readings: TextIO | None,
    lock: Callable[[], AbstractContextManager] = nullcontext,
) -> ImportResult:
    """Check both files in full, then write them in batches (each batch under ``lock``, the service's
    decision lock). Raises ``CsvImportError`` with every error found, having written nothing."""
    with sessions() as s:
        errors = _check(s, utility, consumers, readings)
    if errors:
        raise CsvImportError(errors)
    result, ignore = ImportResult(), []
    if consumers is not None:
        rows = (
            _consumer(line, row, utility, ignore)
            for line, row in _rows(consumers, CONSUMER_COLUMNS, "", ignore)
        )
        for batch in _batches(rows, lambda r: r["number"]):
            with lock(), sessions.begin() as s:
                rows_now = [{**r, "created_at": tables.utcnow()} for r in batch]
                updated = ["meter_digits", "meter_decimals", "sanctioned_load_kw", "area"]
                _upsert(s, tables.Consumer.__table__, rows_now, ["number"], updated, same_utility=True)
            result.consumers += len(batch)
    if readings is not None:
        rows = (_reading(line, row, ignore) for line, row in _rows(readings, READING_COLUMNS, "", ignore))
        for batch in _batches(rows, lambda r: (r["consumer_number"], r["on"])):
            with lock(), sessions.begin() as s:
                _upsert(
                    s,
                    tables.PastReading.__table__,
                    batch,
                    ["consumer_number", "on"],
                    ["reading", "meter_replaced"],
                )
            result.readings += len(batch)
    return result
