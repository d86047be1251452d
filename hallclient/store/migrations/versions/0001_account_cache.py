"""Account cache: communities, accounts and the sync position.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("manager_name", sa.String(60), nullable=True),
        sa.Column("manager_phone", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_communities"),
    )
    op.create_table(
        "accounts",
        sa.Column("number", sa.String(10), nullable=False),
        sa.Column("holder_name", sa.String(60), nullable=False),
        sa.Column("id_type", sa.String(32), nullable=True),
        sa.Column("id_number", sa.String(32), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("supply_address", sa.String(120), nullable=False),
        sa.Column("mailing_address", sa.String(120), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(16), nullable=False),
        sa.Column("arrears_fen", sa.Integer(), nullable=False),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("community_code", sa.String(32), nullable=True),
        sa.Column("server_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status in ('pending_connection', 'active', 'suspended', 'closed')",
            name="ck_accounts_status",
        ),
        sa.CheckConstraint("version >= 0", name="ck_accounts_version"),
        sa.ForeignKeyConstraint(
            ["community_code"], ["communities.code"],
            name="fk_accounts_community_code_communities",
        ),
        sa.PrimaryKeyConstraint("number", name="pk_accounts"),
    )
    op.create_index("ix_accounts_id_number", "accounts", ["id_number"])
    op.create_index("ix_accounts_phone", "accounts", ["phone"])
    op.create_index("ix_accounts_community_code", "accounts", ["community_code"])
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pull_cursor", sa.Integer(), nullable=False),
        sa.Column("bootstrap_after", sa.String(10), nullable=True),
        sa.Column("bootstrap_done", sa.Boolean(), nullable=False),
        sa.Column("last_pull_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="ck_sync_state_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_sync_state"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_index("ix_accounts_community_code", "accounts")
    op.drop_index("ix_accounts_phone", "accounts")
    op.drop_index("ix_accounts_id_number", "accounts")
    op.drop_table("accounts")
    op.drop_table("communities")
