"""The service's tables (SQLAlchemy 2). The schema is changed only through Alembic (``serving/migrations``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite has no time zones: stored naive, in UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Consumer(Base):
    __tablename__ = "consumers"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    meter_digits: Mapped[int] = mapped_column(SmallInteger)
    meter_decimals: Mapped[int] = mapped_column(SmallInteger)
    sanctioned_load_kw: Mapped[float] = mapped_column(Float)
    utility: Mapped[str] = mapped_column(String(32), default="default")
    area: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # subdivision or section, for analysts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PastReading(Base):
    """Verified readings: imported history, and every accepted submission."""

    __tablename__ = "past_readings"
    __table_args__ = (UniqueConstraint("consumer_number", "on", name="uq_past_readings_consumer_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer_number: Mapped[str] = mapped_column(ForeignKey("consumers.number"), index=True)
    on: Mapped[date] = mapped_column(Date)
    reading: Mapped[str] = mapped_column(String(24))
    meter_replaced: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the key's public prefix
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated
    utility: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: an operator key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("api_key_id", "idempotency_key", name="uq_submissions_idempotency"),
        Index("ix_submissions_status_updated", "status", "updated_at"),
        Index("ix_submissions_consumer_month", "consumer_number", "month"),
        Index("ix_submissions_utility_status", "utility", "status", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    utility: Mapped[str] = mapped_column(String(32), default="default")  # the consumer's, kept for filtering
    consumer_number: Mapped[str] = mapped_column(ForeignKey("consumers.number"))
    typed_reading: Mapped[str] = mapped_column(String(24))  # normalised to ASCII digits
    typed_as: Mapped[str | None] = mapped_column(String(64), nullable=True)  # as it came, when not ASCII
    typed_script: Mapped[str] = mapped_column(String(24), default="ascii")
    photo_taken: Mapped[str | None] = mapped_column(String(40), nullable=True)  # EXIF, as the camera wrote it
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(20))
    api_key_id: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))  # same key, different request: a conflict
    photo_sha256: Mapped[str] = mapped_column(String(64))
    photo_size: Mapped[int] = mapped_column(Integer)
    photo_type: Mapped[str] = mapped_column(String(10))

    # received -> processing -> accepted | needs_review | rejected (needs_review -> accepted | rejected)
    status: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started
    # Runs that ended with the worker process crashing (a signal a photo can cause, not a kill from outside).
    crashes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the job last reached the queue (None: never, the broker was down) and until when a worker holds it.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Review: the reason codes (" code code ", for the queue's filter), who holds the item and until when,
    # who skipped it last; ``revision`` counts reopenings (each decision is an event of its own).
    review_reasons: Mapped[str | None] = mapped_column(String(300), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    skipped_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reading: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # vision.read's result
    decision: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # verification.Decision.to_dict()
    verified_reading: Mapped[str | None] = mapped_column(String(24), nullable=True)
    lucky_draw_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    photo_hash: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class PhotoHashBand(Base):
    """The perceptual hash cut into 8 bands of 8 bits: two hashes within 7 bits share a band (pigeonhole),
    so the nearest earlier photo is found by index lookups, not by scanning every photo."""

    __tablename__ = "photo_hash_bands"

    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)


# The events billing receives (``Event.type``).
EVENT_DECIDED = "submission.decided"
EVENT_REOPENED = "submission.reopened"


class Event(Base):
    """What billing learns: one event per final decision, in the order of ``seq`` (the pull feed's cursor)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("submission_id", "type", "revision", name="uq_events_submission_type"),
        Index("ix_events_utility_seq", "utility", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    utility: Mapped[str] = mapped_column(String(32), default="default")
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the submission's
    id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    utility: Mapped[str] = mapped_column(String(32), default="default")
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))  # HMAC key, shown once when the endpoint is registered
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """The outbox: one row per event and endpoint, sent until the endpoint answers 2xx."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_seq", "endpoint_id", name="uq_deliveries_event_endpoint"),
        Index("ix_deliveries_due", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Draw(Base):
    """A utility's monthly lucky draw: committed (seed secret), closed (entries frozen), run (seed revealed)."""

    __tablename__ = "draws"
    __table_args__ = (UniqueConstraint("utility", "month", name="uq_draws_utility_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    utility: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))
    seed: Mapped[str] = mapped_column(String(64))  # secret until the draw is run
    commitment: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[str] = mapped_column(String(40))  # ISO 8601, as in the commitment
    window_opens: Mapped[str] = mapped_column(String(40))
    statement: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # v2: published at commit
    entries_csv: Mapped[str | None] = mapped_column(Text, nullable=True)  # frozen at close (analysts only)
    entries_public: Mapped[str | None] = mapped_column(Text, nullable=True)  # v2: hashed receipt ids
    entries_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # v2: of entries_public
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # set when run
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class User(Base):
    """A review UI account: a reviewer or a supervisor of one utility."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(16))
    utility: Mapped[str] = mapped_column(String(32))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)  # bumped: every session cookie dies
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReviewAction(Base):
    """The audit trail: every reviewer and supervisor action, before and after."""

    __tablename__ = "review_actions"
    __table_args__ = (
        Index("ix_review_actions_submission", "submission_id"),
        Index("ix_review_actions_utility_at", "utility", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    utility: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500), default="")
    reader_value: Mapped[str | None] = mapped_column(String(24), nullable=True)
    typed: Mapped[str | None] = mapped_column(String(24), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInAttempt(Base):
    """Every sign-in to the review UI, right or wrong: the throttle counts them, supervisors read them, and
    each sign-in form's token is used once (its hash is unique here)."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
        Index("ix_sign_in_attempts_utility_at", "utility", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed (cut to 64): also names that do not exist
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, wrong, locked
    utility: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the account's, when it exists
    form_token: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the form's token
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
