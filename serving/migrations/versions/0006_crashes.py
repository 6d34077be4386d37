"""submissions.crashes: runs that crashed their worker, apart from runs whose worker was killed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 23:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("crashes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("crashes")
