"""tenancy (a utility on keys, submissions, events, webhooks), typed scripts, EXIF time, queue lease

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:40:00
"""

import sqlalchemy as sa
from alembic import op

import serving.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows belong to the utility their consumer has (keys and webhooks: "default").
    with op.batch_alter_table("api_keys") as t:
        t.add_column(sa.Column("utility", sa.String(32), nullable=True))
    op.execute("UPDATE api_keys SET utility = 'default'")
    with op.batch_alter_table("submissions") as t:
        t.add_column(sa.Column("utility", sa.String(32), nullable=False, server_default="default"))
        t.add_column(sa.Column("typed_as", sa.String(64), nullable=True))
        t.add_column(sa.Column("typed_script", sa.String(24), nullable=False, server_default="ascii"))
        t.add_column(sa.Column("photo_taken", sa.String(40), nullable=True))
        t.add_column(sa.Column("queued_at", serving.tables.UTCDateTime(), nullable=True))
        t.add_column(sa.Column("lease_until", serving.tables.UTCDateTime(), nullable=True))
        t.create_index("ix_submissions_utility_status", ["utility", "status"])
    op.execute(
        "UPDATE submissions SET utility = "
        "(SELECT consumers.utility FROM consumers WHERE consumers.number = submissions.consumer_number)"
    )
    op.execute("UPDATE submissions SET queued_at = received_at")
    with op.batch_alter_table("events") as t:
        t.add_column(sa.Column("utility", sa.String(32), nullable=False, server_default="default"))
        t.create_index("ix_events_utility_seq", ["utility", "seq"])
    op.execute(
        "UPDATE events SET utility = "
        "(SELECT submissions.utility FROM submissions WHERE submissions.id = events.submission_id)"
    )
    with op.batch_alter_table("webhook_endpoints") as t:
        t.add_column(sa.Column("utility", sa.String(32), nullable=False, server_default="default"))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as t:
        t.drop_column("utility")
    with op.batch_alter_table("events") as t:
        t.drop_index("ix_events_utility_seq")
        t.drop_column("utility")
    with op.batch_alter_table("submissions") as t:
        t.drop_index("ix_submissions_utility_status")
        for column in ("lease_until", "queued_at", "photo_taken", "typed_script", "typed_as", "utility"):
            t.drop_column(column)
    with op.batch_alter_table("api_keys") as t:
        t.drop_column("utility")
