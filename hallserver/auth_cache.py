"""The callers this process has verified, kept for a while so that a request need not ask the
database who calls (hallserver/api/deps.py), and forgotten as soon as access changes.

What ends a caller's access (a logout, a revoked or expired token, a deactivated or moved
clerk, a retired or replaced terminal key, a hall moved to another district) is a write to the
tokens, clerks, halls or terminal_keys table. Every such write through an ORM session of any
HallServer process is seen by the session events below, installed when this module is imported
(hallserver/admin.py and hallserver/terminals.py import it, so the operator's commands have
them too):
- in the writing process, every cache forgets everything when the transaction commits;
- on PostgreSQL the transaction also sends NOTIFY hallserver_access, delivered at its commit;
  each server process listens on a connection of its own and forgets everything.

A write made around HallServer (psql), or one whose notice was lost (the listening connection
down), is caught by the hold: an entry is believed for at most HOLD_LISTENING while this
process listens, HOLD_UNHEARD otherwise (SQLite, where a second process such as an operator's
command cannot tell this one). docs/SECURITY.md states the window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, object_session

from hallserver.context import Caller
from hallserver.listening import LISTEN_TICK, listen_until_stopped
from hallserver.models import ClerkRow, HallRow, TerminalKeyRow, TokenRow

CHANNEL = "hallserver_access"
# How long a verified caller is believed without asking the database again: while this process
# listens for access changes, only writes around HallServer wait for this; otherwise every
# change made by another process does. A terminal pulls every 30 s: a minute keeps its caller.
HOLD_LISTENING = 60.0
HOLD_UNHEARD = 5.0
# Entries past this many are all forgotten (a token is 64 bytes of key and a small caller).
MAX_ENTRIES = 50_000

_WATCHED: tuple[type, ...] = (TokenRow, ClerkRow, HallRow, TerminalKeyRow)
_CHANGED = "hallserver_access_changed"


class _Epoch:
    """How often access may have changed, as this process knows: an entry remembered at an
    earlier epoch is not believed. Process-wide, as the writers (the operator's commands, the
    tests) do not hold the server's app."""

    def __init__(self) -> None:
        self.value = 0
        self._moved = threading.Condition()

    def advance(self) -> None:
        with self._moved:
            self.value += 1
            self._moved.notify_all()

    def wait_beyond(self, value: int, timeout: float) -> bool:
        """Whether the epoch moved past `value` within `timeout` seconds."""
        with self._moved:
            return self._moved.wait_for(lambda: self.value > value, timeout)


ACCESS_CHANGES = _Epoch()


def _announce(session: Session, connection: Connection) -> None:
    """This transaction changes who may call: told to this process at its commit, and to every
    process listening on PostgreSQL (a NOTIFY is delivered at commit, once per transaction)."""
    session.info[_CHANGED] = True
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}")


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    """An UPDATE or DELETE statement on a watched table (`update(TokenRow)...`)."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and (
            state.bind_mapper.class_ in _WATCHED):
        _announce(state.session, state.session.connection(bind_arguments=state.bind_arguments))


def _row(_mapper: Mapper[object], connection: Connection, target: object) -> None:
    """A watched row changed or deleted by a flush (`clerk.active = False`)."""
    session = object_session(target)
    if session is not None:
        _announce(session, connection)


for _model in _WATCHED:
    event.listen(_model, "after_update", _row)
    event.listen(_model, "after_delete", _row)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        ACCESS_CHANGES.advance()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    expires_at: datetime  # the token's
    remembered_at: float  # by the cache's clock
    epoch: int


class CallerCache:
    """Verified callers by their token's hash. `epoch()` is taken before the database is read,
    and the caller read is remembered with it: access that changed meanwhile makes it stale
    at once, whichever of the read and the notice came first."""

    def __init__(self, engine: Engine, *, listen: bool = True,
                 hold_listening: float = HOLD_LISTENING, hold_unheard: float = HOLD_UNHEARD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, _Entry] = {}
        self._listener = _Listener(engine) if listen and (
            engine.dialect.name == "postgresql") else None
        self._hold_listening, self._hold_unheard = hold_listening, hold_unheard
        self._clock = clock

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.connected

    def epoch(self) -> int:
        return ACCESS_CHANGES.value

    def get(self, key: str, now: datetime) -> Caller | None:
        """The caller of this token hash, if verified recently enough and nothing changed."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        hold = self._hold_listening if self.listening else self._hold_unheard
        if entry.epoch != ACCESS_CHANGES.value or entry.expires_at <= now or (
                self._clock() - entry.remembered_at >= hold):
            self._entries.pop(key, None)
            return None
        return entry.caller

    def remember(self, key: str, caller: Caller, expires_at: datetime, epoch: int) -> None:
        if self._listener is not None:
            self._listener.start()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(caller, expires_at, self._clock(), epoch)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()


class _Listener:
    """LISTEN hallserver_access on a connection of its own, in a thread started with the first
    caller remembered. Each notice, and each (re)connection (notices may have been missed
    while none listened), moves the epoch on."""

    def __init__(self, engine: Engine) -> None:
        self._url = engine.url
        self.connected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="hallserver-access",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(LISTEN_TICK + 1)

    def _run(self) -> None:
        listen_until_stopped(self._url, CHANNEL, self._stop, what="access changes",
                             on_listening=self._listening,
                             on_notice=lambda _payload: ACCESS_CHANGES.advance(),
                             on_lost=self._lost)

    def _listening(self) -> None:
        ACCESS_CHANGES.advance()  # what changed while no connection listened
        self.connected = True

    def _lost(self) -> None:
        self.connected = False
