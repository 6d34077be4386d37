"""The facts a decision is made on, gathered once from the database: the consumer (locked), its history, its
draw entries this month, the nearest earlier photo, whether the month's draw has closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import verification as v
from verification.rules.window import local_date
from vision.phash import hamming

from .. import draws, tables

PHASH_BANDS = 8


def lock_consumer(s: Session, number: str) -> tables.Consumer:
    # Row lock on PostgreSQL: two submissions of one consumer are decided one after the other, so the
    # history and the one-draw-entry-a-month rule see each other. (SQLite: the service's decision lock.)
    return s.execute(
        select(tables.Consumer).where(tables.Consumer.number == number).with_for_update()
    ).scalar_one()


def submission_facts(
    s: Session, sub: tables.Submission, consumer: tables.Consumer, reading: dict, config: v.UtilityConfig
) -> v.Submission:
    today = local_date(sub.submitted_at, config.window)
    month = f"{today.year:04d}-{today.month:02d}"
    entries = s.scalar(
        select(func.count()).where(
            tables.Submission.consumer_number == consumer.number,
            tables.Submission.month == month,
            tables.Submission.lucky_draw_eligible.is_(True),
            tables.Submission.id != sub.id,
        )
    )
    history = s.scalars(
        select(tables.PastReading)
        .where(tables.PastReading.consumer_number == consumer.number, tables.PastReading.on <= today)
        .where(or_(tables.PastReading.submission_id.is_(None), tables.PastReading.submission_id != sub.id))
        .order_by(tables.PastReading.on)
    ).all()
    return v.Submission(
        consumer=consumer_facts(consumer),
        typed=v.Reading.parse(sub.typed_reading),
        read=v.ReaderResult.from_reading(reading),
        photo=v.PhotoFacts(
            submitted_at=sub.submitted_at,
            exif_taken_at=_taken_at(sub.photo_taken, config),
            nearest_earlier_photo=_nearest_earlier_photo(s, sub, reading.get("photo_hash"), config),
        ),
        history=tuple(v.PastReading(p.on, v.Reading.parse(p.reading), p.meter_replaced) for p in history),
        lucky_draw_entries_this_month=entries or 0,
        draw_closed=draws.is_closed(s, consumer.utility, month),
    )


def consumer_facts(consumer: tables.Consumer) -> v.Consumer:
    return v.Consumer(
        consumer.number,
        consumer.meter_digits,
        consumer.meter_decimals,
        consumer.sanctioned_load_kw,
        consumer.utility,
    )


def _taken_at(exif: str | None, config: v.UtilityConfig) -> datetime | None:
    """The EXIF time; a camera that wrote no offset kept the utility's local time."""
    if not exif:
        return None  # stripped by a messaging app: not suspicious by itself
    when = datetime.fromisoformat(exif)
    return when if when.tzinfo is not None else when.replace(tzinfo=config.window.tz)


def hash_bands(photo_hash: str) -> list[int]:
    h = int(photo_hash, 16)
    return [(h >> (8 * band)) & 0xFF for band in range(PHASH_BANDS)]


def _nearest_earlier_photo(
    s: Session, sub: tables.Submission, photo_hash: str | None, config: v.UtilityConfig
) -> v.EarlierPhoto | None:
    """The earlier submission of the utility whose photo looks most like this one, with what it showed."""
    if not photo_hash:
        return None
    bands = hash_bands(photo_hash)
    matches = or_(
        *(
            (tables.PhotoHashBand.band == band) & (tables.PhotoHashBand.value == value)
            for band, value in enumerate(bands)
        )
    )
    S = tables.Submission
    rows = s.execute(
        select(S.id, S.photo_hash)
        .join(tables.PhotoHashBand, tables.PhotoHashBand.submission_id == S.id)
        .where(matches, S.id != sub.id, S.received_at <= sub.received_at)
        .where(S.utility == sub.utility)  # evidence never points into another utility
        .distinct()
    ).all()
    mine = int(photo_hash, 16)
    best = min(rows, key=lambda r: (hamming(int(r.photo_hash, 16), mine), r.id), default=None)
    if best is None:
        return None
    earlier = s.get(S, best.id)
    return v.EarlierPhoto(
        submission_id=earlier.id,
        distance=hamming(int(best.photo_hash, 16), mine),
        consumer_number=earlier.consumer_number,
        same_consumer=earlier.consumer_number == sub.consumer_number,
        same_file=earlier.photo_sha256 == sub.photo_sha256,
        sent_on=local_date(earlier.submitted_at, config.window),
        reading=earlier.verified_reading or (earlier.decision or {}).get("proposed_reading"),
    )
