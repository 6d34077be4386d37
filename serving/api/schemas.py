"""What the API answers, as OpenAPI schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReadOut(BaseModel):
    value: str | None = Field(description="What the photo shows, e.g. 13441.6")
    confidence: float | None = Field(description="Calibrated probability that the reading is right")
    readable: bool | None
    quality: list[str]


class ReasonOut(BaseModel):
    code: str = Field(description="Stable code, e.g. typed_differs, glare, below_last_reading")
    outcome: str = Field(description="review or reject")
    message: str
    evidence: dict


class SubmissionOut(BaseModel):
    id: str
    consumer_number: str
    typed_reading: str = Field(description="The typed reading in ASCII digits")
    typed_as: str | None = Field(
        None, description="As it was typed, when in another script (e.g. Devanagari digits)"
    )
    submitted_at: str
    channel: str
    status: str = Field(description="received, processing, accepted, needs_review or rejected")
    verified_reading: str | None = Field(description="Set when accepted: the reading to bill")
    proposed_reading: str | None = Field(description="What the photo shows, for a reviewer")
    read: ReadOut | None
    reasons: list[ReasonOut]
    lucky_draw_eligible: bool
    lucky_draw_reason: str | None
    month: str | None
    decided_by: str | None
    decided_at: str | None
    photo_sha256: str


class PastReadingOut(BaseModel):
    on: str
    reading: str
    meter_replaced: bool
    submission_id: str | None


class ConsumerReadingsOut(BaseModel):
    consumer_number: str
    meter_digits: int
    meter_decimals: int
    sanctioned_load_kw: float
    utility: str
    readings: list[PastReadingOut] = Field(description="Verified readings, oldest first")


class EventOut(BaseModel):
    id: str
    seq: int
    type: str
    created_at: str
    data: SubmissionOut


class FeedOut(BaseModel):
    events: list[EventOut]
    next_cursor: str = Field(description="Pass as ?after= to get the events after these")


class ImportOut(BaseModel):
    consumers: int
    readings: int


class WebhookIn(BaseModel):
    url: str = Field(max_length=500, pattern=r"^https?://[^\s]+$")
    utility: str | None = Field(None, max_length=32, description="Operator keys only: whose endpoint")


class WebhookOut(BaseModel):
    id: int
    utility: str
    url: str
    active: bool
    secret: str | None = Field(None, description="Shown only when the endpoint is registered")


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_seq: int
    endpoint_id: int
    attempts: int
    delivered_at: str | None
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Who the key is for")
    scopes: list[str] = Field(min_length=1, max_length=5, description="billing, reviewer, analyst, admin")
    utility: str | None = Field(None, max_length=32, description="Operator keys only: for which utility")


class KeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    utility: str | None
    created_at: str
    revoked_at: str | None
    key: str | None = Field(None, description="The key itself: shown only when it is created")


class DrawOut(BaseModel):
    utility: str
    month: str
    commitment: str = Field(description="SHA-256 of the statement, published before the window")
    statement: dict | None = Field(
        None, description="v2: what was fixed at commit (seed hash, counts, times, the drand round)"
    )
    committed_at: str
    window_opens: str
    entries_sha256: str | None = Field(description="Set when the entries are frozen")
    closed_at: str | None
    report: dict | None = Field(description="Set when the draw is run: seed revealed, winners, reserves")
