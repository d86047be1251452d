"""How a bootstrap loads the cache: compact pages stored as they come, the lookup indexes
dropped for the load and built at its end, a crash anywhere resumed without losing anything."""

import typing
from collections import Counter
from functools import partial

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow, CommunityRow, SyncStateRow
from hallclient.sync import engine as sync_engine
from hallclient.sync.api import ServerApi, ServerUnreachable
from hallcore.wire import (
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    AccountRowWire,
    AccountWire,
    CommunityRowWire,
    CommunityWire,
)
from hallserver.admin import CommunitySpec, put_community
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import CommunityRow as ServerCommunity
from tests.support.counter import cached_accounts, holder, server_accounts


def account_indexes(cache):
    """The accounts table's indexes as SQLite keeps them: name → SQL."""
    with cache.read() as s:
        return dict(s.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'accounts' AND sql IS NOT NULL").all())


@pytest.fixture
def migrated_indexes(tmp_path):
    cache = open_cache(tmp_path / "fresh" / "cache.sqlite3")
    yield account_indexes(cache)
    cache.close()


def calls_to_bootstrap(counter, cut_at=None):
    """Records the `after` of each bootstrap request; raises on call number `cut_at`."""
    calls, real = [], partial(ServerApi.bootstrap, counter.api)

    def call(after, limit, communities):
        calls.append(after)
        if len(calls) == cut_at:
            raise ServerUnreachable("network cut")
        return real(after, limit, communities)

    counter.api.bootstrap = call
    return calls


def test_a_compact_row_names_every_field_of_a_wire_account_once():
    assert sorted(ACCOUNT_ROW_FIELDS) == sorted(
        {*AccountWire.model_fields} - {"community"} | {"community_code"})
    assert len(typing.get_args(AccountRowWire)) == len(ACCOUNT_ROW_FIELDS)
    assert tuple(CommunityWire.model_fields) == COMMUNITY_ROW_FIELDS
    assert len(typing.get_args(CommunityRowWire)) == len(COMMUNITY_ROW_FIELDS)


def test_the_cache_holds_every_field_of_the_districts_accounts_and_its_indexes(
        counters, server, migrated_indexes):
    counter = counters()
    assert counter.engine.bootstrap() == 250
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")
    assert account_indexes(counter.cache) == migrated_indexes


def test_an_interrupted_bootstrap_is_without_lookup_indexes_until_it_is_done(
        counters, migrated_indexes):
    counter = counters()
    calls_to_bootstrap(counter, cut_at=2)
    with pytest.raises(ServerUnreachable):
        counter.engine.bootstrap()
    assert set(account_indexes(counter.cache)).isdisjoint(
        name for name in migrated_indexes if name.startswith("ix_accounts_"))
    with counter.cache.read() as s:  # what was stored is found all the same
        phone = s.scalars(select(AccountRow.phone).where(AccountRow.phone.is_not(None))
                          .limit(1)).one()
        assert s.scalars(select(AccountRow.number).where(AccountRow.phone == phone)).first()
    calls_to_bootstrap(counter)
    assert counter.engine.bootstrap() == 150
    assert account_indexes(counter.cache) == migrated_indexes


def test_a_crash_while_the_indexes_are_built_resumes_without_fetching_the_accounts_again(
        counters, server, migrated_indexes, monkeypatch):
    counter = counters()
    real_build = sync_engine.build_lookup_index
    built = []

    def build_then_crash(session, index):
        if built:
            raise KeyboardInterrupt("killed")
        built.append(index.name)
        real_build(session, index)

    monkeypatch.setattr(sync_engine, "build_lookup_index", build_then_crash)
    with pytest.raises(KeyboardInterrupt):
        counter.engine.bootstrap()
    monkeypatch.setattr(sync_engine, "build_lookup_index", real_build)
    with counter.cache.read() as s:
        state = s.get(SyncStateRow, 1)
        last = s.scalars(select(AccountRow.number).order_by(AccountRow.number.desc())).first()
        assert not state.bootstrap_done and state.bootstrap_after == last
    calls = calls_to_bootstrap(counter)
    assert counter.engine.bootstrap() == 0
    assert calls == [last]  # one empty page, then the indexes
    assert account_indexes(counter.cache) == migrated_indexes
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")


def test_an_account_with_a_pending_operation_keeps_it_on_top_of_the_bootstrapped_state(
        counters):
    counter = counters()
    counter.engine.bootstrap()
    with counter.cache.read() as s:
        number = s.scalars(select(AccountRow.number).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None),
            AccountRow.community_code.is_not(None),
            AccountRow.arrears_fen == 0).order_by(AccountRow.number.desc())).first()
    community = counter.account(number).community
    assert community is not None
    counter.record("suspend", number, holder(counter.account(number)))
    with counter.cache.write() as s:  # the bootstrap again from the start, offline work kept
        state = s.get(SyncStateRow, 1)
        state.bootstrap_done, state.bootstrap_after = False, None
    assert counter.engine.bootstrap() == 250
    assert counter.account(number).status.value == "suspended"  # still pending, still shown
    assert counter.account(number).community == community
    counter.engine.sync_once()
    assert counter.account(number).status.value == "suspended"


@pytest.fixture
def spread_communities(server):
    """7 new communities of the district, its accounts spread over them in turn (as the
    province's seed spreads them): each page names most of them. Their codes, by account."""
    with Session(server.engine) as s, s.begin():
        numbers = s.scalars(select(ServerAccount.number).where(ServerAccount.district == "GZ-TH")
                            .order_by(ServerAccount.number)).all()
        codes = [f"GZ-TH-T{i % 7}" for i in range(len(numbers))]
        s.add_all(ServerCommunity(code=code, district="GZ-TH", name=f"{code}新村", households=80)
                  for code in sorted(set(codes)))
        s.flush()
        for number, code in zip(numbers, codes, strict=True):
            s.get(ServerAccount, number).community_code = code
    return codes


def recording_communities(counter, monkeypatch, before_call=None, asked=None):
    """Records each bootstrap request's (after, communities asked) and each community the
    cache is given; calls `before_call(n)` before request n (from 1); `asked` replaces the
    communities asked for (a server that predates the choice answers every page so)."""
    calls, written = [], []
    real_store = sync_engine.bulk_store_rows

    def store(session, rows, communities):
        written.extend(community[0] for community in communities)
        real_store(session, rows, communities)

    monkeypatch.setattr(sync_engine, "bulk_store_rows", store)
    real_fetch = partial(ServerApi.bootstrap, counter.api)

    def fetch(after, limit, communities):
        calls.append((after, communities))
        if before_call is not None:
            before_call(len(calls))
        return real_fetch(after, limit, asked or communities)

    counter.api.bootstrap = fetch
    return calls, written


def district_communities(server):
    with Session(server.engine) as s:
        return set(s.scalars(select(ServerCommunity.code)
                             .where(ServerCommunity.district == "GZ-TH")))


def test_the_first_page_brings_the_districts_communities_and_the_later_ones_none(
        counters, server, spread_communities, monkeypatch):
    counter = counters()
    counter.engine.bootstrap_page = 20
    calls, written = recording_communities(counter, monkeypatch)
    assert counter.engine.bootstrap() == 250
    assert [asked for _, asked in calls] == ["district"] + ["none"] * 12
    assert Counter(written) == dict.fromkeys(district_communities(server), 1)
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")


def test_a_community_made_after_the_first_page_comes_with_the_page_that_names_it(
        counters, server, spread_communities, monkeypatch):
    counter = counters()
    counter.engine.bootstrap_page = 20

    def new_community_for_the_last_accounts(call):
        if call == 3:  # after the first two pages were read
            with Session(server.engine) as s, s.begin():
                s.add(ServerCommunity(code="GZ-TH-NEW", district="GZ-TH", name="新建小区",
                                      households=12))
                s.flush()
                for account in s.scalars(select(ServerAccount).where(
                        ServerAccount.district == "GZ-TH")
                        .order_by(ServerAccount.number.desc()).limit(30)):
                    account.community_code = "GZ-TH-NEW"

    calls, written = recording_communities(counter, monkeypatch,
                                           new_community_for_the_last_accounts)
    assert counter.engine.bootstrap() == 250
    # The 12th page (accounts 221 to 240) is the first to name it, and is asked for again.
    assert [asked for _, asked in calls] == ["district"] + ["none"] * 11 + ["page", "none"]
    assert calls[-3][0] == calls[-2][0]
    assert written.count("GZ-TH-NEW") == 1
    counter.engine.sync_once()  # the accounts changed after the bootstrap began are pulled
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")


def test_a_community_renamed_during_the_bootstrap_reaches_the_terminal_with_the_pull_after_it(
        counters, server, spread_communities, monkeypatch):
    """The later pages bring no communities: a rename made while they come is pulled after
    the bootstrap, as the rename gave the community's accounts new change numbers."""
    counter = counters()
    counter.engine.bootstrap_page = 20
    renamed = spread_communities[0]

    def rename(call):
        if call == 3:  # after the first two pages were read
            with Session(server.engine) as s, s.begin():
                assert put_community(s, "admin", CommunitySpec(
                    renamed, "GZ-TH", "改名新村", 80, "王经理", "13500135000", None)) == "changed"

    recording_communities(counter, monkeypatch, rename)
    assert counter.engine.bootstrap() == 250
    with counter.cache.read() as s:
        assert s.get(CommunityRow, renamed).name == f"{renamed}新村"  # as the first page had it
    counter.engine.sync_once()
    with counter.cache.read() as s:
        assert (s.get(CommunityRow, renamed).name, s.get(CommunityRow, renamed).manager_name) == (
            "改名新村", "王经理")
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")


def test_from_a_server_that_brings_each_pages_communities_each_is_written_once_unless_changed(
        counters, server, spread_communities, monkeypatch):
    """A server that predates the choice carries every community of a page's accounts, most
    of them carried by the pages before it: written once, and again only where a later page
    brings it changed."""
    counter = counters()
    counter.engine.bootstrap_page = 20
    renamed = spread_communities[0]

    def rename(call):
        if call == 3:  # renamed on the server after the first two pages were read
            with Session(server.engine) as s, s.begin():
                s.get(ServerCommunity, renamed).name = "改名新村"

    calls, written = recording_communities(counter, monkeypatch, rename, asked="page")
    assert counter.engine.bootstrap() == 250
    assert len(calls) > 4
    assert Counter(written) == {code: 2 if code == renamed else 1
                                for code in set(spread_communities)}
    with counter.cache.read() as s:
        assert s.get(CommunityRow, renamed).name == "改名新村"
    assert cached_accounts(counter.cache) == server_accounts(server.engine, "GZ-TH")
