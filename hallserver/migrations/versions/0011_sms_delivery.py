"""SMS delivery through a real gateway: when a message was handed over, the gateway's message
id and the delivery report, per message and per segment of a long one; the index by which a
phone's recent messages are counted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("parts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("gateway_message_id", sa.String(length=65),
                                      nullable=True))
        batch_op.add_column(sa.Column("delivery_state", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("delivery_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index("ix_notifications_phone_claimed", ["phone", "claimed_at"],
                              unique=False)
    op.create_table(
        "sms_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=65), nullable=False),
        sa.Column("delivery_state", sa.String(length=8), nullable=True),
        sa.Column("delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"],
                                name=op.f("fk_sms_segments_notification_id_notifications")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_segments")),
    )
    with op.batch_alter_table("sms_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_segments_message_id"), ["message_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sms_segments_notification_id"),
                              ["notification_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_segments_notification_id"))
        batch_op.drop_index(batch_op.f("ix_sms_segments_message_id"))
    op.drop_table("sms_segments")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_phone_claimed")
        batch_op.drop_column("delivery_at")
        batch_op.drop_column("delivery_state")
        batch_op.drop_column("gateway_message_id")
        batch_op.drop_column("parts")
        batch_op.drop_column("submitted_at")
