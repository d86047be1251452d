"""Changes in a blink: the claims of accounts a hall has a form open on, their cursor per
district, and on PostgreSQL a NOTIFY on channel `hall_changes` whenever a district's change or
claim cursor moves (hallserver/notify.py wakes the waiting pulls with it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# NOTIFY is transactional: sent at commit, once per transaction and payload. The payload is
# "district:last_seq:last_claim_seq".
_NOTIFY_FUNCTION = """
CREATE FUNCTION hall_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hall_changes',
                      NEW.code || ':' || NEW.last_seq || ':' || NEW.last_claim_seq);
    RETURN NULL;
END
$$
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER districts_hall_changes AFTER UPDATE OF last_seq, last_claim_seq ON districts
FOR EACH ROW WHEN (OLD.last_seq IS DISTINCT FROM NEW.last_seq
                   OR OLD.last_claim_seq IS DISTINCT FROM NEW.last_claim_seq)
EXECUTE FUNCTION hall_changes_notify()
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_claim_seq", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "account_claims",
        sa.Column("account_number", sa.String(length=10), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("account_number", "hall_id", "terminal_id",
                                name=op.f("pk_account_claims")),
    )
    op.create_index("ix_account_claims_district_seq", "account_claims", ["district", "seq"])
    op.create_index("ix_account_claims_expires_at", "account_claims", ["expires_at"])
    if _postgresql():
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER districts_hall_changes ON districts")
        op.execute("DROP FUNCTION hall_changes_notify()")
    op.drop_index("ix_account_claims_expires_at", table_name="account_claims")
    op.drop_index("ix_account_claims_district_seq", table_name="account_claims")
    op.drop_table("account_claims")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_column("last_claim_seq")
