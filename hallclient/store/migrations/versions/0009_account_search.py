"""Search finds name and address fragments of any length, and phones by their last digits,
without reading every account: the search index of store/search.py (kept by triggers, built
here for the accounts already cached) and an index of each phone by its last four
characters.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hallclient.store.search import create_search_index, drop_search_index

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_accounts_phone_last4", "accounts",
                    [sa.text("substr(phone, -4)"), "phone"])
    create_search_index(op.get_bind())


def downgrade() -> None:
    drop_search_index(op.get_bind())
    op.drop_index("ix_accounts_phone_last4", table_name="accounts")
