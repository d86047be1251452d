"""Pull (changes after a cursor), bootstrap (the district's accounts in pages) and push."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from hallcore.wire import (
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    MAX_BOOTSTRAP_ROWS,
    MAX_INTEGER,
    MAX_PAGE,
    BootstrapPage,
    BootstrapRows,
    ChangesPage,
    PushRequest,
    PushResponse,
)
from hallserver.accounts import rows_to_wire
from hallserver.api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from hallserver.models import AccountRow, CommunityRow, DistrictRow
from hallserver.push import push_operations
from hallserver.terminals import terminal_facts

router = APIRouter(tags=["sync"])

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _json(page: BaseModel) -> Response:
    # Large pages: serialise the model once, without FastAPI validating it again.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/changes", response_model=ChangesPage)
def changes(caller: CallerDep, session: SessionDep,
            after: Annotated[int, Query(ge=0, le=MAX_INTEGER)] = 0,
            limit: PageSize = 1000) -> Response:
    """Accounts of the caller's district changed after the cursor, in sequence order, and
    what the server knows of the calling terminal (TerminalFacts)."""
    rows = session.scalars(
        select(AccountRow)
        .where(AccountRow.district == caller.district, AccountRow.seq > after)
        .order_by(AccountRow.seq)
        .limit(limit + 1)
    ).all()
    page = list(rows[:limit])
    return _json(ChangesPage(accounts=rows_to_wire(session, page),
                             next_cursor=page[-1].seq if page else after,
                             more=len(rows) > limit,
                             terminal=terminal_facts(session, caller.hall_id,
                                                     caller.terminal_id, datetime.now(UTC))))


AfterNumber = Annotated[str | None, Query(pattern=r"^\d{1,10}$")]
_ROW_COLUMNS = [AccountRow.__table__.c[name] for name in ACCOUNT_ROW_FIELDS]
_COMMUNITY_COLUMNS = [CommunityRow.__table__.c[name] for name in COMMUNITY_ROW_FIELDS]
_COMMUNITY_CODE = ACCOUNT_ROW_FIELDS.index("community_code")


def _bootstrap_start(session: Session, district: str, after: str | None) -> tuple[int, int | None]:
    """The district's sequence (the pull cursor) and, on the first page only, its size: the
    later pages stay a plain range read."""
    cursor = session.scalars(
        select(DistrictRow.last_seq).where(DistrictRow.code == district)).one()
    total = None if after is not None else session.scalar(
        select(func.count()).select_from(AccountRow).where(AccountRow.district == district))
    return cursor, total


def _bootstrap_page(session: Session, query: Select[Any], district: str, after: str | None,
                    limit: int) -> Select[Any]:
    """`query` narrowed to the page of the district's accounts after `after`, by number, one
    more than `limit` (whether a next page exists)."""
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
    return query.order_by(AccountRow.number).limit(limit + 1)


@router.get("/bootstrap", response_model=BootstrapPage)
def bootstrap(caller: CallerDep, session: SessionDep, after: AfterNumber = None,
              limit: PageSize = 2000) -> Response:
    """The district's accounts by number, a page at a time; resumable from any page."""
    cursor, total = _bootstrap_start(session, caller.district, after)
    rows = session.scalars(
        _bootstrap_page(session, select(AccountRow), caller.district, after, limit)).all()
    page = list(rows[:limit])
    return _json(BootstrapPage(accounts=rows_to_wire(session, page),
                               next_after=page[-1].number if len(rows) > limit else None,
                               cursor=cursor, total=total))


@router.get("/bootstrap/rows", response_model=BootstrapRows)
def bootstrap_rows(caller: CallerDep, session: SessionDep, after: AfterNumber = None,
                   limit: Annotated[int, Query(ge=1, le=MAX_BOOTSTRAP_ROWS)] = 5000,
                   ) -> Response:
    """The same pages as /bootstrap in compact form: an array per account, each community
    once. Read with Core, no ORM object per account."""
    cursor, total = _bootstrap_start(session, caller.district, after)
    # Core rows as plain tuples: no ORM object on the way, and pydantic reads a tuple four
    # times as fast as a Row.
    connection = session.connection()
    rows = [tuple(row) for row in connection.execute(
        _bootstrap_page(session, select(*_ROW_COLUMNS), caller.district, after, limit))]
    page = rows[:limit]
    codes = {row[_COMMUNITY_CODE] for row in page if row[_COMMUNITY_CODE] is not None}
    communities = [tuple(row) for row in connection.execute(
        select(*_COMMUNITY_COLUMNS).where(CommunityRow.code.in_(codes)))] if codes else []
    # Not strict: the database's values (an enum's value as text) made into the wire's types.
    return _json(BootstrapRows.model_validate({
        "rows": page, "communities": communities,
        "next_after": page[-1][0] if len(rows) > limit else None,
        "cursor": cursor, "total": total}, strict=False))


@router.post("/push", response_model=PushResponse)
def push(body: PushRequest, caller: CallerDep, engine: EngineDep,
         settings: SettingsDep) -> PushResponse:
    return PushResponse(results=push_operations(engine, settings, caller, body.operations))
