"""UTCDateTime: a moment is stored in UTC and read back aware of it, on both databases."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from hallcore.db.engine import sqlite_engine
from hallcore.db.types import UTCDateTime
from tests.support.server import postgres_engine

CHINA = timezone(timedelta(hours=8))
metadata = MetaData()
moments = Table("utc_datetime_check", metadata, Column("id", Integer, primary_key=True),
                Column("at", UTCDateTime()))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    engine = (sqlite_engine(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}")
              if request.param == "sqlite" else postgres_engine())
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def test_a_time_in_china_comes_back_as_the_same_instant_in_utc(engine):
    at_the_counter = datetime(2026, 12, 3, 9, 30, tzinfo=CHINA)
    with engine.begin() as conn:
        conn.execute(insert(moments), [{"id": 1, "at": at_the_counter},
                                       {"id": 2, "at": datetime(2026, 12, 3, 1, 30)}])
    with engine.connect() as conn:
        read = dict(conn.execute(select(moments.c.id, moments.c.at)).all())
    assert read[1] == at_the_counter and read[1].tzinfo == UTC
    assert read[1].hour == 1  # stored as the UTC time, not the clock's
    assert read[2] == datetime(2026, 12, 3, 1, 30, tzinfo=UTC)  # no offset: taken as UTC


def test_a_comparison_is_between_instants_whatever_the_clock(engine):
    with engine.begin() as conn:
        conn.execute(insert(moments), [{"id": 1, "at": datetime(2026, 12, 3, 9, tzinfo=CHINA)}])
    with engine.connect() as conn:
        def after(moment):
            return conn.scalar(select(moments.c.id).where(moments.c.at > moment))
        assert after(datetime(2026, 12, 3, 8, 59, tzinfo=CHINA)) == 1
        assert after(datetime(2026, 12, 3, 0, 59, tzinfo=UTC)) == 1
        assert after(datetime(2026, 12, 3, 1, 1, tzinfo=UTC)) is None


def test_a_time_minus_an_interval_is_an_expression_not_a_time_to_convert():
    expression = moments.c.at - timedelta(hours=1)
    assert not isinstance(expression.right.type, UTCDateTime)
