"""What the server proves instead of believing a terminal: terminals' Ed25519 keys approved by a
supervisor, the clerks who logged in at each terminal, single-use approvals, supervisors'
offline approval keys, each terminal's last receipt number, the hall's offline window and the
database's identity.

The terminals' old HMAC keys are dropped: each terminal registers its new key at its next
login, which a supervisor of its hall approves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("halls", sa.Column("offline_window_hours", sa.Integer(), nullable=False,
                                     server_default="72"))
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("key")
        batch_op.drop_column("installation_id")
        batch_op.add_column(sa.Column("last_receipt_no", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("window_extension_hours", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("window_extended_until", _TIME, nullable=True))
    # The numbers already used, as the terminals' floor (the day first, then the sequence:
    # the same width in every number made so far).
    op.execute("UPDATE terminals SET last_receipt_no = (SELECT max(receipt_no) FROM operations "
               "WHERE operations.hall_id = terminals.hall_id "
               "AND operations.terminal_id = terminals.terminal_id)")
    op.create_table(
        "terminal_keys",
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("installation_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("registered_at", _TIME, nullable=False),
        sa.Column("approved_by", sa.String(length=32), nullable=True),
        sa.Column("approved_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["hall_id", "terminal_id"],
                                ["terminals.hall_id", "terminals.terminal_id"],
                                name=op.f("fk_terminal_keys_hall_id_terminals")),
        sa.PrimaryKeyConstraint("public_key", name=op.f("pk_terminal_keys")),
    )
    op.create_index("ix_terminal_keys_terminal_state", "terminal_keys",
                    ["hall_id", "terminal_id", "state"])
    op.create_table(
        "terminal_clerks",
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("clerk", sa.String(length=32), nullable=False),
        sa.Column("last_login_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["clerk"], ["clerks.login"],
                                name=op.f("fk_terminal_clerks_clerk_clerks")),
        sa.PrimaryKeyConstraint("hall_id", "terminal_id", "clerk",
                                name=op.f("pk_terminal_clerks")),
    )
    op.create_table(
        "approvals",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("clerk", sa.String(length=32), nullable=False),
        sa.Column("supervisor", sa.String(length=32), nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("account_number", sa.String(length=10), nullable=True),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["supervisor"], ["clerks.login"],
                                name=op.f("fk_approvals_supervisor_clerks")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_operation_id"), "approvals", ["operation_id"])
    op.create_table(
        "supervisor_keys",
        sa.Column("supervisor", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("registered_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["supervisor"], ["clerks.login"],
                                name=op.f("fk_supervisor_keys_supervisor_clerks")),
        sa.PrimaryKeyConstraint("supervisor", "hall_id", "terminal_id",
                                name=op.f("pk_supervisor_keys")),
    )
    identity = op.create_table(
        "database_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=36), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_identity")),
    )
    op.bulk_insert(identity, [{"id": 1, "identity": str(uuid.uuid4()),
                               "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("database_identity")
    op.drop_table("supervisor_keys")
    op.drop_index(op.f("ix_approvals_operation_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("terminal_clerks")
    op.drop_index("ix_terminal_keys_terminal_state", table_name="terminal_keys")
    op.drop_table("terminal_keys")
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("window_extended_until")
        batch_op.drop_column("window_extension_hours")
        batch_op.drop_column("last_receipt_no")
        # The old installations' HMAC keys are gone: every terminal registers again.
        batch_op.add_column(sa.Column("installation_id", sa.String(length=64),
                                      nullable=False, server_default=""))
        batch_op.add_column(sa.Column("key", sa.String(length=128), nullable=False,
                                      server_default=""))
    op.drop_column("halls", "offline_window_hours")
