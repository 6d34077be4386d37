"""lucky draws; a consumer's area

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:00:00
"""

import sqlalchemy as sa
from alembic import op

import serving.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consumers") as t:
        t.add_column(sa.Column("area", sa.String(64), nullable=True))
    op.create_table(
        "draws",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("utility", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("committed_at", sa.String(40), nullable=False),
        sa.Column("window_opens", sa.String(40), nullable=False),
        sa.Column("entries_csv", sa.Text(), nullable=True),
        sa.Column("entries_sha256", sa.String(64), nullable=True),
        sa.Column("closed_at", serving.tables.UTCDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("run_at", serving.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draws")),
        sa.UniqueConstraint("utility", "month", name="uq_draws_utility_month"),
    )


def downgrade() -> None:
    op.drop_table("draws")
    with op.batch_alter_table("consumers") as t:
        t.drop_column("area")
