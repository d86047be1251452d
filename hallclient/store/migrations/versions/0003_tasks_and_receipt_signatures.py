"""Tasks for clerks (conflicts and rejections) and receipt signatures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_number", sa.String(length=10), nullable=True),
        sa.Column("customer_name", sa.String(length=60), nullable=True),
        sa.Column("customer_phone", sa.String(length=32), nullable=True),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("server_reason_zh", sa.Text(), nullable=False),
        sa.Column("server_reason_en", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.CheckConstraint("kind in ('conflict', 'rejected')", name=op.f("ck_tasks_kind")),
        sa.CheckConstraint("state in ('open', 'closed')", name=op.f("ck_tasks_state")),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["outbox.operation_id"], name=op.f("fk_tasks_operation_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_tasks_operation_id")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_state"), ["state"], unique=False)

    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signature", sa.String(length=128), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_column("signature")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_state"))

    op.drop_table("tasks")
