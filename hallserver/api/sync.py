"""Pull (changes after a cursor), bootstrap (the district's accounts in pages) and push."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import to_json
from sqlalchemy import ColumnElement, Engine, Select, case, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.datastructures import State

from hallcore.domain.accounts import ACCOUNT_FIELDS, AccountField
from hallcore.wire import (
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    MAX_BOOTSTRAP_ROWS,
    MAX_CHANGES_WAIT,
    MAX_INTEGER,
    MAX_PAGE,
    BootstrapCommunities,
    BootstrapPage,
    BootstrapRows,
    ChangesPage,
    PushRequest,
    PushResponse,
)
from hallserver.accounts import rows_to_wire
from hallserver.api.deps import CallerDep, EngineDep, SettingsDep, get_caller
from hallserver.api.errors import ApiError
from hallserver.changes import PullRequest, WaitingPulls, read_changes
from hallserver.glance import Glances
from hallserver.json_sql import json_row, json_rows
from hallserver.models import AccountRow, CommunityRow
from hallserver.push import push_operations
from hallserver.replica import bootstrap_session, read_engine

log = logging.getLogger(__name__)
router = APIRouter(tags=["sync"])

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE)]


class PullQuery(BaseModel):
    """GET /changes' query. Validated by the route itself, at once: the pull is the most
    frequent request, and FastAPI resolving its parameters and dependencies cost more than
    the pull's own work."""

    after: int = Field(0, ge=0, le=MAX_INTEGER, description="the change cursor")
    limit: int = Field(1000, ge=1, le=MAX_PAGE)
    wait: int = Field(0, ge=0, le=MAX_CHANGES_WAIT, description=(
        "seconds to hold the pull while nothing is new: answered at the district's next "
        "change, else empty at the end"))
    claims_after: int | None = Field(None, ge=0, le=MAX_INTEGER, description=(
        "the claims cursor; without it the page carries no claims"))
    stream: bool = Field(False, description=(
        "answer with server-sent events: a page (`data:`) at each change, for minutes"))


def _json(page: BaseModel) -> Response:
    # Large pages: serialise the model once, without FastAPI validating it again.
    return Response(page.model_dump_json(), media_type="application/json")


# With `stream`: an event whose data is a ChangesPage at each change, comments between.
_CHANGE_EVENTS = {"text/event-stream": {"schema": {
    "type": "object", "required": ["data"],
    "properties": {"data": {"type": "string", "contentMediaType": "application/json",
                            "contentSchema": {"$ref": "#/components/schemas/ChangesPage"}}}}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI description of `model`'s fields as optional query parameters."""
    properties: dict[str, dict[str, Any]] = model.model_json_schema()["properties"]
    return [{"name": name, "in": "query", "required": False,
             "schema": {key: value for key, value in schema.items() if key != "description"},
             **({"description": schema["description"]} if "description" in schema else {})}
            for name, schema in properties.items()]


def _pull_query(request: Request) -> PullQuery:
    try:
        return PullQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:  # refused as FastAPI refuses a query it validates itself
        raise RequestValidationError([{**error, "loc": ("query", *error["loc"])}
                                      for error in exc.errors()]) from None


@router.get("/changes", response_model=ChangesPage, responses={200: {"content": _CHANGE_EVENTS}},
            openapi_extra={"parameters": _query_parameters(PullQuery)})
async def changes(http_request: Request) -> Response:
    """Accounts of the caller's district changed after the cursor, in sequence order, the
    district's claims changed after the claims cursor, and what the server knows of the
    calling terminal (TerminalFacts). With `wait`, held until the district has news; with
    `stream`, a page at each change for minutes (server-sent events). Neither holds a thread
    or a database connection while nothing happens (hallserver/notify.py)."""
    state = http_request.app.state
    engine: Engine = state.engine
    caller = await get_caller(http_request, engine)
    query = _pull_query(http_request)
    request = PullRequest(caller, query.after, query.claims_after, query.limit)
    pulls: WaitingPulls = state.waiting_pulls
    if query.stream:
        # Held pulls read the primary: they are woken by its notices, and the replica may not
        # have replayed what woke them. Their reads are shared (one a district a change).
        async def still_allowed() -> bool:
            try:
                return await get_caller(http_request, engine) == caller
            except ApiError:
                return False

        return StreamingResponse(pulls.stream_changes(engine, request, still_allowed),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})  # a proxy passes it on
    if query.wait == 0:
        return _json(await _read_at_once(state, request))
    return Response(await pulls.wait_for_changes(engine, request, query.wait),
                    media_type="application/json")


async def _read_at_once(state: State, request: PullRequest) -> ChangesPage:
    """A plain pull, on the replica when it holds the district up to the terminal's cursors
    (so the cursor answered is never older than the terminal's own), else on the primary; a
    replica that fails mid-read sends the pull to the primary, not an error to the terminal.
    A glance first where one can be taken: most pulls find nothing new (hallserver/glance.py)."""
    source = read_engine(state, request.caller.district, request.after,
                         request.claims_after or 0)
    glances: Glances | None = state.glances.get(source)
    if glances is not None:
        caller = request.caller
        page = await glances.empty_page_soon(caller.hall_id,
                                             caller.terminal_id, request.after,
                                             request.claims_after)
        if page is not None:
            return page
    return await run_in_threadpool(_read_changes, state, source, request)


def _read_changes(state: State, source: Engine, request: PullRequest) -> ChangesPage:
    primary: Engine = state.engine
    try:
        return read_changes(source, request)
    except OperationalError:
        if source is primary:
            raise
        return read_changes(primary, request)


AfterNumber = Annotated[str | None, Query(pattern=r"^\d{1,10}$")]
_ROW_COLUMNS = [AccountRow.__table__.c[name] for name in ACCOUNT_ROW_FIELDS]
_COMMUNITY_COLUMNS = [CommunityRow.__table__.c[name] for name in COMMUNITY_ROW_FIELDS]
_COMMUNITY_CODE = ACCOUNT_ROW_FIELDS.index("community_code")


@contextmanager
def _bootstrap_start(request: Request, district: str, after: str | None
                     ) -> Iterator[tuple[Session, int, int | None]]:
    """A session to read the page in, on the replica when it may serve this page
    (hallserver/replica.py, bootstrap_session: why the cursor stays one the terminal's pulls
    continue from), the district's sequence read first in it (the pull cursor) and, on the
    first page only, its size: the later pages stay a plain range read."""
    session, cursor = bootstrap_session(request.app.state, district,
                                        later_page=after is not None)
    with session:
        total = None if after is not None else session.scalar(
            select(func.count()).select_from(AccountRow).where(AccountRow.district == district))
        yield session, cursor, total


def _bootstrap_page(session: Session, query: Select[Any], district: str, after: str | None,
                    rows: int) -> Select[Any]:
    """`query` narrowed to the first `rows` of the district's accounts after `after`, by
    number."""
    in_district: ColumnElement[bool] = AccountRow.district == district
    if session.get_bind().dialect.name == "sqlite":
        # Read along the primary key. Without statistics SQLite took ix_accounts_district_seq
        # and sorted the whole district for every page: a bootstrap took time quadratic in the
        # district's size. likely() tells it the district filters little (PostgreSQL's planner
        # knows that from its statistics).
        in_district = func.likely(in_district)
    query = query.where(in_district)
    if after is not None:
        query = query.where(AccountRow.number > after)
    return query.order_by(AccountRow.number).limit(rows)


@router.get("/bootstrap", response_model=BootstrapPage)
def bootstrap(caller: CallerDep, request: Request, after: AfterNumber = None,
              limit: PageSize = 2000) -> Response:
    """The district's accounts by number, a page at a time; resumable from any page."""
    with _bootstrap_start(request, caller.district, after) as (session, cursor, total):
        # One more than the page: whether a next page exists.
        rows = session.scalars(_bootstrap_page(session, select(AccountRow), caller.district,
                                               after, limit + 1)).all()
        page = list(rows[:limit])
        accounts = rows_to_wire(session, page)
    return _json(BootstrapPage(accounts=accounts,
                               next_after=page[-1].number if len(rows) > limit else None,
                               cursor=cursor, total=total))


def _closed_values(declared: AccountField) -> frozenset[object] | None:
    """The values the wire takes of a field the database keeps as plain text of a closed set
    (an enum's value, a Literal's); None for any other field. NULL is taken where the field is
    optional, and kept out by the column where it is not."""
    kind = declared.value_type
    if isinstance(kind, type) and issubclass(kind, Enum):
        return frozenset(member.value for member in kind)
    if get_origin(kind) is Literal:
        return frozenset(get_args(kind))
    return None


# Each such field's name, position in a row, and values.
_CLOSED_FIELDS = [(declared.name, ACCOUNT_ROW_FIELDS.index(declared.name), values)
                  for declared in ACCOUNT_FIELDS
                  if (values := _closed_values(declared)) is not None]


def _refuse_unknown_values(district: str, unknown: dict[str, int]) -> None:
    """Raises ValueError where rows hold a value outside an enum's or a Literal's set (`unknown`:
    how many, by field): a text column can hold one (no constraint keeps it out), and a
    terminal refuses the whole page for it. The page is answered as a 500 instead, the district
    and fields logged (no account: its row may hold anything)."""
    for name, count in unknown.items():
        if count:
            problem = (f"a bootstrap page of district {district}: {count} account(s) with a "
                       f"{name} the wire does not take")
            log.error("%s", problem)
            raise ValueError(problem)


@dataclass(frozen=True)
class _WrittenPage:
    """A compact page's accounts and communities as JSON arrays, and where the next page
    starts (None: this is the last)."""

    rows: bytes
    communities: bytes
    next_after: str | None


def _communities_carried(which: BootstrapCommunities, district: str,
                         page_codes: Select[Any] | set[str]) -> ColumnElement[bool] | None:
    """Which communities a page carries (BootstrapCommunities), as a condition on them; None
    for none. `page_codes`: the codes the page's rows name."""
    if which == "none":
        return None
    if which == "district":
        return CommunityRow.district == district
    return CommunityRow.code.in_(page_codes)


def _written_by_sqlite(session: Session, district: str, after: str | None, limit: int,
                       which: BootstrapCommunities) -> _WrittenPage:
    """The page's JSON written by SQLite (hallserver/json_sql.py), the enums' values counted
    in the same statement: a third of the CPU of reading the rows into Python and writing them
    out again. (PostgreSQL 15's json_build_array costs more than that: _written_in_python.)"""
    connection = session.connection()
    page = _bootstrap_page(session, select(
        AccountRow.number, *(AccountRow.__table__.c[name] for name, _, _ in _CLOSED_FIELDS),
        json_row(*_ROW_COLUMNS).label("row")), district, after, limit).subquery()
    written = connection.execute(select(
        json_rows(page.c.row), func.count(), func.max(page.c.number),
        *(func.sum(case((page.c[name].not_in(sorted(values)), 1), else_=0))
          for name, _, values in _CLOSED_FIELDS))).one()
    rows, count, last = written[:3]
    _refuse_unknown_values(district, dict(zip((name for name, _, _ in _CLOSED_FIELDS),
                                              written[3:], strict=True)))
    # The page read again for its communities alone: its JSON is not written twice.
    carried = _communities_carried(which, district, _bootstrap_page(
        session, select(AccountRow.community_code), district, after, limit))
    communities = b"[]" if carried is None else connection.execute(
        select(json_rows(json_row(*_COMMUNITY_COLUMNS))).where(carried)).scalar_one()
    # A full page is followed by another if an account comes after its last.
    more = count == limit and connection.scalar(_bootstrap_page(
        session, select(AccountRow.number), district, last, 1)) is not None
    return _WrittenPage(rows, communities, last if more else None)


def _written_in_python(session: Session, district: str, after: str | None, limit: int,
                       which: BootstrapCommunities) -> _WrittenPage:
    """The page read with Core as plain tuples, fetched at once (iterating the result fetched
    them one at a time from the driver, for a quarter more CPU), written as they are: the
    columns' values are the wire's already (text, whole numbers, yes/no, dates; an enum by its
    value, as text), only the enums' values checked. Validating every row with BootstrapRows
    and writing the model took near the CPU of reading the rows, three times that of this."""
    connection = session.connection()
    # One more than the page: whether a next page exists.
    rows = [tuple(row) for row in connection.execute(_bootstrap_page(
        session, select(*_ROW_COLUMNS), district, after, limit + 1)).all()]
    page = rows[:limit]
    unknown = {}
    for name, position, values in _CLOSED_FIELDS:
        if {row[position] for row in page} - values - {None}:
            unknown[name] = sum(row[position] is not None and row[position] not in values
                                for row in page)
    _refuse_unknown_values(district, unknown)
    codes = {row[_COMMUNITY_CODE] for row in page if row[_COMMUNITY_CODE] is not None}
    carried = _communities_carried(which, district, codes)
    communities = [tuple(row) for row in connection.execute(
        select(*_COMMUNITY_COLUMNS).where(carried)).all()] if carried is not None else []
    return _WrittenPage(to_json(page), to_json(communities),
                        page[-1][0] if len(rows) > limit else None)


@router.get("/bootstrap/rows", response_model=BootstrapRows)
def bootstrap_rows(caller: CallerDep, request: Request, after: AfterNumber = None,
                   limit: Annotated[int, Query(ge=1, le=MAX_BOOTSTRAP_ROWS)] = 5000,
                   communities: BootstrapCommunities = "page") -> Response:
    """The same pages as /bootstrap in compact form: an array per account, each community
    once (or the district's, or none: `communities`); no ORM object per account, and on
    SQLite no Python object per account either."""
    with _bootstrap_start(request, caller.district, after) as (session, cursor, total):
        write = (_written_by_sqlite if session.get_bind().dialect.name == "sqlite"
                 else _written_in_python)
        page = write(session, caller.district, after, limit, communities)
    rest = to_json({"next_after": page.next_after, "cursor": cursor, "total": total})
    return Response(b'{"rows":' + page.rows + b',"communities":' + page.communities + b","
                    + rest[1:], media_type="application/json")


@router.post("/push", response_model=PushResponse)
def push(body: PushRequest, caller: CallerDep, engine: EngineDep,
         settings: SettingsDep) -> PushResponse:
    return PushResponse(results=push_operations(engine, settings, caller, body.operations))
