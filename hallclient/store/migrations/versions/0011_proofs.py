"""What the server says of the terminal (its database identity, the terminal's last receipt
number it holds, the clocks' offset), and the supervisor's sign-off proof of an operation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS: dict[str, list[tuple[str, sa.types.TypeEngine[Any]]]] = {
    "sync_state": [("server_identity", sa.String(length=64)),
                   ("server_last_receipt", sa.String(length=40)),
                   ("clock_offset_seconds", sa.Integer())],
    "outbox": [("approval_token", sa.String(length=100)),
               ("approval_signature", sa.String(length=128))],
}


# Plain ALTER TABLE, also on SQLite (3.35 and later drop a column in place): a batch operation
# would copy the table and lose its triggers and expression indexes.
def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, _ in reversed(columns):
            op.drop_column(table, name)
