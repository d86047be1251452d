"""The search index is built in slices after a bootstrap instead of before it counts as done:
`search_build` says how far it has come, and the triggers keep only the accounts it reached
(store/search.py). A cache whose index was kept stays built; one whose index was suspended is
built at the next sync.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from hallclient.store.search import (
    SEARCH_BUILT,
    create_search_build,
    drop_search_triggers,
    recreate_search_triggers,
    search_triggers_exist,
)

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    built = search_triggers_exist(connection)
    create_search_build(connection)
    if built:
        connection.exec_driver_sql("UPDATE search_build SET indexed_through = ?, merged = 1",
                                   (SEARCH_BUILT,))
        recreate_search_triggers(connection)


def downgrade() -> None:
    # The triggers read search_build: without it, the index is suspended (the earlier
    # HallClient rebuilds it at its next bootstrap, and scans meanwhile).
    connection = op.get_bind()
    drop_search_triggers(connection)
    connection.exec_driver_sql("DROP TABLE search_build")
