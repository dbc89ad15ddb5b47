"""cards.batch: the number of the batch a card was created in (per project, 1, 2, …)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("batch", sa.Integer(), nullable=True))
    op.create_index("ix_cards_project_batch", "cards", ["project_id", "batch"])


def downgrade() -> None:
    op.drop_index("ix_cards_project_batch", "cards")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("batch")
