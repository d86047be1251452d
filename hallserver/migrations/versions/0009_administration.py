"""What administrators keep: the halls' opening hours, one-time passwords that must be changed
at the first login, and the hall whose customer manager looks after a community.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opens_at", sa.Time(), nullable=False,
                                      server_default="08:30:00"))
        batch_op.add_column(sa.Column("closes_at", sa.Time(), nullable=False,
                                      server_default="17:30:00"))
    with op.batch_alter_table("clerks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("password_expires_at", sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hall_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(op.f("fk_communities_hall_id_halls"), "halls",
                                    ["hall_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_communities_hall_id_halls"), type_="foreignkey")
        batch_op.drop_column("hall_id")
    with op.batch_alter_table("clerks", schema=None) as batch_op:
        batch_op.drop_column("password_expires_at")
        batch_op.drop_column("must_change_password")
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("closes_at")
        batch_op.drop_column("opens_at")
