"""an advisor's own tariff (issue 23, seed 004's price per offer): when set, it rates the calls
that advisor answers in place of the number's standard tariff

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("advisors") as batch:
        batch.add_column(sa.Column("tariff_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_advisors_tariff", "tariffs", ["tariff_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("advisors") as batch:
        batch.drop_constraint("fk_advisors_tariff", type_="foreignkey")
        batch.drop_column("tariff_id")
