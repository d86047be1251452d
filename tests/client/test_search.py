import re
import sqlite3
import unicodedata
from dataclasses import replace

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from hallclient.store import search as search_module
from hallclient.store.accounts import account_from_row, save_account, save_community
from hallclient.store.cache import CACHE_SCHEMA, make_engine, migrate, open_cache
from hallclient.store.models import AccountRow
from hallclient.store.search import (
    build_search_index_slice,
    rebuild_search_index,
    search_accounts,
    search_index_is_current,
    suspend_search_index,
)
from hallcore.demodata import DISTRICTS, accounts, communities
from hallcore.domain.ids import normalize_id_input
from tests.support.factories import account

COLUMNS = [c.name for c in AccountRow.__table__.columns]
INSERT = (f"insert into accounts ({', '.join(COLUMNS)}) "
          f"values ({', '.join('?' * len(COLUMNS))})")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    c = open_cache(tmp_path_factory.mktemp("search") / "cache.sqlite3")
    district = DISTRICTS[0]
    comms = list(communities(district, 5))
    with c.write() as s:
        for community in comms:
            save_community(s, community)
        s.flush()
        for a in accounts(district, 500, comms):
            save_account(s, a)
    yield c
    c.close()


@pytest.fixture
def fresh(tmp_path):
    c = open_cache(tmp_path / "cache.sqlite3")
    yield c
    c.close()


@pytest.fixture(scope="module")
def sample(cache):
    """An account with an ID number and a phone on record."""
    with cache.read() as s:
        row = s.scalars(select(AccountRow).where(
            AccountRow.id_number.is_not(None), AccountRow.phone.is_not(None))).first()
        return account_from_row(row)


def found(cache, query, limit=50):
    with cache.read() as s:
        return [a.number for a in search_accounts(s, query, limit=limit)]


def person(number, name, address, **changes):
    return account(number=number, holder_name=name, supply_address=address, community=None,
                   **changes)


def row(a):
    values = {c: getattr(a, c, None) for c in COLUMNS}
    values.update(id_type=a.id_type.value if a.id_type else None, status=a.status.value,
                  community_code=None, server_seq=1)
    return tuple(values[c] for c in COLUMNS)


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(value):
    return value.translate(ASCII_LOWER)


def every_account(cache):
    """(number, phone, ID number, name, address), letters of the last two ASCII-lowered."""
    with cache.read() as s:
        rows = s.execute(text("select number, phone, id_number, holder_name, supply_address "
                              "from accounts order by number")).all()
    return [(n, p, i, ascii_lower(name), ascii_lower(address))
            for n, p, i, name, address in rows]


def expected(cache, query, limit=50, rows=None):
    """What the search must answer, worked out over every account in Python: exact
    identifiers alone when there are any; else a number's first digits or a phone's last (4
    or more; 7 or more alone when there are any), then the name containing the query, then
    the supply address (LIKE: ASCII letters in either case); each in account-number order."""
    typed = unicodedata.normalize("NFKC", query).strip()
    if not typed:
        return []
    rows = every_account(cache) if rows is None else rows
    compact = "".join(typed.split()).replace("-", "")
    digits = re.fullmatch(r"\d+", compact) is not None
    id_number = normalize_id_input(typed)
    id_like = re.fullmatch(r"[0-9A-Z]{6,}", id_number) is not None
    fragment = ascii_lower(typed)
    kinds = [
        [n for n, phone, id_, _, _ in rows if (digits and compact in (n, phone))
         or (id_like and id_ == id_number)],
        [n for n, phone, _, _, _ in rows if digits and len(compact) >= 4
         and (n.startswith(compact) or (phone or "").endswith(compact))],
        [n for n, _, _, name, _ in rows if fragment in name],
        [n for n, _, _, _, address in rows if fragment in address],
    ]
    if kinds[0]:
        return kinds[0][:limit]
    if kinds[1] and len(compact) >= 7:
        return kinds[1][:limit]
    return list(dict.fromkeys(n for kind in kinds for n in kind))[:limit]


def queries_from(cache, count=25):
    """Pieces of the cache's names, addresses and identifiers of every length."""
    with cache.read() as s:
        rows = s.execute(text("select number, phone, id_number, holder_name, supply_address "
                              "from accounts where rowid % 17 = 0")).all()
    queries = {"陈", "芳", "王", "天河", "广州市天河区", "市花", "号丽景", "1201", "栋1", "20",
               "  天河  ", "zz", "·", "陈伟芳伟"}
    for i, r in enumerate(rows[:count]):
        name, address = r.holder_name, r.supply_address
        queries |= {name, name[:1], name[-2:], name[1:], address[6:8], address[9:13],
                    address[i % 20:i % 20 + 3], address[-6:], address[4:12], r.number,
                    r.number[:6], (r.phone or "")[-4:], (r.phone or "")[-8:],
                    (r.id_number or "").lower()}
    return sorted(q for q in queries if q)


def test_by_account_number(cache, sample):
    assert found(cache, sample.number)[0] == sample.number


def test_by_id_number_as_a_card_reader_or_clerk_types_it(cache, sample):
    typed = " ".join(sample.id_number[i:i + 6] for i in range(0, 18, 6)).lower()
    assert found(cache, typed)[0] == sample.number


def test_by_phone_with_separators_or_its_last_digits(cache, sample):
    phone = sample.phone
    assert found(cache, f"{phone[:3]}-{phone[3:7]} {phone[7:]}")[0] == sample.number
    assert sample.number in found(cache, phone[-8:])
    assert sample.number in found(cache, phone[-4:])


def test_by_name_or_address_fragment(cache, sample):
    name = sample.holder_name
    assert sample.number in found(cache, name[-2:])
    street = sample.supply_address[6:10]
    assert sample.number in found(cache, street)


def test_blank_query_finds_nothing_and_wildcards_are_literal(cache):
    assert found(cache, "   ") == []
    assert found(cache, "%") == []
    assert found(cache, "_") == []


def test_every_kind_of_query_finds_what_a_scan_finds_in_the_same_order(cache):
    rows = every_account(cache)
    for query in queries_from(cache):
        for limit in (50, 7):
            assert found(cache, query, limit) == expected(cache, query, limit, rows), query


def test_a_surname_character_answers_the_first_accounts_in_number_order_names_first(cache):
    with cache.read() as s:
        names = s.scalars(text("select number from accounts where holder_name like '%陈%' "
                               "order by number")).all()
    assert len(names) > 10
    assert found(cache, "陈", limit=10) == names[:10]


def test_while_suspended_search_scans_and_finds_the_same_then_rebuild_resumes_the_index(
        cache):
    queries = queries_from(cache, 15)
    before = {q: found(cache, q) for q in queries}
    with cache.write() as s:
        suspend_search_index(s.connection())
    try:
        with cache.read() as s:
            assert not search_index_is_current(s.connection())
        assert {q: found(cache, q) for q in queries} == before
    finally:
        with cache.write() as s:
            rebuild_search_index(s.connection())
    with cache.read() as s:
        assert search_index_is_current(s.connection())
    assert {q: found(cache, q) for q in queries} == before


def test_a_whole_identifier_that_matches_answers_alone(fresh):
    """A scanned account number finds that account, not also one whose phone happens to end
    in the same digits."""
    with fresh.write() as s:
        save_account(s, person("1380000001", "陈伟", "广州市天河区天河路1号"))
        save_account(s, person("1000000002", "李芳", "广州市越秀区中山一路8号",
                               phone="11380000001"))
    assert found(fresh, "1380000001") == ["1380000001"]
    assert found(fresh, "380000001") == ["1000000002"]  # a part: phones ending with it


def test_a_phone_tail_that_matches_answers_alone_a_house_number_does_not(fresh):
    """Seven digits or more that end a phone are the customer's phone, not a house number in
    someone's address; fewer may be either."""
    with fresh.write() as s:
        save_account(s, person("1000000001", "陈伟", "广州市天河区天河路1号",
                               phone="13912345678"))
        save_account(s, person("1000000002", "李芳", "广州市越秀区中山一路12345678号",
                               phone="13700000000"))
        save_account(s, person("1000000003", "王强", "广州市越秀区中山一路5678号",
                               phone="13600000000"))
    assert found(fresh, "12345678") == ["1000000001"]
    assert found(fresh, "5678") == ["1000000001", "1000000002", "1000000003"]
    assert found(fresh, "2345670") == []  # no phone: nothing, and no address has it either
    assert found(fresh, "5432123") == []


def test_a_new_cache_keeps_its_index(fresh):
    with fresh.read() as s:
        assert search_index_is_current(s.connection())


def test_the_index_follows_each_insert_update_and_delete(fresh):
    with fresh.write() as s:
        save_account(s, person("1000000001", "陈伟", "广州市天河区天河路1号"))
        save_account(s, person("1000000002", "李小芳", "广州市越秀区中山一路8号"))
    assert found(fresh, "伟") == ["1000000001"]
    assert found(fresh, "小芳") == ["1000000002"]
    assert found(fresh, "中山一路") == ["1000000002"]

    with fresh.write() as s:  # a change of name, as a transfer makes it
        save_account(s, person("1000000001", "黄志强", "广州市天河区天河路1号"))
    assert found(fresh, "陈伟") == []
    assert found(fresh, "志强") == ["1000000001"]

    with fresh.write() as s:  # statements as any other writer issues them
        s.execute(update(AccountRow).where(AccountRow.number == "1000000002")
                  .values(supply_address="广州市海珠区江南大道中12号"))
        s.execute(update(AccountRow).where(AccountRow.number == "1000000001")
                  .values(phone="13800000000"))  # not a column the index reads
    assert found(fresh, "中山") == []
    assert found(fresh, "江南大道") == ["1000000002"]
    assert found(fresh, "志强") == ["1000000001"]

    with fresh.write() as s:
        s.execute(delete(AccountRow).where(AccountRow.number == "1000000001"))
    assert found(fresh, "志强") == []
    assert found(fresh, "广州") == ["1000000002"]


def test_a_bulk_load_by_raw_executemany_is_indexed(fresh):
    """Any writer keeps the index: a plain sqlite3 connection knows no function of ours."""
    district = DISTRICTS[1]
    rows = [row(a) for a in accounts(district, 300, [])]
    with sqlite3.connect(fresh.path) as conn:
        conn.executemany(INSERT, rows)
    assert found(fresh, rows[123][1]) == expected(fresh, rows[123][1])
    upsert = (INSERT + " on conflict (number) do update set holder_name = excluded.holder_name,"
              " server_seq = excluded.server_seq")
    renamed = [(r[0], "欧阳" + r[1], *r[2:]) for r in rows[:100]]
    with sqlite3.connect(fresh.path) as conn:
        conn.executemany(upsert, renamed)
    for query in ("欧阳", renamed[5][1], rows[5][1], rows[200][5][4:10], "4"):
        assert found(fresh, query) == expected(fresh, query), query


def test_an_insert_or_replace_shows_the_account_as_it_is_now(fresh):
    """REPLACE deletes the old row without firing a trigger (unless recursive triggers are
    on): the old name's pieces stay in the index, but the account is not found by them."""
    with sqlite3.connect(fresh.path) as conn:
        conn.execute(INSERT, row(person("1000000001", "陈伟", "广州市天河区天河路1号")))
        conn.execute(INSERT.replace("insert", "insert or replace", 1),
                     row(person("1000000001", "李芳", "广州市越秀区中山一路8号")))
    for query in ("陈", "陈伟", "天河路", "天河路1号"):
        assert found(fresh, query) == [], query
    for query in ("李", "李芳", "中山", "中山一路8号"):
        assert found(fresh, query) == ["1000000001"], query


def test_a_cache_from_before_the_index_gets_its_accounts_indexed(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.touch(mode=0o600)
    engine = make_engine(path)
    migrate(engine, "0008")
    rows = [row(a) for a in accounts(DISTRICTS[2], 200, [])]
    with engine.begin() as conn:
        # The columns of that revision: later ones have added some.
        then = {c[1] for c in conn.exec_driver_sql("PRAGMA table_info(accounts)")}
        kept = [i for i, column in enumerate(COLUMNS) if column in then]
        conn.exec_driver_sql(
            f"insert into accounts ({', '.join(COLUMNS[i] for i in kept)}) "
            f"values ({', '.join('?' * len(kept))})", [tuple(r[i] for i in kept) for r in rows])
    engine.dispose()

    cache = open_cache(path)
    try:
        for query in (rows[7][1][:1], rows[7][1][-2:], rows[7][1], rows[9][5][4:6],
                      rows[9][5][6:12], rows[11][0], (rows[11][4] or "")[-4:]):
            assert found(cache, query) == expected(cache, query), query
            assert found(cache, query)
    finally:
        cache.close()


def test_the_migration_goes_down_and_up_again(fresh):
    with fresh.write() as s:
        save_account(s, person("1000000001", "陈伟", "广州市天河区天河路1号"))
    fresh.close()
    engine = make_engine(fresh.path)
    config = CACHE_SCHEMA.config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")
    with engine.connect() as conn:
        leftovers = conn.exec_driver_sql(
            "select name from sqlite_master where name like '%search%' "
            "or name = 'ix_accounts_phone_last4'").all()
    assert leftovers == []
    migrate(engine)
    engine.dispose()
    again = open_cache(fresh.path)
    try:
        assert found(again, "伟") == ["1000000001"]
    finally:
        again.close()


LATIN = [
    ("1000000101", "John O'Brien", "Flat 3-5, 12 Queen's Road"),
    ("1000000102", "anna_müller", "100% Li Street, A_B Tower"),
    ("1000000103", "JOHNSON Li", "天河路1号 Block C\\D"),
    ("1000000104", "买买提·艾力", "乌鲁木齐路 8 号"),
]


def test_latin_letters_digits_punctuation_and_wildcards_are_found_as_like_finds_them(fresh):
    with fresh.write() as s:
        for number, name, address in LATIN:
            save_account(s, person(number, name, address, phone=None, id_number=None,
                                   id_type=None))
    assert found(fresh, "john") == ["1000000101", "1000000103"]
    assert found(fresh, "%") == ["1000000102"]
    assert found(fresh, "_") == ["1000000102"]
    assert found(fresh, "a_b") == ["1000000102"]
    assert found(fresh, "c\\d") == ["1000000103"]
    assert found(fresh, "·") == ["1000000104"]
    assert found(fresh, "Ü") == []  # LIKE folds ASCII letters only
    for query in ("J", "jo", "JOH", "o'b", "n o", "3-5", "queen's road", "0%", "% li",
                  "_m", "ü", "8 号", "艾力", "Li", "l", " ", "x"):
        assert found(fresh, query) == expected(fresh, query), query


TEXT = st.text(alphabet=st.sampled_from("陈王芳伟天河路号栋1203 AbZz%_\\'-·ü"), min_size=1,
               max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=8), data=st.data())
def test_any_name_and_address_is_found_by_any_piece_as_like_finds_it(fresh, people, data):
    with fresh.write() as s:
        s.execute(delete(AccountRow))
        for i, (name, address) in enumerate(people):
            save_account(s, person(f"{1000000001 + i}", name, address))
    name, address = data.draw(st.sampled_from(people))
    value = data.draw(st.sampled_from([name, address]))
    start = data.draw(st.integers(0, len(value) - 1))
    piece = value[start:start + data.draw(st.integers(1, 6))]
    for query in (piece, piece.swapcase(), data.draw(TEXT)):
        assert found(fresh, query) == expected(fresh, query), query


def test_an_account_number_not_of_ten_digits_is_refused(fresh):
    bad = row(replace(account(), number="A123"))
    with sqlite3.connect(fresh.path) as conn, pytest.raises(sqlite3.IntegrityError,
                                                            match="10-digit"):
        conn.execute(INSERT, bad)
    with fresh.write() as s:
        suspend_search_index(s.connection())
    with sqlite3.connect(fresh.path) as conn:
        conn.execute(INSERT, bad)
    with pytest.raises(ValueError, match="10-digit"), fresh.write() as s:
        rebuild_search_index(s.connection())
    with pytest.raises(ValueError, match="10-digit"):  # nor built in slices
        while True:
            with fresh.write() as s:
                if not build_search_index_slice(s.connection()):
                    break
    with fresh.read() as s:
        assert not search_index_is_current(s.connection())


def test_no_search_reads_the_whole_accounts_table(cache, sample):
    """Every statement a search runs goes through an index (the search index, the number,
    the ID number, the phone or its last digits) — a migration that lost one would scan."""
    queries = [sample.number, sample.number[:6], sample.id_number, sample.phone,
               sample.phone[-8:], "陈", "伟芳", "天河路", "天河路12号", "丽景花园3栋1201房"]
    with cache.read() as s:
        connection = s.connection()
        statements = []
        connection.connection.driver_connection.set_trace_callback(statements.append)
        for query in queries:
            search_accounts(s, query)
        connection.connection.driver_connection.set_trace_callback(None)
        plans = [(sql, connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all())
                 for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(plans) > len(queries)
    for sql, plan in plans:
        steps = " / ".join(step for *_, step in plan)
        # Reading the first few account numbers in order is no scan.
        steps = steps.replace("SCAN accounts USING COVERING INDEX sqlite_autoindex_accounts_1",
                              "first numbers" if "FROM accounts ORDER BY number LIMIT" in sql
                              else "SCAN accounts")
        assert not re.search(r"\bSCAN (accounts|a)\b", steps), (sql, steps)


def test_a_long_fragment_of_common_pieces_intersects_only_the_sparsest_few(fresh):
    """Every piece of the fragment is in every account: stepping through more of their lists
    rules out nothing, so at most four are intersected and LIKE checks the rest."""
    fragment = "体育西路一号大院东门"
    rows = [row(person(f"{1000000000 + i}", "王芳", f"天河区{fragment}{i}号"))
            for i in range(1, 201)]
    with sqlite3.connect(fresh.path) as conn:
        conn.executemany(INSERT, rows)
    pieces = sorted({search_module._token("a", fragment[i:i + 3])
                     for i in range(len(fragment) - 2)})
    with fresh.read() as s:
        kept = search_module._worth_intersecting(search_module._driver(s.connection()), pieces)
    assert len(pieces) == 8 and len(kept) == 4 and set(kept) <= set(pieces)
    assert found(fresh, fragment + "7") == expected(fresh, fragment + "7")
    assert found(fresh, fragment) == expected(fresh, fragment)
