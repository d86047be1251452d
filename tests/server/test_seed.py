from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select

from hallcore.demodata import DISTRICTS
from hallcore.domain.ids import IdDocType, validate_id
from hallserver import seed as seed_module
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.models import AccountRow, ClerkRow, CommunityRow, DistrictRow, HallRow
from hallserver.security import password_matches
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD, seed

ACCOUNTS = 2_000
HALLS = 3


def fresh_engine(path):
    engine = make_engine(f"sqlite+pysqlite:///{path}")
    SERVER_SCHEMA.upgrade(engine)
    return engine


@pytest.fixture
def engine(tmp_path):
    e = fresh_engine(tmp_path / "server.sqlite3")
    yield e
    e.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One database seeded once for the read-only checks: (engine, summary)."""
    e = fresh_engine(tmp_path_factory.mktemp("seeded") / "server.sqlite3")
    summary = seed(e, accounts=ACCOUNTS, halls=HALLS, seed=7)
    yield e, summary
    e.dispose()


def rows(engine, *columns, order_by=None):
    with engine.connect() as conn:
        return conn.execute(select(*columns).order_by(order_by or columns[0])).all()


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_summary_counts_match_the_rows_in_every_table(seeded):
    engine, summary = seeded
    assert (summary.districts, summary.halls, summary.clerks, summary.accounts) == (
        HALLS, HALLS, 3 * HALLS, ACCOUNTS)
    assert count(engine, DistrictRow) == summary.districts
    assert count(engine, HallRow) == summary.halls
    assert count(engine, ClerkRow) == summary.clerks
    assert count(engine, CommunityRow) == summary.communities
    assert count(engine, AccountRow) == summary.accounts
    assert summary.seconds > 0


def test_accounts_are_split_evenly_with_the_remainder_to_the_first_districts(engine):
    seed(engine, accounts=10, halls=3)
    per_district = dict(rows(engine, DistrictRow.code, DistrictRow.last_seq))
    assert per_district == {"GZ-TH": 4, "GZ-YX": 3, "GZ-HZ": 3}


def test_every_id_number_on_file_validates(seeded):
    engine, _ = seeded
    documents = rows(engine, AccountRow.id_type, AccountRow.id_number,
                     order_by=AccountRow.number)
    on_file = [(t, n) for t, n in documents if n is not None]
    assert len(on_file) > 0.9 * ACCOUNTS
    for id_type, number in on_file:
        assert validate_id(IdDocType(id_type), number).number == number


def test_seq_runs_one_to_n_within_each_district_and_last_seq_is_n(seeded):
    engine, _ = seeded
    seqs = defaultdict(list)
    for district, seq in rows(engine, AccountRow.district, AccountRow.seq,
                              order_by=AccountRow.seq):
        seqs[district].append(seq)
    for code, last_seq, last_serial in rows(engine, DistrictRow.code, DistrictRow.last_seq,
                                            DistrictRow.last_account_serial):
        n = len(seqs[code])
        assert seqs[code] == list(range(1, n + 1))
        assert last_seq == last_serial == n


def test_account_numbers_start_with_their_districts_prefix(seeded):
    engine, _ = seeded
    prefixes = dict(rows(engine, DistrictRow.code, DistrictRow.account_prefix))
    assert prefixes == {d.code: f"{DISTRICTS.index(d) + 10:02d}" for d in DISTRICTS[:HALLS]}
    for number, district in rows(engine, AccountRow.number, AccountRow.district):
        assert len(number) == 10
        assert number.startswith(prefixes[district])


def test_communities_are_one_per_300_accounts_of_their_district(seeded):
    engine, _ = seeded
    per_district = Counter(d for (d,) in rows(engine, CommunityRow.district))
    assert per_district == {d.code: 2 for d in DISTRICTS[:HALLS]}  # 667 or 666 accounts each
    with engine.connect() as conn:
        foreign = conn.execute(
            select(func.count()).select_from(AccountRow)
            .join(CommunityRow, AccountRow.community_code == CommunityRow.code)
            .where(CommunityRow.district != AccountRow.district)).scalar_one()
    assert foreign == 0


def test_a_district_without_accounts_still_gets_a_community(engine):
    summary = seed(engine, accounts=0, halls=2)
    assert summary.accounts == 0
    assert summary.communities == 2
    assert rows(engine, DistrictRow.last_seq) == [(0,), (0,)]


def test_every_hall_has_two_clerks_and_a_supervisor_who_log_in_with_the_demo_passwords(seeded):
    engine, _ = seeded
    staff = defaultdict(list)
    for login, hall_id, role, password_hash, active in rows(
            engine, ClerkRow.login, ClerkRow.hall_id, ClerkRow.role, ClerkRow.password_hash,
            ClerkRow.active):
        assert active
        staff[hall_id].append((login, role))
        password = DEMO_SUPERVISOR_PASSWORD if role == "supervisor" else DEMO_CLERK_PASSWORD
        assert password_matches(password, password_hash)
    assert sorted(staff) == ["GZ-HZ-01", "GZ-TH-01", "GZ-YX-01"]
    assert staff["GZ-TH-01"] == [
        ("gz-th-01-c1", "clerk"), ("gz-th-01-c2", "clerk"), ("gz-th-01-s1", "supervisor")]
    assert all(len(logins) == 3 for logins in staff.values())


def test_nobody_logs_in_with_the_other_roles_password(seeded):
    engine, _ = seeded
    for role, password_hash in rows(engine, ClerkRow.role, ClerkRow.password_hash):
        wrong = DEMO_CLERK_PASSWORD if role == "supervisor" else DEMO_SUPERVISOR_PASSWORD
        assert not password_matches(wrong, password_hash)


def test_halls_are_named_in_chinese_with_the_service_phone(seeded):
    engine, _ = seeded
    assert rows(engine, HallRow.id, HallRow.name, HallRow.district, HallRow.service_phone)[0] == (
        "GZ-HZ-01", "海珠区第1营业厅", "GZ-HZ", "95598")


def test_more_halls_than_districts_go_round_robin(engine):
    halls = len(DISTRICTS) + 3
    summary = seed(engine, accounts=100, halls=halls)
    assert summary.districts == len(DISTRICTS)
    ids = [hall_id for (hall_id,) in rows(engine, HallRow.id)]
    assert len(ids) == halls
    assert Counter(i.rsplit("-", 1)[0] for i in ids) == {
        d.code: 2 if i < 3 else 1 for i, d in enumerate(DISTRICTS)}
    assert {"GZ-TH-02", "GZ-YX-02", "GZ-HZ-02", "SZ-FT-01", "SZ-BA-01"} <= set(ids)
    assert "GZ-BY-02" not in ids


def test_seeding_twice_is_refused_and_the_first_data_is_untouched(engine):
    seed(engine, accounts=50, halls=1)
    before = rows(engine, AccountRow.number, AccountRow.holder_name, AccountRow.seq)
    with pytest.raises(ValueError, match="already holds 50 accounts"):
        seed(engine, accounts=50, halls=2, seed=1)
    assert rows(engine, AccountRow.number, AccountRow.holder_name, AccountRow.seq) == before
    assert count(engine, HallRow) == 1
    assert count(engine, DistrictRow) == 1


def test_districts_without_accounts_are_refused_too(engine):
    seed(engine, accounts=0, halls=1)
    with pytest.raises(ValueError, match="already holds districts"):
        seed(engine, accounts=10, halls=1)
    assert count(engine, AccountRow) == 0


@pytest.mark.parametrize(("accounts", "halls", "message"), [
    (-1, 1, "cannot be negative"),
    (10, 0, "At least one hall"),
])
def test_bad_counts_are_refused_before_anything_is_written(engine, accounts, halls, message):
    with pytest.raises(ValueError, match=message):
        seed(engine, accounts=accounts, halls=halls)
    assert count(engine, DistrictRow) == 0


def test_the_same_seed_gives_the_same_data(tmp_path):
    engines = [fresh_engine(tmp_path / f"{i}.sqlite3") for i in range(2)]
    for e in engines:
        seed(e, accounts=300, halls=2, seed=42)
    columns = (AccountRow.number, AccountRow.holder_name, AccountRow.id_number,
               AccountRow.phone, AccountRow.supply_address, AccountRow.community_code,
               AccountRow.seq)
    first, second = (rows(e, *columns) for e in engines)
    assert first == second
    assert rows(engines[0], ClerkRow.login, ClerkRow.name) == rows(
        engines[1], ClerkRow.login, ClerkRow.name)
    assert rows(engines[0], CommunityRow.code, CommunityRow.name) == rows(
        engines[1], CommunityRow.code, CommunityRow.name)
    for e in engines:
        e.dispose()


def test_a_different_seed_gives_different_customers(tmp_path, seeded):
    other = fresh_engine(tmp_path / "other.sqlite3")
    seed(other, accounts=ACCOUNTS, halls=HALLS, seed=8)
    engine, _ = seeded
    assert rows(other, AccountRow.number, AccountRow.holder_name) != rows(
        engine, AccountRow.number, AccountRow.holder_name)
    other.dispose()


def test_progress_reports_the_running_account_count_after_each_chunk(engine, monkeypatch):
    monkeypatch.setattr(seed_module, "CHUNK_ROWS", 40)
    reported = []
    seed(engine, accounts=100, halls=2, progress=reported.append)
    # 50 accounts a district: a chunk of 40 and one of 10 each.
    assert reported == [40, 50, 90, 100]
