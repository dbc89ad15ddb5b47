"""Money at the edges: a name on API tokens (the ledger's actor), the talk seconds of a hold's
last checkpoint (a recovered call's record), first callers listed by hand, a customer's credit line
shared by its cards (no limit per card) and its payments

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

    with op.batch_alter_table("cards") as batch:
        batch.drop_column("credit_limit")
    op.create_table(
        "customer_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer_id", "reference"),
    )


def downgrade() -> None:
    op.drop_table("customer_payments")
    with op.batch_alter_table("cards") as batch:
        batch.add_column(
            sa.Column("credit_limit", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("first_callers") as batch:
        batch.drop_column("by_hand")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("talked_at_checkpoint")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("name")
