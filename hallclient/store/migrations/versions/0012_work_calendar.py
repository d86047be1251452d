"""The working-day calendar the server counts deadlines on, with the hall's opening hours, as
the terminal last got it (hallcore.wire.CalendarWire, as JSON).

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


# Plain ALTER TABLE, as in 0011.
def upgrade() -> None:
    op.add_column("sync_state", sa.Column("work_calendar", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("sync_state", "work_calendar")
