"""Service quality: one-stop and handling time of each operation, the customers' ratings, when
each SMS was queued, and indexes for reports over a period.

Also, on SQLite only: work items' due times were written as China Standard Time wall-clock
values, which SQLite keeps without their offset and hands back as UTC (8 hours late); they are
moved to UTC, as they are written now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A 'completed' notice after work items was queued when the last of them was done; any other
# notice when its operation was received.
_QUEUED_AT = """
UPDATE notifications SET queued_at = COALESCE(
    CASE WHEN notice = 'completed' THEN (
        SELECT MAX(w.done_at) FROM work_items w
        WHERE w.operation_id = notifications.operation_id) END,
    (SELECT o.received_at FROM operations o
     WHERE o.operation_id = notifications.operation_id))
"""


def _shift_sqlite_due_times(hours: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Keeps the microseconds SQLAlchemy writes after the seconds.
        op.execute(f"UPDATE work_items SET due_at = strftime('%Y-%m-%d %H:%M:%S', due_at, "
                   f"'{hours:+d} hours') || substr(due_at, 20)")


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_contact", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("not_settled_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("handling_seconds", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_operations_created_at"), ["created_at"],
                              unique=False)

    op.create_table(
        "feedback",
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.operation_id"],
            name=op.f("fk_feedback_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_feedback")),
    )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_QUEUED_AT)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("queued_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    _shift_sqlite_due_times(-8)
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_items_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_due_at"))
    _shift_sqlite_due_times(+8)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("queued_at")

    op.drop_table("feedback")

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operations_created_at"))
        batch_op.drop_column("handling_seconds")
        batch_op.drop_column("not_settled_reason")
        batch_op.drop_column("first_contact")
