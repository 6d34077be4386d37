"""Intake: a photo and a typed reading become a stored submission, queued for reading, or are refused with a
code and words (``Refused``), nothing stored. The API's route only translates HTTP to this and back."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verification import Reading
from verification.scripts import ScriptRefused, to_ascii
from vision.image import ImageError, exif_taken, read_header, sniff_format

from .. import metrics, tables, tasks
from ..consumers import CONSUMER_NUMBER
from ..service import Service

# The declared type of an upload and the format its bytes must then have (vision.image.sniff_format).
FORMAT_OF = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIC",
    "image/heif": "HEIC",
}
PHOTO_TYPES = {*FORMAT_OF, "application/octet-stream"}  # octet-stream: any of the four, as sniffed
CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII, no spaces
MAX_CLOCK_SKEW = timedelta(minutes=10)
# What the header says of a photo that cannot be used, as the door answers it.
_HEADER_REFUSALS = {"too_many_pixels": (413, "too_many_pixels"), "too_small": (422, "image_too_small")}


class Refused(Exception):
    """A submission refused at the door: an HTTP status, a stable code, words for the sender."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Request:
    """What billing sent, as text (checked here, not by the caller)."""

    key_id: str
    idempotency_key: str
    consumer_number: str
    typed_reading: str
    submitted_at: str | None
    channel: str
    photo: bytes  # at most the limit plus one byte: more is refused as too large
    content_type: str


def submitted_at(text: str | None, max_age: timedelta) -> datetime:
    """When the consumer took and sent the photo (the app's clock): within ``max_age`` before we received it."""
    now = datetime.now(UTC)
    if not text:
        return now
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(
            422, "bad_submitted_at", "submitted_at must be an ISO 8601 time with a UTC offset"
        ) from None
    if when.tzinfo is None:
        raise Refused(
            422, "bad_submitted_at", "submitted_at needs a UTC offset, e.g. 2026-11-02T10:15:00+05:30"
        )
    if when > now + MAX_CLOCK_SKEW:
        raise Refused(422, "bad_submitted_at", "submitted_at is in the future")
    if when < now - max_age:  # the reading window and the lucky draw go by this time: it cannot be old
        hours = max_age.total_seconds() / 3600
        raise Refused(
            422, "submitted_at_too_old", f"submitted_at is more than {hours:.0f} h before it arrived"
        )
    return when


def check_photo(data: bytes, content_type: str, limit: int) -> str:
    """The photo's format, if its bytes are an image of the type declared; ``Refused`` if not."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in PHOTO_TYPES:
        raise _refused(
            415,
            "unsupported_media_type",
            f"photo is {content_type[:40]!r}; send image/jpeg, png, webp or heic",
        )
    if not data:
        raise _refused(400, "empty_photo", "the photo is empty")
    if len(data) > limit:
        raise _refused(413, "photo_too_large", f"the photo is larger than {limit // (1024 * 1024)} MB")
    found = sniff_format(data)
    if found not in FORMAT_OF.values():
        raise _refused(415, "not_an_image", "the photo is not a JPEG, PNG, WebP or HEIC image")
    declared = FORMAT_OF.get(content_type)
    if declared is not None and declared != found:
        raise _refused(415, "type_mismatch", f"the photo is a {found} image but was sent as {content_type}")
    try:  # the header alone, its size checked before anything is decoded (a small PNG may hold gigapixels)
        read_header(data, found)
    except ImageError as e:
        status, code = _HEADER_REFUSALS.get(e.reason, (415, "corrupt_image"))
        raise _refused(status, code, f"the photo cannot be used: {e}") from None
    return found


def _refused(status: int, code: str, message: str) -> Refused:
    metrics.REJECTED_UPLOADS.labels(code).inc()
    return Refused(status, code, message)


def submit(svc: Service, session: Session, req: Request, sees) -> tuple[tables.Submission, bool]:
    """Store the photo, write the submission and queue it: (the submission, False). The same
    ``Idempotency-Key`` with the same request again: (the first submission, True); with another request:
    ``Refused`` 409. ``sees(utility)``: whether the sender may act for that utility's consumers."""
    if not IDEMPOTENCY_KEY.match(req.idempotency_key):
        raise Refused(400, "bad_idempotency_key", "Idempotency-Key must be 1-100 printable ASCII characters")
    if not CONSUMER_NUMBER.match(req.consumer_number):
        raise Refused(422, "bad_consumer_number", "consumer_number is 1-32 letters, digits or '-'")
    try:
        ascii_text, script = to_ascii(req.typed_reading)
        typed = Reading.parse(ascii_text)
    except ScriptRefused as e:
        raise Refused(422, "unsupported_digits", str(e)) from None
    except ValueError:
        raise Refused(
            422, "malformed_reading", "typed_reading is digits, optionally a point and up to 4 decimals"
        ) from None
    if not CHANNEL.match(req.channel):
        raise Refused(422, "bad_channel", "channel is 1-20 lower-case letters, digits, '_' or '-'")
    when = submitted_at(req.submitted_at, timedelta(hours=svc.settings.submitted_at_max_age_h))
    fmt = check_photo(req.photo, req.content_type, svc.settings.max_photo_bytes)
    digest = hashlib.sha256(req.photo).hexdigest()
    request_hash = hashlib.sha256(
        "\x1f".join((req.consumer_number, str(typed), req.submitted_at or "", req.channel, digest)).encode()
    ).hexdigest()
    existing = _replay(session, req, request_hash)
    if existing is not None:
        return existing, True
    consumer = session.get(tables.Consumer, req.consumer_number)
    if consumer is None or not sees(consumer.utility):  # another utility's consumer is unknown here
        raise _refused(422, "unknown_consumer", f"no consumer {req.consumer_number}; import consumers first")
    svc.store.put(
        req.photo, req.content_type or "application/octet-stream"
    )  # StoreUnavailable: the caller's 503
    sub = tables.Submission(
        id=str(uuid.uuid4()),
        utility=consumer.utility,
        consumer_number=req.consumer_number,
        typed_reading=str(typed),
        typed_as=None if script == "ascii" else req.typed_reading,
        typed_script=script,
        submitted_at=when,
        channel=req.channel,
        api_key_id=req.key_id,
        idempotency_key=req.idempotency_key,
        request_hash=request_hash,
        photo_sha256=digest,
        photo_size=len(req.photo),
        photo_type=fmt,
        photo_taken=exif_taken(req.photo),
        queued_at=tables.utcnow(),
    )
    session.add(sub)
    try:
        session.commit()
    except IntegrityError:  # the same key raced us: answer with the winner
        session.rollback()
        existing = _replay(session, req, request_hash)
        if existing is not None:
            return existing, True
        raise
    tasks.queue_submission(svc, sub.id)  # if the broker is down, the sweeper queues it once it is back
    metrics.SUBMISSIONS.labels(req.channel).inc()
    return sub, False


def _replay(session: Session, req: Request, request_hash: str) -> tables.Submission | None:
    sub = session.scalar(
        select(tables.Submission).where(
            tables.Submission.api_key_id == req.key_id,
            tables.Submission.idempotency_key == req.idempotency_key,
        )
    )
    if sub is not None and sub.request_hash != request_hash:
        raise Refused(409, "idempotency_conflict", "this Idempotency-Key was used for a different submission")
    return sub
