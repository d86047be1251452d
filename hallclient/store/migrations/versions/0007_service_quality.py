"""Service quality: one-stop and handling time with each operation; the customer's rating.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_contact", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("not_settled_reason", sa.String(length=32),
                                      nullable=True))
        batch_op.add_column(sa.Column("handling_seconds", sa.Integer(), nullable=True))
    op.create_table(
        "feedback",
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.CheckConstraint("state in ('pending', 'stored')", name=op.f("ck_feedback_state")),
        sa.ForeignKeyConstraint(["operation_id"], ["outbox.operation_id"],
                                name=op.f("fk_feedback_operation_id_outbox")),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_state", "feedback", ["state"])


def downgrade() -> None:
    op.drop_index("ix_feedback_state", table_name="feedback")
    op.drop_table("feedback")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("handling_seconds")
        batch_op.drop_column("not_settled_reason")
        batch_op.drop_column("first_contact")
