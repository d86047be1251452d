"""The sync engine: bootstrap, push the outbox, pull by cursor. Synchronous and Qt-free; the
app runs it in a background worker (worker.py), operators run `hallclient sync --once`.

Exactly once, across crashes: an operation leaves the outbox's `pending` state only in the
transaction that records the server's answer. A crash before the send, after the server
committed but before the answer arrived, or while the answer was being written leaves it
pending; it is pushed again with the same operation id, and the server answers `duplicate`
with its first answer, which is then recorded. Nothing is lost, nothing applied twice.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from base64 import b64encode
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http import HTTPStatus
from operator import itemgetter
from typing import TypeVar

from pydantic_core import to_json
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.auth.secrets import SecretStore
from hallclient.store.accounts import count_accounts
from hallclient.store.cache import Cache
from hallclient.store.feedback import mark_stored, sendable_feedback
from hallclient.store.models import OutboxRow, ReceiptRow, ScanRow, SyncStateRow, sync_state
from hallclient.store.search import (
    build_search_index_slice,
    search_index_is_current,
    suspend_search_index,
)
from hallclient.sync.api import NotAuthenticated, ServerApi, ServerRefused, ServerUnreachable
from hallclient.sync.apply import (
    build_lookup_index,
    bulk_store_rows,
    drop_lookup_indexes,
    lookup_indexes,
    record_results,
    store_server_account,
)
from hallclient.sync.claims import ClaimBoard
from hallclient.sync.scan_upload import upload_scans
from hallclient.sync.terminal_facts import record_facts
from hallclient.sync.work_calendar import calendar_outdated, keep_calendar
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import (
    ACCOUNT_ROW_FIELDS,
    MAX_PUSH_BATCH,
    BootstrapCommunities,
    BootstrapRows,
    CommunityRowWire,
    NotSettledReason,
    OperationResult,
    Outcome,
    PushOperation,
    QueueTicket,
    RefusalCode,
    ScanKind,
    ScanMediaType,
    ScanRef,
    TicketSource,
)

T = TypeVar("T")

log = logging.getLogger(__name__)
# Accounts indexed per transaction of the search index's build (some 0.1 s each), and the
# pause after each.
SEARCH_INDEX_SLICE = 2000
SEARCH_INDEX_PAUSE = 0.01
# Objects allocated between two collections of Python's young objects during a bootstrap
# (Python's default: 700).
BOOTSTRAP_GC_THRESHOLD = 200_000

REFRESH_TOKEN = "refresh_token"


class LoginNeeded(NotAuthenticated):
    """No valid session with the server, nor one to renew: a clerk has to log in (online) once.
    A NotAuthenticated, so that `in_words` says it, also when no answer of the server led to
    it (no session stored)."""


class Credentials:
    """Keeps the API's access token fresh from the refresh token in the keyring."""

    def __init__(self, api: ServerApi, secrets: SecretStore) -> None:
        self.api = api
        self.secrets = secrets

    def refresh(self) -> None:
        token = self.secrets.get(REFRESH_TOKEN)
        if token is None:
            raise LoginNeeded("no session stored; log in first")
        try:
            answer = self.api.refresh(token)
        except (ServerRefused, NotAuthenticated) as exc:
            raise LoginNeeded("the session has expired; log in again") from exc
        self.secrets.set(REFRESH_TOKEN, answer.refresh_token)
        self.api.access_token = answer.access_token

    def call(self, request: Callable[[], T]) -> T:
        if self.api.access_token is None:
            self.refresh()
        try:
            return request()
        except NotAuthenticated:
            self.refresh()
            return request()


@dataclass
class SyncSummary:
    bootstrapped: int = 0
    pulled: int = 0
    pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    pending: int = 0
    # Older than the hall's offline window: kept until a supervisor extends it at this terminal.
    held: int = 0
    # Pushed again because the server was restored from a backup.
    pushed_again: int = 0

    def describe(self) -> Text:
        return Text(
            "下载 {b} 户，拉取 {p} 条变更，上传 {u} 笔"
            "（成功 {a}，冲突 {c}，退回 {r}），待发 {w} 笔",
            "bootstrapped {b}, pulled {p}, pushed {u} (applied {a}, conflicts {c}, "
            "rejected {r}), pending {w}",
        ).format(b=self.bootstrapped, p=self.pulled, u=self.pushed, a=self.applied,
                 c=self.conflicts, r=self.rejected, w=self.pending)

    def __str__(self) -> str:
        return self.describe().en


@dataclass(frozen=True, slots=True)
class BootstrapProgress:
    """Where a running bootstrap stands; reported after each page is stored.

    `received`: the accounts in the cache so far, those stored by an earlier, interrupted run
    included. `total`: the district's accounts as the server counted them at the first page;
    None when no first page was seen by this engine (a bootstrap resumed after a restart: the
    cache does not keep the total), or from a server that does not send it. Accounts opened
    while the pages come can take `received` past `total`; `fraction` is clamped.
    """

    received: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        """Done share in [0, 1]; None when the total is unknown (show a busy indicator)."""
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.received / self.total)


BootstrapListener = Callable[[BootstrapProgress], None]


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.state == "pending")) or 0


# A push's body at most this many bytes: the server refuses one over its limit (max_body_bytes,
# 4 MiB unless set lower). A batch of 500 operations whose customers signed in the usual 1-3 KB
# is about 1.5 MB; with the largest images a signature can be, one is cut at about 180.
PUSH_BODY_BUDGET = 3_500_000
_PUSH_ENVELOPE = len(b'{"operations":[]}')


def within_budget(batch: list[PushOperation], budget: int = PUSH_BODY_BUDGET
                  ) -> list[PushOperation]:
    """The longest start of `batch` whose push body, as sent, is at most `budget` bytes; its
    first operation at least."""
    size = _PUSH_ENVELOPE - 1  # a comma before each operation but the first
    for n, op in enumerate(batch):
        size += len(to_json(op)) + 1
        if size > budget and n:
            return batch[:n]
    return batch


class SyncEngine:
    def __init__(self, cache: Cache, credentials: Credentials, *, page_size: int = 2000,
                 bootstrap_page: int = 10_000, push_batch: int = MAX_PUSH_BATCH,
                 search_index_in_background: bool = True) -> None:
        self.cache = cache
        self.credentials = credentials
        self.api = credentials.api
        self.page_size = page_size  # changes pulled per request
        self.bootstrap_page = bootstrap_page  # accounts per bootstrap page
        self.push_batch = push_batch
        # The district's size from the first bootstrap page, kept so that a bootstrap this
        # process resumes (after a network cut) still knows it. Not stored in the cache.
        self._bootstrap_total: int | None = None
        # The longest the server holds a waiting pull (ChangesPage.wait_max); 0: it neither
        # holds one nor streams changes.
        self.wait_max = 0
        # Build the name and address index on a thread of its own after a bootstrap, or
        # (False: a command line run, tests) to its end within sync_once.
        self.search_index_in_background = search_index_in_background
        self._index_builder: threading.Thread | None = None

    # --- bootstrap -------------------------------------------------------------------------

    def bootstrap(self, on_progress: BootstrapListener | None = None) -> int:
        """Fill an empty cache from the server; resumes where an interrupted one stopped.

        Returns the accounts received by this call. `on_progress` is called (on this thread)
        after each page is stored, never when the bootstrap was done already.

        While a page is stored, a second thread fetches and reads the next. The accounts'
        lookup indexes are dropped for the load and built once at the end, before the
        bootstrap counts as done; the name and address index is built after it
        (`build_search_index`), in the background from `sync_once`."""
        with self.cache.read() as session:
            state = session.get(SyncStateRow, 1)
            if state is not None and state.bootstrap_done:
                return 0
            after = state.bootstrap_after if state else None
            # Accounts in the cache, those stored by earlier runs included; counted once.
            in_cache = count_accounts(session) if on_progress is not None else 0
        with self.cache.write() as session:
            drop_lookup_indexes(session)
            suspend_search_index(session.connection())
        received = 0
        # The communities this call has stored, as stored. The first page brings the
        # district's, the later ones none: most pages' rows name thousands of communities
        # (a community's accounts are spread over its numbers), the same ones page after page.
        # A page whose rows name one the terminal has not got (made on the server since the
        # first page) is fetched again with its own; a server that predates the choice brings
        # each page's, and each is written again only when a page brings it changed.
        communities: dict[str, CommunityRowWire] = {}
        with _rare_collections(), ThreadPoolExecutor(
                1, thread_name_prefix="hallclient-bootstrap") as fetcher:
            coming = fetcher.submit(self._fetch_bootstrap_page, after, "district")
            while True:
                page, named = coming.result()
                if not named <= communities.keys() and not named <= (
                        communities.keys() | {community[0] for community in page.communities}):
                    page, _ = fetcher.submit(self._fetch_bootstrap_page, after, "page").result()
                if page.next_after is not None:
                    coming = fetcher.submit(self._fetch_bootstrap_page, page.next_after, "none")
                stored = self._store_bootstrap_page(page, communities, first=after is None)
                received += stored
                if page.total is not None:
                    self._bootstrap_total = page.total
                if on_progress is not None:
                    in_cache += stored
                    on_progress(BootstrapProgress(in_cache, self._bootstrap_total))
                if page.next_after is None:
                    break
                after = page.next_after
        self._finish_bootstrap()
        return received

    def _fetch_bootstrap_page(self, after: str | None, communities: BootstrapCommunities,
                              ) -> tuple[BootstrapRows, set[str]]:
        """The page, and the communities its rows name: taken here, on the fetching thread,
        while its rows are fresh in the processor's cache (on the storing thread, it took
        a twentieth of a bootstrap's time)."""
        page = self.credentials.call(partial(self.api.bootstrap, after, self.bootstrap_page,
                                             communities))
        named = set(map(itemgetter(_COMMUNITY_CODE), page.rows))
        named.discard(None)
        return page, named

    def _store_bootstrap_page(self, page: BootstrapRows,
                              communities: dict[str, CommunityRowWire], *, first: bool) -> int:
        """Store a page; `communities` are those stored already, and take the page's new or
        changed ones once they are."""
        changed = [community for community in page.communities
                   if communities.get(community[0]) != community]
        # A page lost to a crash is fetched again: bootstrap_after is committed with it.
        with self.cache.bulk_write() as session:
            state = sync_state(session)
            if first:
                # Pull from the sequence the server had when the bootstrap began: whatever
                # changed while the pages came is pulled afterwards.
                state.pull_cursor = page.cursor
            pending_accounts = set(session.scalars(select(OutboxRow.account_number).where(
                OutboxRow.state == "pending", OutboxRow.account_number.is_not(None))))
            bulk_store_rows(session, [row for row in page.rows
                                      if row[0] not in pending_accounts]
                            if pending_accounts else page.rows, changed)
            for row in page.rows:
                if row[0] in pending_accounts:
                    store_server_account(session, page.account(row, communities))
            # Resume after this page; after the last one, after its last account, until
            # _finish_bootstrap has built the indexes.
            if page.next_after is not None or page.rows:
                state.bootstrap_after = page.next_after or page.rows[-1][0]
        communities.update((community[0], community) for community in changed)
        return len(page.rows)

    def _finish_bootstrap(self) -> None:
        """The lookup indexes, a transaction each (a clerk's request waits for one at most),
        then the bootstrap marked done: accounts are found by number, ID and phone at once."""
        for index in lookup_indexes():
            with self.cache.bulk_write() as session:
                build_lookup_index(session, index)
        # FULL: the indexes reach the disk, in order, with the bootstrap's end.
        with self.cache.write() as session:
            state = sync_state(session)
            state.bootstrap_after = None
            state.bootstrap_done = True

    # --- the name and address index --------------------------------------------------------

    def build_search_index(self) -> None:
        """Build the name and address index where a bootstrap left it, a slice per
        transaction, until it is built. A slice holds the cache's write lock for some 0.1 s;
        between slices this thread sleeps a moment, so a clerk's request, the sync and the
        UI (Python's lock) get their turn. Resumes after a restart (or a kill) where the last
        slice ended."""
        while True:
            with self.cache.write() as session:
                if not build_search_index_slice(session.connection(), SEARCH_INDEX_SLICE):
                    return
            time.sleep(SEARCH_INDEX_PAUSE)

    def _build_search_index_in_background(self) -> None:
        """Start the index's build on a thread of its own unless it is built or being built."""
        if self._index_builder is not None and self._index_builder.is_alive():
            return
        with self.cache.read() as session:
            if search_index_is_current(session.connection()):
                return
        self._index_builder = threading.Thread(
            target=self._build_logged, name="hallclient-search-index", daemon=True)
        self._index_builder.start()

    def _build_logged(self) -> None:
        # A daemon thread: the process may end mid-slice, which is rolled back and redone.
        try:
            self.build_search_index()
        except Exception:  # the next sync round starts it again
            log.exception("building the search index failed")

    # --- pull ------------------------------------------------------------------------------

    def pull(self, summary: SyncSummary | None = None) -> int:
        """Pull changes after the cursor, page by page; each page also says what the server
        knows of this terminal (terminal_facts.py). A restored server is noticed there: its
        lost operations are pending again and the cache is to be filled again, at the next
        round (`summary.pushed_again`)."""
        pulled = 0
        while True:
            with self.cache.read() as session:
                cursor = sync_state(session).pull_cursor
            page = self.credentials.call(partial(self.api.changes, cursor, self.page_size))
            with self.cache.write() as session:
                for wire in page.accounts:
                    store_server_account(session, wire)
                state = sync_state(session)
                state.pull_cursor = page.next_cursor
                state.last_pull_at = datetime.now(UTC)
                again = record_facts(session, page.terminal, datetime.now(UTC))
                restored = not state.bootstrap_done
                new_calendar = calendar_outdated(session, page.terminal.calendar_stamp)
            if new_calendar:
                calendar = self.credentials.call(self.api.calendar)
                with self.cache.write() as session:
                    keep_calendar(session, calendar)
            pulled += len(page.accounts)
            self.wait_max = page.wait_max
            if summary is not None:
                summary.pushed_again += again
            if restored or not page.more:
                return pulled

    def watch(self, claims: ClaimBoard, on_change: Callable[[], None]) -> None:
        """Follow the district's changes as they happen, on a stream the server keeps open
        for minutes, until it ends: what it says of claims goes to `claims`; a change of
        accounts calls `on_change` (for a pull). Not through `credentials`: a refused session
        is renewed by the next round, not here."""
        with self.cache.read() as session:
            cursor = sync_state(session).pull_cursor
        for page in self.api.change_stream(cursor, claims.cursor):
            claims.take(page.claims, page.claims_cursor)
            if page.accounts:
                on_change()

    # --- push ------------------------------------------------------------------------------

    def _next_batch(self, held: set[str]) -> list[PushOperation]:
        with self.cache.read() as session:
            rows = session.execute(
                select(OutboxRow, ReceiptRow)
                .join(ReceiptRow, ReceiptRow.operation_id == OutboxRow.operation_id)
                .where(OutboxRow.state == "pending", OutboxRow.operation_id.not_in(held))
                .order_by(OutboxRow.seq)
                .limit(self.push_batch)
            ).all()
            scans: dict[str, list[ScanRef]] = {}
            for scan in session.scalars(select(ScanRow).where(
                    ScanRow.operation_id.in_([op.operation_id for op, _ in rows]))):
                scans.setdefault(scan.operation_id, []).append(ScanRef(
                    scan_id=scan.scan_id, kind=ScanKind(scan.kind),
                    media_type=ScanMediaType(scan.media_type), size=scan.size,
                    sha256=scan.sha256))
        return within_budget([
            PushOperation(
                operation_id=op.operation_id, business_type=BusinessKind(op.business_type),
                account_number=op.account_number, base_version=op.base_version,
                payload=op.payload, created_at=op.created_at, clerk=op.clerk,
                receipt_no=receipt.receipt_no, receipt_signature=receipt.signature,
                approved_by=op.approved_by, approval_token=op.approval_token,
                approval_signature=op.approval_signature, first_contact=op.first_contact,
                not_settled_reason=(NotSettledReason(op.not_settled_reason)
                                    if op.not_settled_reason else None),
                handling_seconds=op.handling_seconds,
                customer_signature=(b64encode(op.customer_signature).decode()
                                    if op.customer_signature else None),
                ticket=_ticket(op), scans=scans.get(op.operation_id, []))
            for op, receipt in rows
        ])

    def push(self, summary: SyncSummary) -> None:
        """Push pending operations, oldest first, batch by batch, until none is left but
        those the server holds back (older than the offline window).

        The next batch is read from the outbox while the server decides the one before it, and
        is on its way while that answer is written into the cache. It is sent only once the
        answer before it has arrived, so the server still sees every operation after those
        recorded before it; the operations in flight are left out of it, pending in the outbox
        until their answer is written."""
        held: set[str] = set()
        with ThreadPoolExecutor(1, thread_name_prefix="hallclient-push") as sender:
            batch = self._next_batch(held)
            sending = sender.submit(self._send, batch) if batch else None
            while sending is not None:
                in_flight = batch
                batch = self._next_batch(held | {op.operation_id for op in in_flight})
                results = sending.result()
                # Held back by the server: in the batch just answered, so in none read since.
                held |= {r.operation_id for r in results if r.code is RefusalCode.TOO_OLD}
                sending = sender.submit(self._send, batch) if batch else None
                self._record_answer(in_flight, results, summary)
        summary.held = len(held)

    def _send(self, batch: list[PushOperation]) -> list[OperationResult]:
        """The server's answers to `batch`; raises ServerUnreachable for an answer that is not
        one for each operation sent (never loop on a batch the server did not answer in
        full). A batch the server finds too large (its limit set below PUSH_BODY_BUDGET) is
        sent again in halves."""
        try:
            answer = self.credentials.call(partial(self.api.push, batch))
        except ServerRefused as refused:
            if refused.status != HTTPStatus.REQUEST_ENTITY_TOO_LARGE or len(batch) == 1:
                raise
            half = len(batch) // 2
            return self._send(batch[:half]) + self._send(batch[half:])
        if {r.operation_id for r in answer.results} != {op.operation_id for op in batch}:
            raise ServerUnreachable("the server's answer does not match the batch sent")
        return answer.results

    def _record_answer(self, batch: list[PushOperation], results: list[OperationResult],
                       summary: SyncSummary) -> None:
        now = datetime.now(UTC)
        with self.cache.write() as session:
            outcomes = record_results(session, results, now)
            sync_state(session).last_push_at = now
        summary.applied += outcomes.count(Outcome.APPLIED)
        summary.conflicts += outcomes.count(Outcome.CONFLICT)
        summary.rejected += outcomes.count(Outcome.REJECTED)
        summary.pushed += len(batch)

    def push_feedback(self) -> int:
        """Send the customers' ratings of operations the server has; returns how many it
        stored. A rating of an operation it does not know yet stays for the next round."""
        stored = 0
        while True:
            with self.cache.read() as session:
                batch = sendable_feedback(session, self.push_batch)
            if not batch:
                return stored
            answer = self.credentials.call(partial(self.api.feedback, batch))
            with self.cache.write() as session:
                mark_stored(session, answer.stored)
            stored += len(answer.stored)
            if not answer.stored:
                return stored  # the rest waits for the server to know their operations

    # --- all of it -------------------------------------------------------------------------

    def sync_once(self, *, on_bootstrap: BootstrapListener | None = None) -> SyncSummary:
        """Bootstrap if needed, push, then pull. Raises ServerUnreachable or LoginNeeded.

        `on_bootstrap` is given the bootstrap's progress after each page, if one runs."""
        summary = SyncSummary()
        summary.bootstrapped = self.bootstrap(on_bootstrap)
        if self.search_index_in_background:
            self._build_search_index_in_background()
        else:
            self.build_search_index()
        self.push(summary)
        self.push_feedback()
        upload_scans(self.cache, self.credentials)  # of the operations the server stored
        summary.pulled = self.pull(summary)
        with self.cache.read() as session:
            summary.pending = pending_count(session)
        return summary


_COMMUNITY_CODE = ACCOUNT_ROW_FIELDS.index("community_code")


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Python's cycle collector run rarely meanwhile (process-wide, restored after). A page
    read is 160,000 new tuples and strings, none in a cycle, that live until it is stored: at
    the default threshold they set off hundreds of collections a page, which scan them again
    and again, a third of the time a page took to read."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], BOOTSTRAP_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _ticket(op: OutboxRow) -> QueueTicket | None:
    """The customer's queue ticket as recorded with the operation, if they had one."""
    if op.ticket_no is None or op.ticket_source is None:
        return None
    return QueueTicket(number=op.ticket_no, source=TicketSource(op.ticket_source),
                       issued_at=op.ticket_issued_at, called_at=op.ticket_called_at)
