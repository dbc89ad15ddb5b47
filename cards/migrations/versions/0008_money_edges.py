"""Money at the edges: a name on API tokens (the ledger's actor), the talk seconds of a hold's
last checkpoint (a recovered call's record), first callers listed by hand

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(50), nullable=True))
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(
            sa.Column("talked_at_checkpoint", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("first_callers") as batch:
        batch.add_column(
            sa.Column("by_hand", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("first_callers") as batch:
        batch.drop_column("by_hand")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("talked_at_checkpoint")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("name")
