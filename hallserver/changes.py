"""A pull's page: the district's accounts changed after a cursor, its claims changed after
another (the district's news, the same for every terminal asking with those cursors), and what
the server knows of the calling terminal. Read with Core, no ORM object per account; nothing
new is told by one read of the district's two cursors.

A pull that waits (hallserver/notify.py) shares each read of its district's news with every
pull asking with the same cursors, and its terminal's facts for a few seconds with the
terminal's next pulls: a thousand terminals woken by a change, and asking again after it, cost
the database a few queries, not thousands.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from hallcore.wire import (
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    MAX_CHANGES_WAIT,
    AccountClaim,
    AccountWire,
    ChangesPage,
    IsoTime,
    TerminalFacts,
)
from hallserver.claims import claims_after
from hallserver.context import Caller
from hallserver.models import AccountRow, CommunityRow, DistrictRow
from hallserver.notify import DistrictWaits, SharedReads
from hallserver.terminals import terminal_facts

# How long a waiting pull's answer or a stream's page may carry facts read for an earlier one
# of its terminal (a pull that does not wait reads them; the terminal's sync rounds do).
FACTS_FRESH_FOR = 60.0
# A stream of changes ends after this long (the terminal asks again); a comment is sent on it
# while nothing changes, so that a connection gone dead is noticed at both ends.
STREAM_SECONDS = 600.0
HEARTBEAT_SECONDS = 25.0
_FACTS_KEPT = 10_000  # terminals' facts kept before the stale ones are dropped
_TIME = TypeAdapter(IsoTime)

_ROW_COLUMNS = [AccountRow.__table__.c[name] for name in ACCOUNT_ROW_FIELDS]
_COMMUNITY_COLUMNS = [CommunityRow.__table__.c[name] for name in COMMUNITY_ROW_FIELDS]


@dataclass(frozen=True, slots=True)
class PullRequest:
    caller: Caller
    after: int  # the change cursor
    claims_after: int | None  # the claims cursor; None: no claims wanted (an older terminal)
    limit: int

    @property
    def question(self) -> tuple[str, int, int | None, int]:
        """What the news depends on: the same for every terminal of the district asking it."""
        return self.caller.district, self.after, self.claims_after, self.limit


@dataclass(frozen=True)
class News:
    accounts: list[AccountWire]
    next_cursor: int
    more: bool
    claims: list[AccountClaim]
    claims_cursor: int

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.claims)

    def page(self, facts: TerminalFacts) -> ChangesPage:
        # Validated once for every terminal the news goes to: no validation again.
        return ChangesPage.model_construct(
            accounts=self.accounts, next_cursor=self.next_cursor, more=self.more,
            terminal=facts, claims=self.claims, claims_cursor=self.claims_cursor,
            wait_max=MAX_CHANGES_WAIT)

    @cached_property
    def _shared_json(self) -> bytes:
        """The page's JSON but the terminal's facts, open at its end: written once for all
        the terminals the news goes to, not once a terminal."""
        page = ChangesPage.model_construct(
            accounts=self.accounts, next_cursor=self.next_cursor, more=self.more,
            claims=self.claims, claims_cursor=self.claims_cursor, wait_max=MAX_CHANGES_WAIT)
        return page.model_dump_json(exclude={"terminal"}).encode()[:-1]

    def page_json(self, facts_json: bytes) -> bytes:
        """The page as JSON, given the terminal's facts as JSON."""
        return self._shared_json + b',"terminal":' + facts_json + b"}"


def _accounts(connection: Connection, district: str, after: int, limit: int
              ) -> list[dict[str, Any]]:
    """Up to `limit` + 1 accounts changed after `after`, as AccountWire's values."""
    rows = [dict(zip(ACCOUNT_ROW_FIELDS, row, strict=True)) for row in connection.execute(
        select(*_ROW_COLUMNS)
        .where(AccountRow.district == district, AccountRow.seq > after)
        .order_by(AccountRow.seq).limit(limit + 1))]
    codes = {row["community_code"] for row in rows[:limit] if row["community_code"]}
    communities = {row[0]: dict(zip(COMMUNITY_ROW_FIELDS, row, strict=True))
                   for row in connection.execute(
                       select(*_COMMUNITY_COLUMNS).where(CommunityRow.code.in_(codes)))
                   } if codes else {}
    for row in rows:
        row["community"] = communities.get(row.pop("community_code"))
    return rows


def _read_news(connection: Connection, request: PullRequest, now: datetime) -> News:
    """`next_cursor` may pass the last account sent: the numbers up to the district's cursor,
    read first, were all committed before the accounts were read."""
    district = request.caller.district
    seq, claim_seq = connection.execute(
        select(DistrictRow.last_seq, DistrictRow.last_claim_seq)
        .where(DistrictRow.code == district)).one()
    rows = _accounts(connection, district, request.after, request.limit) \
        if seq > request.after else []
    more = len(rows) > request.limit
    rows = rows[:request.limit]
    cursor = rows[-1]["seq"] if more else max(seq, rows[-1]["seq"] if rows else 0,
                                              request.after)
    claims_cursor = request.claims_after or 0
    claims: list[AccountClaim] = []
    if request.claims_after is not None and claim_seq > request.claims_after:
        claims, claims_cursor = claims_after(connection, district, request.claims_after,
                                             claim_seq, now)
    # Not strict: the database's values (an enum's value as text) made into the wire's types.
    return News([AccountWire.model_validate(row, strict=False) for row in rows], cursor, more,
                claims, claims_cursor)


def read_news(engine: Engine, request: PullRequest) -> News:
    with engine.connect() as connection:
        return _read_news(connection, request, datetime.now(UTC))


def _read_facts(connection: Connection, caller: Caller, now: datetime) -> TerminalFacts:
    with Session(bind=connection) as session:
        return terminal_facts(session, caller.hall_id, caller.terminal_id, now)


def read_facts(engine: Engine, caller: Caller) -> TerminalFacts:
    with engine.connect() as connection:
        return _read_facts(connection, caller, datetime.now(UTC))


def read_changes(engine: Engine, request: PullRequest) -> ChangesPage:
    """A pull answered at once (no `wait`): its facts read with it."""
    now = datetime.now(UTC)
    with engine.connect() as connection:
        news = _read_news(connection, request, now)
        facts = _read_facts(connection, request.caller, now)
    return news.page(facts)


class WaitingPulls:
    """What the waiting pulls of one server process share: the wake-ups of their districts,
    one read of a district's news for all the pulls woken with the same cursors, and each
    terminal's facts for FACTS_FRESH_FOR seconds (a thousand terminals asking again after
    every change would otherwise read them a thousand times a change)."""

    def __init__(self, engine: Engine, *, listen: bool = True) -> None:
        self.waits = DistrictWaits(engine, listen=listen)
        self.news: SharedReads[News] = SharedReads()
        self.facts: SharedReads[TerminalFacts] = SharedReads()
        # By terminal: when its facts were read, and their JSON but the server's time, open
        # at its end (the time is the only part that changes from one page to the next).
        self._facts: dict[tuple[str, str], tuple[float, bytes]] = {}

    def close(self) -> None:
        self.waits.close()

    async def facts_json(self, engine: Engine, caller: Caller) -> bytes:
        """The terminal's facts as JSON, read at most FACTS_FRESH_FOR seconds ago, with the
        server's time now."""
        key = caller.hall_id, caller.terminal_id
        kept = self._facts.get(key)
        if kept is None or time.monotonic() - kept[0] > FACTS_FRESH_FOR:
            read_at = time.monotonic()
            facts = await self.facts.read(key, partial(read_facts, engine, caller))
            self._facts[key] = kept = (
                read_at, facts.model_dump_json(exclude={"server_time"}).encode()[:-1])
            self._forget_stale()
        return kept[1] + b',"server_time":' + _TIME.dump_json(datetime.now(UTC)) + b"}"

    def _forget_stale(self) -> None:
        if len(self._facts) > _FACTS_KEPT:
            now = time.monotonic()
            self._facts = {key: kept for key, kept in self._facts.items()
                           if now - kept[0] <= FACTS_FRESH_FOR}

    async def wait_for_changes(self, engine: Engine, request: PullRequest, wait: float
                               ) -> bytes:
        """The pull's page (JSON) as soon as its district has news for it, else empty after
        `wait` seconds. Holds no thread and no connection while it waits."""
        deadline = time.monotonic() + wait
        waits = self.waits
        while True:
            # Watching before each read: a change committed after the read wakes this pull.
            with waits.watching(request.caller.district) as watch:
                news = await self.news.read((watch.generation, request.question),
                                            partial(read_news, engine, request))
                left = deadline - time.monotonic()
                if not news.empty or left <= 0 or waits.closed:
                    break
                if not await watch.woken_within(left):
                    break  # ended empty: the news read just before the wait
        return news.page_json(await self.facts_json(engine, request.caller))

    async def stream_changes(self, engine: Engine, request: PullRequest,
                             still_allowed: Callable[[], Awaitable[bool]]
                             ) -> AsyncIterator[bytes]:
        """The district's news as server-sent events: a page whenever there is news after
        the cursors (which then move on), a comment every HEARTBEAT_SECONDS while there is
        none, for STREAM_SECONDS (the terminal then asks again, its token checked again).
        One request for many changes: a thousand terminals cost the server one written
        event each per change, not a request each. Before each comment the caller's token is
        checked again (`still_allowed`, from the callers' cache): a logout, a revoked token
        or a retired terminal ends the stream within HEARTBEAT_SECONDS, not at its end."""
        deadline = time.monotonic() + STREAM_SECONDS
        # Read now, while the stream starts: not for a thousand terminals at its first change.
        await self.facts_json(engine, request.caller)
        while time.monotonic() < deadline and not self.waits.closed:
            # Watching before each read: a change committed after the read wakes the stream.
            with self.waits.watching(request.caller.district) as watch:
                news = await self.news.read((watch.generation, request.question),
                                            partial(read_news, engine, request))
                if not news.empty:
                    facts = await self.facts_json(engine, request.caller)
                    yield b"data: " + news.page_json(facts) + b"\n\n"
                    request = replace(request, after=news.next_cursor, claims_after=(
                        None if request.claims_after is None else news.claims_cursor))
                    if news.more or watch.woken.done():
                        continue  # read on at once
                # All the news read was sent: the watch entered before the read tells of
                # what came after it, with no read more per change.
                left = min(HEARTBEAT_SECONDS, deadline - time.monotonic())
                if not await watch.woken_within(left):
                    if not await still_allowed():
                        return
                    yield b": waiting\n\n"
