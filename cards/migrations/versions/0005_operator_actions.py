"""operator_actions: who changed what and why (block, unblock, line move, tariff, refund,
expiry, PIN reissue)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("card_id", sa.Integer(), sa.ForeignKey("cards.id"), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
    )
    op.create_index("ix_operator_actions_card_id", "operator_actions", ["card_id"])


def downgrade() -> None:
    op.drop_index("ix_operator_actions_card_id", "operator_actions")
    op.drop_table("operator_actions")
