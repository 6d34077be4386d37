"""review UI: sign-in attempts (throttling, audit, single-use sign-in forms)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import serving.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("utility", sa.String(32), nullable=True),
        sa.Column("form_token", sa.String(64), nullable=False),
        sa.Column("at", serving.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
        sa.UniqueConstraint("form_token", name=op.f("uq_sign_in_attempts_form_token")),
    )
    op.create_index("ix_sign_in_attempts_username_at", "sign_in_attempts", ["username", "at"])
    op.create_index("ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"])
    op.create_index("ix_sign_in_attempts_utility_at", "sign_in_attempts", ["utility", "at"])


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
