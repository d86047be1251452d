"""The last day the holder's ID document is valid (证件有效期至), with each account.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite (3.35 and later drop a column in place): a batch operation
# would copy the table and lose its triggers and expression indexes.
def upgrade() -> None:
    op.add_column("accounts", sa.Column("id_valid_until", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "id_valid_until")
