import hashlib
import sqlite3
import stat
import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hallclient.store.accounts import count_accounts, load_account, save_account, save_community
from hallclient.store.cache import (
    CACHE_SCHEMA,
    CacheCorrupt,
    CacheTooNew,
    NotACache,
    head_revision,
    make_engine,
    migrate,
    open_cache,
)
from hallclient.store.models import Base, OutboxRow, ReceiptRow
from hallclient.store.search import SEARCH_INDEX_TABLES
from hallcore.demodata import DISTRICTS, accounts, communities
from hallcore.domain.text import Text
from tests.support.factories import COMMUNITY, account


@pytest.fixture
def cache(tmp_path):
    c = open_cache(tmp_path / "cache.sqlite3")
    yield c
    c.close()


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_cache_is_migrated_to_head(cache):
    with cache.read() as s:
        assert s.scalar(text("select version_num from alembic_version")) == head_revision()


def test_new_cache_is_private_to_its_owner(cache):
    mode = stat.S_IMODE(cache.path.stat().st_mode)
    assert mode == 0o600


def test_cache_uses_wal_and_enforces_foreign_keys(cache):
    with cache.read() as s:
        assert s.scalar(text("pragma journal_mode")) == "wal"
        assert s.scalar(text("pragma foreign_keys")) == 1
    with pytest.raises(IntegrityError), cache.write() as s:
        s.add(ReceiptRow(receipt_no="R1", operation_id="no-such-op",
                         issued_at=datetime.now(UTC), copies_printed=0))


def test_account_round_trip_keeps_every_field(cache):
    original = account(arrears_fen=4560, sms_consent=False)
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, original, server_seq=42)
    with cache.read() as s:
        assert load_account(s, original.number) == original


def test_saving_again_replaces_the_cached_account(cache):
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())
    with cache.write() as s:
        save_account(s, account(holder_name="陈伟明", version=5, community=None))
    with cache.read() as s:
        cached = load_account(s, "1000000001")
        assert count_accounts(s) == 1
    assert cached.holder_name == "陈伟明" and cached.version == 5 and cached.community is None


def test_account_missing_from_cache_is_none(cache):
    with cache.read() as s:
        assert load_account(s, "9999999999") is None


def test_outbox_round_trip_keeps_the_payload(cache):
    payload = {"new_holder_name": "林晓燕", "carry_arrears": True}
    with cache.write() as s:
        s.add(OutboxRow(operation_id="7f1c2a9e-0000-4000-8000-000000000001",
                        created_at=datetime.now(UTC), clerk="c001", business_type="transfer",
                        account_number="1000000001", base_version=4, payload=payload))
    with cache.read() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert row.payload == payload and row.state == "pending" and row.attempts == 0


def test_failed_write_leaves_nothing_behind(cache):
    with pytest.raises(RuntimeError), cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        raise RuntimeError("power cut")
    with cache.read() as s:
        assert s.scalar(text("select count(*) from communities")) == 0


def test_writers_queue_instead_of_failing(tmp_path):
    """Two writers on one file: the second waits for the first's BEGIN IMMEDIATE lock."""
    path = tmp_path / "cache.sqlite3"
    first, second = open_cache(path), open_cache(path)
    holding = threading.Event()
    release = threading.Event()
    errors: list[Exception] = []

    def hold_lock():
        with first.write() as s:
            save_community(s, COMMUNITY)
            holding.set()
            release.wait(5)

    t = threading.Thread(target=hold_lock)
    t.start()
    holding.wait(5)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    try:
        with second.write() as s:
            s.execute(text("update communities set households = 1"))
    except Exception as exc:
        errors.append(exc)
    t.join()
    with second.read() as s:
        assert s.scalar(text("select households from communities")) == 1
    assert errors == []
    first.close()
    second.close()


# SQLite's reflection cannot read an index on an expression (the phone's last digits): Alembic
# says it skips it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_models(cache):
    """Every model change has its Alembic revision: nothing left for autogenerate to find
    (the search index's tables are store/search.py's, not the models')."""
    def models_only(name, type_, _parent):
        return not (type_ == "table" and name in SEARCH_INDEX_TABLES)

    with cache.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": models_only})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_previous_revision_is_migrated_and_its_data_kept(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.touch(mode=0o600)
    engine = make_engine(path)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "insert into accounts (number, holder_name, supply_address, status, version, "
            "district, arrears_fen, sms_consent, server_seq) values ('1000000001', '陈伟', "
            "'广州市天河区天河路1号', 'active', 3, 'GZ-TH', 0, 1, 17)"))
    engine.dispose()

    cache = open_cache(path)
    with cache.read() as s:
        assert s.scalar(text("select version_num from alembic_version")) == head_revision()
        kept = load_account(s, "1000000001")
        assert (kept.version, kept.sms_language) == (3, "zh")  # SMS in Chinese, as before
        assert s.scalar(text("select count(*) from outbox")) == 0
    cache.close()
    # The file as it was before the upgrade is kept beside it.
    assert cache.backup is not None and cache.backup.exists()
    with sqlite3.connect(cache.backup) as old:
        assert old.execute("select version_num from alembic_version").fetchone() == ("0001",)


def _account_indexes(engine):
    with engine.connect() as conn:
        return {name for (name,) in conn.exec_driver_sql(
            "select name from sqlite_master where type = 'index' and tbl_name = 'accounts'"
            " and sql is not null")}


def _downgrade(engine, revision):
    config = CACHE_SCHEMA.config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


@pytest.mark.parametrize("bootstrapping", [False, True])
def test_the_unread_account_indexes_go_and_come_back_down(tmp_path, bootstrapping):
    """0015: the index of phones' last four characters answers a whole phone too, and no
    search reads accounts by community; going down, both indexes come back unless a
    bootstrap is under way (it builds them at its end)."""
    engine = make_engine(tmp_path / "cache.sqlite3")
    migrate(engine, "0014")
    lookups = {"ix_accounts_id_number", "ix_accounts_phone", "ix_accounts_phone_last4",
               "ix_accounts_community_code"}
    assert _account_indexes(engine) == lookups
    if bootstrapping:
        with engine.begin() as conn:
            for name in lookups:
                conn.exec_driver_sql(f"drop index {name}")
    migrate(engine)
    assert _account_indexes(engine) == (
        set() if bootstrapping else {"ix_accounts_id_number", "ix_accounts_phone_last4"})
    _downgrade(engine, "0014")
    assert _account_indexes(engine) == (set() if bootstrapping else lookups)
    engine.dispose()


def test_opening_a_current_cache_makes_no_backup(tmp_path):
    open_cache(tmp_path / "cache.sqlite3").close()
    again = open_cache(tmp_path / "cache.sqlite3")
    again.close()
    assert again.backup is None
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".bak"] == []


def test_corrupt_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"\x00garbage, not a database\x00" * 100)
    before = digest(path)
    with pytest.raises(CacheCorrupt, match="not a SQLite database") as err:
        open_cache(path)
    assert err.value.reason.zh.startswith(
        f"缓存文件 {path} 已损坏（已不是有效的 SQLite 数据库），文件未作任何改动。")
    assert err.value.reason.en.startswith(
        f"The cache file {path} is damaged (it is not a SQLite database). It has not been "
        "changed.")
    assert str(err.value) == str(err.value.reason)  # both languages, for the command line
    assert digest(path) == before


def test_damaged_pages_are_refused_and_left_untouched(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache = open_cache(path)
    district = DISTRICTS[0]
    with cache.write() as s:
        for acct in accounts(district, 2000, []):
            save_account(s, acct)
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 7 * page):
        data[offset + 8: offset + page] = b"\xff" * (page - 8)
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(CacheCorrupt) as err:
        open_cache(path)
    assert f"缓存文件 {path} 已损坏" in err.value.reason.zh
    assert f"The cache file {path} is damaged" in err.value.reason.en
    assert digest(path) == before


@pytest.mark.parametrize(("waiting", "zh", "en"), [
    (None, "其中可能还有等待上传的业务", "Requests waiting to be sent may still be inside"),
    (0, "其中没有等待上传的业务：抢救会将它改名保留，另建新的缓存",
     "It holds no request waiting to be sent: salvage moves it aside and starts a new cache"),
    (4, "其中还有 4 笔业务等待上传", "It still holds 4 requests waiting to be sent")])
def test_a_damaged_cache_says_what_it_holds_and_how_to_salvage_in_both_languages(
        tmp_path, waiting, zh, en):
    path = tmp_path / "cache.sqlite3"
    reason = CacheCorrupt(path, Text("完整性检查未通过：x", "integrity check: x"), waiting).reason
    assert reason.zh.startswith(
        f"缓存文件 {path} 已损坏（完整性检查未通过：x），文件未作任何改动。{zh}")
    assert reason.en.startswith(
        f"The cache file {path} is damaged (integrity check: x). It has not been changed. {en}")
    assert "（启动 HallClient 时选择抢救，或运行 `hallclient salvage` 命令）" in reason.zh
    assert "(accept the salvage HallClient offers when it starts, or run `hallclient salvage`)" in (
        reason.en)


def test_foreign_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("create table invoices (id integer primary key)")
    before = digest(path)
    with pytest.raises(NotACache, match="some other program") as err:
        open_cache(path)
    assert err.value.reason.zh.startswith(
        f"{path} 是其他程序的 SQLite 数据库，不是 HallClient 的缓存文件")
    assert err.value.reason.en.startswith(
        f"{path} is a SQLite database of some other program, not a HallClient cache.")
    assert digest(path) == before


def test_cache_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "cache.sqlite3"
    open_cache(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("update alembic_version set version_num = '0099'")
    before = digest(path)
    with pytest.raises(CacheTooNew, match="newer HallClient") as err:
        open_cache(path)
    assert f"缓存文件 {path} 由更新版本的 HallClient 写入（数据结构版本 0099，" in (
        err.value.reason.zh)
    assert f"The cache {path} was written by a newer HallClient (schema 0099;" in (
        err.value.reason.en)
    assert digest(path) == before


def test_demo_data_fills_a_cache(cache):
    district = DISTRICTS[1]
    comms = list(communities(district, 5))
    with cache.write() as s:
        for c in comms:
            save_community(s, c)
        s.flush()
        for acct in accounts(district, 300, comms):
            save_account(s, acct)
    with cache.read() as s:
        assert count_accounts(s) == 300


def test_a_database_error_does_not_carry_the_customers_data(one_account_cache):
    """Error messages reach logs and the screen: no statement values in them."""
    from sqlalchemy.exc import IntegrityError

    from hallclient.store.models import AccountRow
    from tests.support.factories import account

    original = account()
    with pytest.raises(IntegrityError) as error, one_account_cache.write() as s:
        s.add(AccountRow(number=original.number, holder_name=original.holder_name,
                         phone=original.phone, id_number=original.id_number))
    assert original.phone not in str(error.value)
    assert original.id_number not in str(error.value)
