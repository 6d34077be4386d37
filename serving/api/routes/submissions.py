"""Submissions: billing sends a photo and the typed reading; anyone with a key asks how it was decided."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import BaseModel, Field

from verification import Reading, ReviewRefused

from ... import submissions, tables
from ...submissions import intake
from ..deps import AnyKey, BillingKey, ReviewerKey, ServiceDep, SessionDep, SingleValuedForm, error
from ..schemas import SubmissionOut

log = logging.getLogger("meterverify.api")
router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

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
    request = intake.Request(
        key_id=key.key_id,
        idempotency_key=idempotency_key,
        consumer_number=consumer_number,
        typed_reading=typed_reading,
        submitted_at=submitted_at,
        channel=channel,
        photo=photo.file.read(svc.settings.max_photo_bytes + 1),
        content_type=photo.content_type or "",
    )
    try:
        sub, replayed = intake.submit(svc, session, request, key.sees)
    except intake.Refused as e:
        raise error(e.status, e.code, e.message) from None
    if replayed:
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
