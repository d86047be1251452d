"""GET /bootstrap/rows writes the database's values as they are, not through BootstrapRows:
its pages are what the model validating every row wrote, and a value the wire does not take
is still refused."""

import itertools
import json
import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from hallcore.domain.accounts import AccountStatus
from hallcore.domain.ids import IdDocType
from hallcore.wire import ACCOUNT_ROW_FIELDS, COMMUNITY_ROW_FIELDS, BootstrapRows
from hallserver.app import create_app
from hallserver.models import AccountRow, CommunityRow, DistrictRow
from hallserver.seed import seed
from tests.support.server import logged_in

HALL, DISTRICT = "GZ-TH-01", "GZ-TH"
ACCOUNTS = AccountRow.__table__
NAMES = ["引号\"与\\反斜杠", "line\nbreak\ttab\x01", "😀 emoji", "</script>", "O'Brien"]
DATES = [None, date(2031, 5, 17), date(1900, 1, 1), date(9999, 12, 31)]


@pytest.fixture
def varied(server_engine):
    """A seeded district whose first accounts take every status with every ID type (and none),
    both SMS languages, no date and dates at the calendar's ends, no community, awkward text."""
    seed(server_engine, accounts=40, halls=1)
    combos = list(itertools.product(AccountStatus, [*IdDocType, None]))
    with server_engine.begin() as conn:
        numbers = conn.scalars(select(ACCOUNTS.c.number).where(ACCOUNTS.c.district == DISTRICT)
                               .order_by(ACCOUNTS.c.number)).all()
        assert len(numbers) > len(combos)
        for i, (number, (status, id_type)) in enumerate(zip(numbers, combos, strict=False)):
            values = {"status": status.value, "id_type": id_type and id_type.value,
                      "id_number": None if id_type is None else f"X{i:08d}",
                      "sms_language": "en" if i % 2 else "zh", "sms_consent": i % 3 == 0,
                      "id_valid_until": DATES[i % len(DATES)],
                      "holder_name": NAMES[i % len(NAMES)], "arrears_fen": i * 123_457,
                      "mailing_address": None if i % 2 else "邮寄地址"}
            if i % 4 == 0:
                values |= {"community_code": None, "phone": None}
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.number == number).values(values))
        conn.execute(update(CommunityRow.__table__).values(manager_name=None, manager_phone=None)
                     .where(CommunityRow.code == select(CommunityRow.code).limit(1)
                            .scalar_subquery()))
    with TestClient(create_app(server_engine)) as client:
        yield server_engine, logged_in(client, HALL, "T01", "gz-th-01-c1")


def _validated(engine, answer: dict, after: str | None, limit: int) -> dict:
    """The page as BootstrapRows validating each row wrote it (its cursor and total aside)."""
    query = select(*(ACCOUNTS.c[name] for name in ACCOUNT_ROW_FIELDS)).where(
        ACCOUNTS.c.district == DISTRICT).order_by(ACCOUNTS.c.number).limit(limit + 1)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(
            query if after is None else query.where(ACCOUNTS.c.number > after))]
        page = rows[:limit]
        codes = {row[ACCOUNT_ROW_FIELDS.index("community_code")] for row in page} - {None}
        communities = [tuple(row) for row in conn.execute(
            select(*(CommunityRow.__table__.c[name] for name in COMMUNITY_ROW_FIELDS))
            .where(CommunityRow.code.in_(codes)))]
    return json.loads(BootstrapRows.model_validate({
        "rows": page, "communities": communities,
        "next_after": page[-1][0] if len(rows) > limit else None,
        "cursor": answer["cursor"], "total": answer["total"]}, strict=False).model_dump_json())


def test_pages_are_what_the_validated_model_wrote(varied):
    engine, terminal = varied
    after, pages = None, 0
    while True:
        response = terminal.get("/bootstrap/rows", limit=12, **({"after": after} if after else {}))
        assert response.status_code == 200
        answer = response.json()
        assert answer == _validated(engine, answer, after, 12)
        BootstrapRows.model_validate_json(response.content)  # as strictly as the wire reads
        pages += 1
        if (after := answer["next_after"]) is None:
            break
    assert pages == 4


@pytest.mark.parametrize(("field", "value"), [
    ("status", "frozen"), ("id_type", "driving_licence"), ("sms_language", "fr")])
def test_a_value_the_wire_does_not_take_is_refused(varied, caplog, field, value):
    engine, terminal = varied
    with engine.begin() as conn:
        number = conn.scalars(select(ACCOUNTS.c.number).order_by(ACCOUNTS.c.number.desc())
                              .limit(1)).one()
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.number == number).values({field: value}))
    with caplog.at_level(logging.ERROR):
        response = terminal.get("/bootstrap/rows", limit=10_000)
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert f"district {DISTRICT}: 1 account(s) with a {field}" in caplog.text
    assert number not in caplog.text
    # Its page only: the others are answered.
    assert terminal.get("/bootstrap/rows", limit=10).status_code == 200


def test_a_page_brings_the_districts_communities_or_none_when_asked(varied):
    """A bootstrap's first page brings every community of the district (not another's, and
    whether or not an account names it), its later pages none; by default a page brings its
    rows' (test_pages_are_what_the_validated_model_wrote)."""
    engine, terminal = varied
    with engine.begin() as conn:
        conn.execute(insert(DistrictRow.__table__).values(code="SZ-FT", name="福田",
                                                          account_prefix="77", last_seq=0))
        conn.execute(insert(CommunityRow.__table__), [
            {"code": "SZ-FT-C1", "district": "SZ-FT", "name": "福田新村", "households": 9},
            {"code": "GZ-TH-NONE", "district": DISTRICT, "name": "无户小区", "households": 0}])
        ours = [tuple(row) for row in conn.execute(
            select(*(CommunityRow.__table__.c[name] for name in COMMUNITY_ROW_FIELDS))
            .where(CommunityRow.district == DISTRICT))]
    first = terminal.get("/bootstrap/rows", limit=12, communities="district").json()
    assert sorted(map(tuple, first["communities"])) == sorted(ours)
    assert first == {**_validated(engine, first, None, 12), "communities": first["communities"]}
    later = terminal.get("/bootstrap/rows", limit=12, after=first["next_after"],
                         communities="none").json()
    assert later["communities"] == [] and len(later["rows"]) == 12
    assert later == {**_validated(engine, later, first["next_after"], 12), "communities": []}
    assert terminal.get("/bootstrap/rows", communities="all").status_code == 422


def test_a_page_is_in_number_order_whatever_order_the_rows_were_stored_in(varied):
    """The database joins a page's rows into one array (hallserver/json_sql.py): in number
    order, also where the rows were stored in another (here the reverse)."""
    engine, terminal = varied
    with engine.begin() as conn:
        rows = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.district == DISTRICT)
                            .order_by(ACCOUNTS.c.number.desc())).mappings().all()
        conn.execute(ACCOUNTS.delete().where(ACCOUNTS.c.district == DISTRICT))
        conn.execute(ACCOUNTS.insert(), [dict(row) for row in rows])
    after, numbers = None, []
    while True:
        answer = terminal.get("/bootstrap/rows", limit=7,
                              **({"after": after} if after else {})).json()
        numbers += [row[0] for row in answer["rows"]]
        if (after := answer["next_after"]) is None:
            break
    assert numbers == sorted(row["number"] for row in rows)
