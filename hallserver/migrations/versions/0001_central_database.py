"""Central database: districts, halls, clerks, terminals, tokens, accounts, operations,
notifications and work items.

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
        "districts",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("account_prefix", sa.String(length=2), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_account_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
        sa.UniqueConstraint("account_prefix", name=op.f("uq_districts_account_prefix")),
    )
    op.create_table(
        "operations",
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("clerk", sa.String(length=32), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("account_number", sa.String(length=10), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("receipt_signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_operations")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_operations_receipt_no")),
    )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operations_account_number"), ["account_number"], unique=False
        )

    op.create_table(
        "communities",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("manager_name", sa.String(length=60), nullable=True),
        sa.Column("manager_phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_communities_district_districts")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communities")),
    )
    op.create_table(
        "halls",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=False),
        sa.Column("service_phone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_halls_district_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_halls")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("notice", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.operation_id"],
            name=op.f("fk_notifications_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("operation_id", "notice", name="uq_notifications_operation_notice"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_state_next", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("account_number", sa.String(length=10), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.operation_id"],
            name=op.f("fk_work_items_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_items_hall_due", ["hall_id", "done_at", "due_at"], unique=False
        )

    op.create_table(
        "accounts",
        sa.Column("number", sa.String(length=10), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=False),
        sa.Column("holder_name", sa.String(length=60), nullable=False),
        sa.Column("id_type", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("supply_address", sa.String(length=120), nullable=False),
        sa.Column("mailing_address", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("arrears_fen", sa.Integer(), nullable=False),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["communities.code"],
            name=op.f("fk_accounts_community_code_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_accounts_district_districts")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_district_seq", ["district", "seq"], unique=False)

    op.create_table(
        "clerks",
        sa.Column("login", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_clerks_hall_id_halls")),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_clerks")),
    )
    with op.batch_alter_table("clerks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clerks_hall_id"), ["hall_id"], unique=False)

    op.create_table(
        "terminals",
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("installation_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_terminals_hall_id_halls")),
        sa.PrimaryKeyConstraint("hall_id", "terminal_id", name=op.f("pk_terminals")),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("clerk", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clerk"], ["clerks.login"], name=op.f("fk_tokens_clerk_clerks")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_tokens")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_clerk"), ["clerk"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_clerk"))

    op.drop_table("tokens")
    op.drop_table("terminals")
    with op.batch_alter_table("clerks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clerks_hall_id"))

    op.drop_table("clerks")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_district_seq")

    op.drop_table("accounts")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_hall_due")

    op.drop_table("work_items")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_state_next")

    op.drop_table("notifications")
    op.drop_table("halls")
    op.drop_table("communities")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operations_account_number"))

    op.drop_table("operations")
    op.drop_table("districts")
