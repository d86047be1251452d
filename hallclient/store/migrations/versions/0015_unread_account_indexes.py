"""Two indexes of the accounts that no search needs go. The one by the whole phone: the index
by a phone's last four characters holds the whole phone beside them and answers a whole phone
as well (store/search.py, `_exact`). The one by community: nothing reads accounts by their
community; it only spared a scan of the accounts for each community deleted, and communities
are deleted only after every account (store/reassign.py). A bootstrap builds two indexes fewer
before it counts as done, and every account written keeps two fewer up to date.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GONE = {"ix_accounts_phone": "phone", "ix_accounts_community_code": "community_code"}


def upgrade() -> None:
    for name in _GONE:
        # Dropped already where a bootstrap is under way (sync/apply.py, drop_lookup_indexes).
        op.drop_index(name, table_name="accounts", if_exists=True)


def downgrade() -> None:
    # Where a bootstrap is under way, the earlier version builds them at its end.
    lookups_built = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'ix_accounts_id_number'"
    ).first()
    if lookups_built:
        for name, column in _GONE.items():
            op.create_index(name, "accounts", [column])
