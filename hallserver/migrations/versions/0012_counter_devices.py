"""The counter's devices: each operation's handwritten signature and queue ticket (with the
waiting time the server could believe), and the document scans attached to operations.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_signature", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("ticket_no", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("ticket_source", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("ticket_issued_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("ticket_called_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("waiting_seconds", sa.Integer(), nullable=True))
    op.create_table(
        "scans",
        sa.Column("scan_id", sa.String(length=36), nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.operation_id"],
                                name=op.f("fk_scans_operation_id_operations")),
        sa.PrimaryKeyConstraint("scan_id", name=op.f("pk_scans")),
    )
    op.create_index("ix_scans_operation_id", "scans", ["operation_id"])
    op.create_index("ix_scans_purge_after", "scans", ["purge_after"])


def downgrade() -> None:
    op.drop_index("ix_scans_purge_after", table_name="scans")
    op.drop_index("ix_scans_operation_id", table_name="scans")
    op.drop_table("scans")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("waiting_seconds")
        batch_op.drop_column("ticket_called_at")
        batch_op.drop_column("ticket_issued_at")
        batch_op.drop_column("ticket_source")
        batch_op.drop_column("ticket_no")
        batch_op.drop_column("customer_signature")
