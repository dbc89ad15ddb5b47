"""numbers.lang: a prompt language fixed per number (else it follows the caller)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("numbers") as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("numbers") as batch_op:
        batch_op.drop_column("lang")
