"""What the server says of the terminal, kept in the cache: the floor of its receipt numbers
(a lost cache never issues a number twice), the clock's offset, and a restore of the server
(what it acknowledged since is pushed again)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hallclient.store.models import AuditRow, OutboxRow, SyncStateRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.sync.terminal_facts import clock_offset, record_facts
from hallcore.domain.business import BusinessKind
from hallcore.wire import TerminalFacts
from tests.support.factories import TERMINAL_KEY, holder_presents

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def facts(identity="db-1", last=None, server_time=NOON_CST):
    return TerminalFacts(server_identity=identity, server_time=server_time,
                         last_receipt_no=last, offline_window_hours=72)


def suspend(cache, number="1000000001"):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind.SUSPEND,
                            account_number=number, raw_payload=holder_presents(),
                            now=NOON_CST)


def test_a_new_cache_numbers_receipts_after_the_last_one_the_server_holds(one_account_cache):
    # The cache was lost after number 0007 reached the server: 0001 would be issued again.
    with one_account_cache.write() as s:
        record_facts(s, facts(last="GZ-TH-01-T01-20261125-0007"), NOON_CST)
    assert suspend(one_account_cache).receipt_no == "GZ-TH-01-T01-20261125-0008"


def test_the_servers_number_of_another_day_or_terminal_leaves_the_numbering_alone(
        one_account_cache):
    with one_account_cache.write() as s:
        record_facts(s, facts(last="GZ-TH-01-T01-20261124-0042"), NOON_CST)
    assert suspend(one_account_cache).receipt_no == "GZ-TH-01-T01-20261125-0001"


def test_the_clock_offset_is_kept(one_account_cache):
    with one_account_cache.write() as s:
        record_facts(s, facts(server_time=NOON_CST - timedelta(minutes=7)), NOON_CST)
    with one_account_cache.read() as s:
        assert clock_offset(s) == timedelta(minutes=7)


def test_a_restored_server_gets_again_what_it_acknowledged_after_its_last_number(
        one_account_cache):
    with one_account_cache.write() as s:
        record_facts(s, facts(), NOON_CST)
    first = suspend(one_account_cache)
    with one_account_cache.write() as s:
        for row in s.scalars(select(OutboxRow)):
            row.state = "applied"
        s.get(SyncStateRow, 1).bootstrap_done = True
    # The backup held nothing of this terminal's: the operation is pending again, and the
    # cache is filled again from the restored server.
    with one_account_cache.write() as s:
        assert record_facts(s, facts(identity="db-2"), NOON_CST) == 1
    with one_account_cache.read() as s:
        assert s.scalars(select(OutboxRow.state)).one() == "pending"
        state = s.get(SyncStateRow, 1)
        assert (state.bootstrap_done, state.pull_cursor) == (False, 0)
        assert s.scalars(select(AuditRow.action).order_by(AuditRow.id.desc())).first() == (
            "server_restored")
    # A restore that kept it changes nothing more.
    with one_account_cache.write() as s:
        for row in s.scalars(select(OutboxRow)):
            row.state = "applied"
        assert record_facts(s, facts(identity="db-3", last=first.receipt_no), NOON_CST) == 0
