"""Submissions: billing sends a photo and the typed reading; anyone with a key asks how it was decided."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from verification import Reading, ReviewRefused
from verification.scripts import ScriptRefused, to_ascii
from vision.image import ImageError, exif_taken, read_header, sniff_format

from ... import metrics, submissions, tables, tasks
from ...consumers import CONSUMER_NUMBER
from ..deps import AnyKey, BillingKey, ReviewerKey, ServiceDep, SessionDep, SingleValuedForm, error
from ..schemas import SubmissionOut

log = logging.getLogger("meterverify.api")
router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

# What the header says of a photo that cannot be used, as the door answers it.
_HEADER_REFUSALS = {"too_many_pixels": (413, "too_many_pixels"), "too_small": (422, "image_too_small")}
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

_ERRORS = {
    400: {"description": "Empty photo or a malformed Idempotency-Key"},
    401: {"description": "No or unknown API key"},
    403: {"description": "The key lacks the billing scope"},
    409: {"description": "The Idempotency-Key was used for a different request"},
    413: {"description": "The photo is larger than the limit"},
    415: {"description": "The photo is not a JPEG, PNG, WebP or HEIC image"},
    422: {"description": "Unknown consumer, malformed reading, time or channel, or a missing field"},
    503: {
        "description": "The photo store or database is unavailable; nothing was stored. Retry after Retry-After s"
    },
}


def _parse_submitted_at(text: str | None, max_age: timedelta) -> datetime:
    """When the consumer took and sent the photo (the app's clock): within ``max_age`` before we received it."""
    now = datetime.now(UTC)
    if not text:
        return now
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise error(
            422, "bad_submitted_at", "submitted_at must be an ISO 8601 time with a UTC offset"
        ) from None
    if when.tzinfo is None:
        raise error(
            422, "bad_submitted_at", "submitted_at needs a UTC offset, e.g. 2026-11-02T10:15:00+05:30"
        )
    if when > now + MAX_CLOCK_SKEW:
        raise error(422, "bad_submitted_at", "submitted_at is in the future")
    if when < now - max_age:  # the reading window and the lucky draw go by this time: it cannot be old
        hours = max_age.total_seconds() / 3600
        raise error(422, "submitted_at_too_old", f"submitted_at is more than {hours:.0f} h before it arrived")
    return when


@router.post(
    "", status_code=202, response_model=SubmissionOut, responses=_ERRORS, dependencies=[SingleValuedForm]
)
def create_submission(
    response: Response,
    svc: ServiceDep,
    session: SessionDep,
    key: BillingKey,
    photo: Annotated[UploadFile, File(description="The meter photo: JPEG, PNG, WebP or HEIC")],
    consumer_number: Annotated[str, Form(max_length=64)],
    typed_reading: Annotated[str, Form(max_length=64, description="As the consumer typed it, e.g. 13441.6")],
    idempotency_key: Annotated[
        str, Header(alias="Idempotency-Key", description="Same key, same submission (1-100 printable ASCII)")
    ],
    submitted_at: Annotated[
        str | None, Form(max_length=64, description="ISO 8601 with offset; default now")
    ] = None,
    channel: Annotated[str, Form(max_length=64, description="e.g. app, web, whatsapp")] = "app",
) -> SubmissionOut:
    """Store the photo and queue it for reading and verification. Answers 202 once the photo is stored and the
    submission committed; the decision follows (poll this resource, the pull feed, or take the webhook)."""
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise error(400, "bad_idempotency_key", "Idempotency-Key must be 1-100 printable ASCII characters")
    if not CONSUMER_NUMBER.match(consumer_number):
        raise error(422, "bad_consumer_number", "consumer_number is 1-32 letters, digits or '-'")
    try:
        ascii_text, script = to_ascii(typed_reading)
        typed = Reading.parse(ascii_text)
    except ScriptRefused as e:
        raise error(422, "unsupported_digits", str(e)) from None
    except ValueError:
        raise error(
            422, "malformed_reading", "typed_reading is digits, optionally a point and up to 4 decimals"
        ) from None
    if not CHANNEL.match(channel):
        raise error(422, "bad_channel", "channel is 1-20 lower-case letters, digits, '_' or '-'")
    when = _parse_submitted_at(submitted_at, timedelta(hours=svc.settings.submitted_at_max_age_h))
    data, fmt = _read_photo(photo, svc.settings.max_photo_bytes)
    digest = hashlib.sha256(data).hexdigest()
    request_hash = hashlib.sha256(
        "\x1f".join((consumer_number, str(typed), submitted_at or "", channel, digest)).encode()
    ).hexdigest()

    existing = _replay(session, key.key_id, idempotency_key, request_hash, response)
    if existing is not None:
        return existing
    consumer = session.get(tables.Consumer, consumer_number)
    if consumer is None or not key.sees(consumer.utility):  # another utility's consumer is unknown here
        metrics.REJECTED_UPLOADS.labels("unknown_consumer").inc()
        raise error(422, "unknown_consumer", f"no consumer {consumer_number}; import consumers first")

    svc.store.put(data, photo.content_type or "application/octet-stream")  # StoreUnavailable -> 503
    sub = tables.Submission(
        id=str(uuid.uuid4()),
        utility=consumer.utility,
        consumer_number=consumer_number,
        typed_reading=str(typed),
        typed_as=None if script == "ascii" else typed_reading,
        typed_script=script,
        submitted_at=when,
        channel=channel,
        api_key_id=key.key_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        photo_sha256=digest,
        photo_size=len(data),
        photo_type=fmt,
        photo_taken=exif_taken(data),
        queued_at=tables.utcnow(),
    )
    session.add(sub)
    try:
        session.commit()
    except IntegrityError:  # the same key raced us: answer with the winner
        session.rollback()
        existing = _replay(session, key.key_id, idempotency_key, request_hash, response)
        if existing is not None:
            return existing
        raise
    tasks.queue_submission(svc, sub.id)  # if the broker is down, the sweeper queues it once it is back
    metrics.SUBMISSIONS.labels(channel).inc()
    response.headers["Location"] = f"/v1/submissions/{sub.id}"
    return SubmissionOut(**submissions.submission_view(sub))


def _read_photo(photo: UploadFile, limit: int) -> tuple[bytes, str]:
    """The photo's bytes and format, if they are an image of the type declared; refused (stored nowhere) if
    not."""
    content_type = (photo.content_type or "").split(";")[0].strip().lower()
    if content_type not in PHOTO_TYPES:
        metrics.REJECTED_UPLOADS.labels("unsupported_media_type").inc()
        raise error(
            415,
            "unsupported_media_type",
            f"photo is {content_type[:40]!r}; send image/jpeg, png, webp or heic",
        )
    data = photo.file.read(limit + 1)
    if not data:
        metrics.REJECTED_UPLOADS.labels("empty_photo").inc()
        raise error(400, "empty_photo", "the photo is empty")
    if len(data) > limit:
        metrics.REJECTED_UPLOADS.labels("photo_too_large").inc()
        raise error(413, "photo_too_large", f"the photo is larger than {limit // (1024 * 1024)} MB")
    found = sniff_format(data)
    if found not in FORMAT_OF.values():
        metrics.REJECTED_UPLOADS.labels("not_an_image").inc()
        raise error(415, "not_an_image", "the photo is not a JPEG, PNG, WebP or HEIC image")
    declared = FORMAT_OF.get(content_type)
    if declared is not None and declared != found:
        metrics.REJECTED_UPLOADS.labels("type_mismatch").inc()
        raise error(415, "type_mismatch", f"the photo is a {found} image but was sent as {content_type}")
    try:  # the header alone, its size checked before anything is decoded (a small PNG may hold gigapixels)
        read_header(data, found)
    except ImageError as e:
        status, code = _HEADER_REFUSALS.get(e.reason, (415, "corrupt_image"))
        metrics.REJECTED_UPLOADS.labels(code).inc()
        raise error(status, code, f"the photo cannot be used: {e}") from None
    return data, found


def _replay(
    session, key_id: str, idempotency_key: str, request_hash: str, response: Response
) -> SubmissionOut | None:
    sub = session.scalar(
        select(tables.Submission).where(
            tables.Submission.api_key_id == key_id, tables.Submission.idempotency_key == idempotency_key
        )
    )
    if sub is None:
        return None
    if sub.request_hash != request_hash:
        raise error(409, "idempotency_conflict", "this Idempotency-Key was used for a different submission")
    response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/submissions/{sub.id}"
    return SubmissionOut(**submissions.submission_view(sub))


@router.get(
    "/{submission_id}", response_model=SubmissionOut, responses={404: {"description": "No such submission"}}
)
def get_submission(submission_id: uuid.UUID, session: SessionDep, key: AnyKey) -> SubmissionOut:
    """Status, reading, decision with every reason, and the lucky-draw flag."""
    sub = session.get(tables.Submission, str(submission_id))
    if sub is None or not key.sees(sub.utility):
        raise error(404, "not_found", "no such submission")
    return SubmissionOut(**submissions.submission_view(sub))


class MeterSpec(BaseModel):
    digits: int = Field(ge=1, le=99, description="Digit positions on the register, decimals included")
    decimals: int = Field(ge=0, le=98, description="How many of them are decimals")


class ReviewIn(BaseModel):
    action: Literal["accept", "reject"]
    reading: str | None = Field(None, max_length=24, description="The reading the photo shows (accept)")
    reason: str = Field("", max_length=500, description="Why (reject)")
    new_meter: MeterSpec | None = Field(
        None, description="The photo shows a meter fitted since the last reading: its register (accept)"
    )
    rollover: bool = Field(
        False, description="The counter went round: the reading is below the last (accept)"
    )


@router.post(
    "/{submission_id}/review",
    response_model=SubmissionOut,
    responses={
        404: {"description": "No such submission"},
        409: {"description": "Not waiting for review, or a reviewer in the review UI holds it"},
        422: {"description": "The reading does not fit the meter or its history"},
    },
)
def review_submission(
    submission_id: uuid.UUID,
    body: ReviewIn,
    svc: ServiceDep,
    session: SessionDep,
    key: ReviewerKey,
) -> SubmissionOut:
    """Settle a submission that needs review: accept it with the reading the photo shows, or reject it."""
    sub = session.get(tables.Submission, str(submission_id))
    if sub is None or not key.sees(sub.utility):
        raise error(404, "not_found", "no such submission")
    value = None
    if body.action == "accept":
        try:
            value = Reading.parse(body.reading or "")
        except ValueError as e:
            raise error(422, "malformed_reading", str(e)) from None
    try:
        new_meter = (body.new_meter.digits, body.new_meter.decimals) if body.new_meter else None
        submissions.settle(
            svc,
            str(submission_id),
            f"key:{key.name}",
            value,
            body.reason,
            body.rollover,
            utility=key.utility,
            new_meter=new_meter,
        )
    except LookupError:
        raise error(404, "not_found", "no such submission") from None
    except submissions.ItemClaimed as e:  # a reviewer in the UI is on it
        raise error(409, "claimed", str(e)) from None
    except ReviewRefused as e:  # the reading cannot be right for this meter and its history
        raise error(422, e.code, str(e)) from None
    except ValueError as e:
        raise error(409, "not_in_review", str(e)) from None
    with svc.sessions() as s:
        return SubmissionOut(**submissions.submission_view(s.get(tables.Submission, str(submission_id))))
