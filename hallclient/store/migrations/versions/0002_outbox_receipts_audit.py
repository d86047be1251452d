"""Counter transactions: the outbox, receipts with their daily sequence, and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clerk", sa.String(32), nullable=False),
        sa.Column("business_type", sa.String(32), nullable=False),
        sa.Column("account_number", sa.String(10), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "state in ('pending', 'applied', 'duplicate', 'conflict', 'rejected')",
            name="ck_outbox_state",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("operation_id", name="uq_outbox_operation_id"),
    )
    op.create_index("ix_outbox_account_number", "outbox", ["account_number"])
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_table(
        "receipt_counters",
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_receipt_counters"),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_no", sa.String(40), nullable=False),
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("copies_printed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["outbox.operation_id"],
            name="fk_receipts_operation_id_outbox",
        ),
        sa.PrimaryKeyConstraint("receipt_no", name="pk_receipts"),
        sa.UniqueConstraint("operation_id", name="uq_receipts_operation_id"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clerk", sa.String(32), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_at", "audit")
    op.drop_table("audit")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_index("ix_outbox_state", "outbox")
    op.drop_index("ix_outbox_account_number", "outbox")
    op.drop_table("outbox")
