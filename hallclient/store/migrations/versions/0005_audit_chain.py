"""The audit trail as a hash chain: each entry keeps the previous entry's hash and its own.

The entries already there are chained in id order, as if they had been written so.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hallclient.store.audit import audit_fields
from hallcore.audit_chain import GENESIS, entry_hash

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

audit = sa.table(
    "audit",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("clerk", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("detail", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(64), nullable=True))
    connection = op.get_bind()
    entries = connection.execute(
        sa.select(audit.c.id, audit.c.at, audit.c.clerk, audit.c.action, audit.c.subject,
                  audit.c.detail).order_by(audit.c.id)).all()
    prev_hash = GENESIS
    for entry in entries:
        digest = entry_hash(prev_hash, audit_fields(**entry._mapping))
        connection.execute(audit.update().where(audit.c.id == entry.id)
                           .values(prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
