"""A counter learns of another terminal's change and claims at once, on the stream of changes
of the real embedded server: the worker pulls the change without waiting for its interval, and
the counter shows "being changed at hall X" when it opens that account or a form on it,
without refusing anything."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.auth.login import terminal_identity
from hallclient.receipts.content import HallInfo
from hallclient.store.models import sync_state
from hallclient.sync.claims import ClaimBoard
from hallclient.sync.worker import SyncStatus, SyncWorker
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallserver.models import AccountClaimRow
from tests.support.counter import HALL, active_accounts, holder


@pytest.fixture
def pair(counters):
    """Terminals T01 and T02 of the same hall, both synced once."""
    first, second = counters("T01"), counters("T02", "gz-th-01-c2")
    first.engine.sync_once()
    second.engine.sync_once()
    return first, second


def _claims_heard(counter, board: ClaimBoard) -> None:
    """The first page of the counter's stream of changes (claims news), taken by the board."""
    with counter.cache.read() as session:
        cursor = sync_state(session).pull_cursor
    stream = counter.api.change_stream(cursor, board.cursor)
    page = next(stream)
    stream.close()
    board.take(page.claims, page.claims_cursor)


def test_a_colleagues_claim_and_its_release_reach_the_board(pair):
    first, second = pair
    board = ClaimBoard(first.api, HALL, "T01")
    mine, theirs = (a.number for a in active_accounts(first, 2))
    first.api.claim(mine)  # this terminal's own claim is not a colleague's
    second.api.claim(theirs)
    _claims_heard(first, board)  # a first stream starts with the standing claims
    [claim] = board.standing(theirs)
    assert claim.terminal_id == "T02" and board.standing(mine) == []
    second.api.release(theirs)
    _claims_heard(first, board)  # the release moved the claims cursor
    assert board.standing(theirs) == []


def test_the_worker_pulls_another_terminals_change_before_its_interval(pair):
    first, second = pair
    target = active_accounts(second, 1)[0]
    worker = SyncWorker(first.engine, interval=3600,
                        claims=ClaimBoard(first.api, HALL, "T01"))
    rounds: list[SyncStatus] = []
    pulled = threading.Event()

    def heard(status: SyncStatus) -> None:
        rounds.append(status)
        if first.account(target.number).status.value == "suspended":
            pulled.set()

    worker.subscribe(heard)
    worker.start()
    try:
        second.record("suspend", target.number, holder(target))
        second.engine.sync_once()  # pushed at T02; T01's next round is an hour away
        assert pulled.wait(60), "the change did not reach the waiting terminal"
    finally:
        worker.stop()
    assert len(rounds) >= 2


def _claimed_by(server, number: str) -> list[tuple[str, bool]]:
    with Session(server.engine) as session:
        return [(row.terminal_id, row.released) for row in session.scalars(
            select(AccountClaimRow).where(AccountClaimRow.account_number == number))]


def test_the_counter_says_a_colleague_is_changing_the_account(pair, server, qtbot, english):
    first, second = pair
    target = active_accounts(first, 1)[0]
    second.api.claim(target.number)
    board = ClaimBoard(first.api, HALL, "T01")
    _claims_heard(first, board)
    window = CounterWindow(CounterServices(
        first.cache, terminal_identity(first.settings, first.secrets), "gz-th-01-c1",
        HallInfo(HALL, Text("天河营业厅", "Tianhe")), claims=board), lang="en")
    qtbot.addWidget(window)
    window.show()
    window.search.setFocus()
    qtbot.keyClicks(window.search, target.number)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None
                    and window.account.number == target.number)
    said = window.message.text()
    assert "This account is being changed at hall" in said and "(since " in said
    window.open_form(BusinessKind.CONTACT_CHANGE)  # not refused: the clerk may go on
    assert window.form_host.kind is BusinessKind.CONTACT_CHANGE
    assert "being changed at hall" in window.message.text()
    # This counter's own claim reached the server, and the next customer releases it.
    qtbot.waitUntil(lambda: ("T01", False) in _claimed_by(server, target.number))
    window.next_customer()
    qtbot.waitUntil(lambda: ("T01", True) in _claimed_by(server, target.number))
    board.close()
