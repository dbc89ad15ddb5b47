"""advisors (dial string, login PIN, payout rate, extension, live state), the hunt groups
that ring them from an advisor number, every attempt of a hunted call, and
the opening hours of a number (issue 23)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("dial_string", sa.String(length=120), nullable=False),
        sa.Column("pin_hash", sa.String(length=64), nullable=False),
        sa.Column("payout_rate", sa.BigInteger(), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=True),
        sa.Column("logged_in", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=True),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_call_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("calls_taken", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "name"),
        sa.UniqueConstraint("project_id", "pin_hash"),
        sa.UniqueConstraint("project_id", "extension"),
    )
    op.create_table(
        "hunt_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "number_id", sa.Integer(), sa.ForeignKey("numbers.id"), nullable=False, unique=True
        ),
        sa.Column("strategy", sa.String(length=12), nullable=False),
        sa.Column("ring_timeout_s", sa.Integer(), nullable=False),
        sa.Column("overall_timeout_s", sa.Integer(), nullable=False),
        sa.Column("wrapup_s", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.Boolean(), nullable=False),
        sa.Column("last_offered", sa.Integer(), sa.ForeignKey("advisors.id"), nullable=True),
    )
    op.create_table(
        "hunt_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("hunt_groups.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("advisor_id", sa.Integer(), sa.ForeignKey("advisors.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("group_id", "advisor_id"),
    )
    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("advisor", sa.String(length=80), nullable=False),
        sa.Column("dial_string", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ring_ms", sa.Integer(), nullable=False),
        sa.Column("payout_rate", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "number_id", sa.Integer(), sa.ForeignKey("numbers.id"), nullable=False, unique=True
        ),
        sa.Column("hours", sa.JSON(), nullable=False),
    )
    op.create_index("ix_call_attempts_call_id", "call_attempts", ["call_id"])
    op.create_index("ix_call_attempts_advisor_at", "call_attempts", ["advisor_id", "started_at"])


def downgrade() -> None:
    op.drop_table("opening_hours")
    op.drop_table("call_attempts")
    op.drop_table("hunt_members")
    op.drop_table("hunt_groups")
    op.drop_table("advisors")
