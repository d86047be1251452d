"""Request dependencies: the database session and the caller behind the bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, bindparam, exists, select
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallcore.domain.text import Text
from hallcore.wire import Role
from hallserver.api.errors import ApiError
from hallserver.auth_cache import CallerCache
from hallserver.context import Caller
from hallserver.models import ClerkRow, HallRow, TerminalKeyRow, TokenRow
from hallserver.security import token_hash
from hallserver.settings import ServerSettings
from hallserver.terminals import ACTIVE


# The dependencies that touch no database are coroutines: FastAPI runs a plain function in its
# thread pool, a hop that cost more than what it does.
async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def get_write_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once (on SQLite)."""
    with Session(writer(engine)) as session:
        yield session


_NOT_LOGGED_IN = ApiError(401, "not_authenticated", Text(
    "登录已失效，请重新登录", "not logged in or the session has expired; log in again"))
TERMINAL_RETIRED = ApiError(403, "terminal_retired", Text(
    "本终端已停用，不能再同步；如需继续使用，请重新安装并由主管批准",
    "this terminal was retired: it can no longer sync; to use it again, reinstall it and "
    "have a supervisor approve it"))

# The token's terminal still has an approved key: a retired terminal's tokens stop working at
# once (`hallserver terminals retire`), not when they expire. Part of the token's own SELECT,
# by the index on (hall_id, terminal_id, state): no query more per request.
_TERMINAL_ACTIVE = exists().where(TerminalKeyRow.hall_id == TokenRow.hall_id,
                                  TerminalKeyRow.terminal_id == TokenRow.terminal_id,
                                  TerminalKeyRow.state == ACTIVE).label("terminal_active")


async def get_caller(request: Request, engine: Annotated[Engine, Depends(get_engine)]
                     ) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _NOT_LOGGED_IN
    key, now = token_hash(token), datetime.now(UTC)
    # Verified callers are kept a while, forgotten when access changes (hallserver/auth_cache.py):
    # answered on the event loop; only a caller not in memory is read, in the thread pool.
    callers: CallerCache = request.app.state.callers
    caller = callers.get(key, now)
    if caller is None:
        caller = await run_in_threadpool(_read_caller, engine, callers, key, now)
    return caller


# The caller's facts only, read by Core on a connection of the pool: loading three ORM rows
# in a session of their own had cost six times the CPU (0.43 against 0.07 ms on SQLite), once
# a minute for each token a process holds (hallserver/auth_cache.py).
_CALLER = (select(TokenRow.revoked, TokenRow.expires_at, TokenRow.terminal_id, ClerkRow.login,
                  ClerkRow.role, ClerkRow.active, HallRow.id, HallRow.district,
                  _TERMINAL_ACTIVE)
           .join_from(TokenRow, ClerkRow, ClerkRow.login == TokenRow.clerk)
           .join(HallRow, HallRow.id == TokenRow.hall_id)
           .where(TokenRow.token_hash == bindparam("key"), TokenRow.kind == "access"))


def _read_caller(engine: Engine, callers: CallerCache, key: str, now: datetime) -> Caller:
    """The caller of the token hashed `key`, from the database, remembered; or ApiError."""
    epoch = callers.epoch()
    # A connection of its own, given back at once: a request must not hold one connection for
    # the caller while its handler waits for another (under load the pool would deadlock).
    with engine.connect() as connection:
        found = connection.execute(_CALLER, {"key": key}).one_or_none()
    if found is None:
        raise _NOT_LOGGED_IN
    revoked, expires_at, terminal_id, login, role, active, hall_id, district, terminal_active = (
        found)
    if revoked or not active or expires_at <= now:
        raise _NOT_LOGGED_IN
    if not terminal_active:
        raise TERMINAL_RETIRED
    caller = Caller(clerk=login, role=Role(role), hall_id=hall_id, terminal_id=terminal_id,
                    district=district)
    callers.remember(key, caller, expires_at, epoch)
    return caller


async def get_supervisor(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    """The caller, who must be a supervisor."""
    if caller.role is not Role.SUPERVISOR:
        raise ApiError(403, "supervisor_only", Text(
            "此功能仅限主管使用，请主管登录后查看",
            "only a supervisor may see this; ask a supervisor to log in"))
    return caller


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
SupervisorDep = Annotated[Caller, Depends(get_supervisor)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
