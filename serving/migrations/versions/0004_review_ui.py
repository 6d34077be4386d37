"""review UI: users, the audit trail, claims, reopened decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:30:00
"""

import sqlalchemy as sa
from alembic import op

import serving.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("utility", sa.String(32), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", serving.tables.UTCDateTime(), nullable=False),
        sa.Column("disabled_at", serving.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("utility", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("reader_value", sa.String(24), nullable=True),
        sa.Column("typed", sa.String(24), nullable=True),
        sa.Column("at", serving.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_review_actions_submission_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_actions")),
    )
    op.create_index("ix_review_actions_submission", "review_actions", ["submission_id"])
    op.create_index("ix_review_actions_utility_at", "review_actions", ["utility", "at"])
    with op.batch_alter_table("submissions") as t:
        t.add_column(sa.Column("review_reasons", sa.String(300), nullable=True))
        t.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        t.add_column(sa.Column("claim_until", serving.tables.UTCDateTime(), nullable=True))
        t.add_column(sa.Column("skipped_by", sa.String(64), nullable=True))
        t.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        t.drop_index("ix_submissions_utility_status")
        t.create_index("ix_submissions_utility_status", ["utility", "status", "received_at"])
    with op.batch_alter_table("events") as t:
        t.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        t.drop_constraint("uq_events_submission_type", type_="unique")
        t.create_unique_constraint("uq_events_submission_type", ["submission_id", "type", "revision"])


def downgrade() -> None:
    with op.batch_alter_table("events") as t:
        t.drop_constraint("uq_events_submission_type", type_="unique")
        t.create_unique_constraint("uq_events_submission_type", ["submission_id", "type"])
        t.drop_column("revision")
    with op.batch_alter_table("submissions") as t:
        t.drop_index("ix_submissions_utility_status")
        t.create_index("ix_submissions_utility_status", ["utility", "status"])
        for column in ("revision", "skipped_by", "claim_until", "claimed_by", "review_reasons"):
            t.drop_column(column)
    op.drop_table("review_actions")
    op.drop_table("users")
