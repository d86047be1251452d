"""The working-day calendar: the days of the State Council's notices (public holidays and
make-up working days) and the years whose notice is loaded, seeded with every year the
chinese-calendar package knows. Later years are loaded with `hallserver calendar import`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The package's holiday names, as the notices name them.
_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
          "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
          "Mid-autumn Festival": "中秋节",
          "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"}


def upgrade() -> None:
    years = op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    days = op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    year_rows, day_rows = package_notices(datetime.now(UTC))
    op.bulk_insert(years, year_rows)
    op.bulk_insert(days, day_rows)


def package_notices(loaded: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of calendar_years and calendar_days for every year chinese-calendar knows."""
    import chinese_calendar
    from chinese_calendar.constants import holidays, workdays

    source = f"chinese-calendar {chinese_calendar.__version__}"
    year_rows = [{"year": year, "source": source, "loaded_at": loaded}
                 for year in sorted({day.year for day in holidays})]
    day_rows = [{"day": day, "working": working, "name": _NAMES.get(name, name)[:60]}
                for listed, working in ((holidays, False), (workdays, True))
                for day, name in sorted(listed.items())]
    return year_rows, day_rows


def downgrade() -> None:
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
