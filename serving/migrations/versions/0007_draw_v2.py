"""draws v2: the published statement and the public entries file

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.add_column(sa.Column("statement", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("entries_public", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("entries_public")
        batch.drop_column("statement")
