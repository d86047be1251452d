"""Writing what the server says into the cache.

The cache shows the server's state of an account with this terminal's pending operations
replayed on top (the optimistic view the clerk works with). Whenever the server's state of an
account arrives — pulled, or in the answer to a push — it replaces the cached one and the
still-pending operations are replayed, so a server change is never hidden by a local one and a
local one never vanishes before the server has answered it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Index, Table, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from hallclient.domain.business import BusinessKind, apply_change, check
from hallclient.domain.deadlines import HALL_TZ
from hallclient.store.accounts import load_account, save_account, save_community
from hallclient.store.models import AccountRow, CommunityRow, OutboxRow, TaskRow
from hallclient.wire import (
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    AccountRowWire,
    AccountWire,
    CommunityRowWire,
    OperationResult,
    Outcome,
)


def replay_pending(session: Session, number: str) -> None:
    """Put this terminal's pending operations back on top of the account's cached state."""
    account = load_account(session, number)
    if account is None:
        return
    pending = session.scalars(
        select(OutboxRow).where(OutboxRow.account_number == number,
                                OutboxRow.state == "pending").order_by(OutboxRow.seq)).all()
    for op in pending:
        kind = BusinessKind(op.business_type)
        # An operation the rules no longer allow stays pending; the server will say no.
        counter_day = op.created_at.replace(tzinfo=UTC).astimezone(HALL_TZ).date()
        if check(kind, account, op.payload, today=counter_day).allowed:
            account = apply_change(kind, account, op.payload)
    if pending:
        save_account(session, account)


def store_server_account(session: Session, wire: AccountWire) -> None:
    """Take the server's state of one account, unless the cache already has a newer one."""
    row = session.get(AccountRow, wire.number)
    if row is not None and row.server_seq > wire.seq:
        return
    if wire.community is not None:
        save_community(session, wire.community.to_domain())
        session.flush()
    save_account(session, wire.to_domain(), server_seq=wire.seq)
    session.flush()
    replay_pending(session, wire.number)


def _upsert(table: Table, key: str, columns: Sequence[str], where: str = "") -> str:
    """An INSERT of rows of `columns`, in that order, that updates the row with the same
    `key` instead (only if `where` holds). Column names are checked against the model."""
    names = [table.c[column].name for column in columns]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
    return (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
            f"({', '.join('?' * len(names))}) ON CONFLICT ({key}) DO UPDATE SET {updates}"
            + (f" WHERE {where}" if where else ""))


_ACCOUNTS = AccountRow.metadata.tables[AccountRow.__tablename__]
_COMMUNITIES = CommunityRow.metadata.tables[CommunityRow.__tablename__]
_UPSERT_COMMUNITIES = _upsert(_COMMUNITIES, "code", COMMUNITY_ROW_FIELDS)
# A bootstrap row's `seq` is the cache's `server_seq`; an older state never replaces a newer.
_UPSERT_ACCOUNTS = _upsert(
    _ACCOUNTS, "number",
    ["server_seq" if field == "seq" else field for field in ACCOUNT_ROW_FIELDS],
    where="accounts.server_seq <= excluded.server_seq")


def bulk_store_rows(session: Session, rows: Sequence[AccountRowWire],
                    communities: Sequence[CommunityRowWire]) -> None:
    """A bootstrap page's rows as they come, one executemany per table on the session's
    connection: no object or dict per account.

    Only for accounts no pending operation touches; the caller checks."""
    connection = session.connection()
    if communities:
        connection.exec_driver_sql(_UPSERT_COMMUNITIES, list(communities))
    if rows:
        connection.exec_driver_sql(_UPSERT_ACCOUNTS, list(rows))


def lookup_indexes() -> list[Index]:
    """The accounts' indexes by ID number, phone and community."""
    return sorted(_ACCOUNTS.indexes, key=lambda index: index.name or "")


def drop_lookup_indexes(session: Session) -> None:
    """Before a bootstrap: without the lookup indexes its rows are appended in number order,
    instead of each landing on a random page of three trees (at a million accounts that
    rewrote most of their pages at every page's commit). Until build_lookup_index has run for
    each, searches scan the table."""
    connection = session.connection()
    for index in lookup_indexes():
        connection.execute(DropIndex(index, if_exists=True))


def build_lookup_index(session: Session, index: Index) -> None:
    """One of the lookup indexes, unless it is there."""
    session.connection().execute(CreateIndex(index, if_not_exists=True))


def record_result(session: Session, op: OutboxRow, result: OperationResult,
                  now: datetime) -> Outcome:
    """Apply the server's answer to one pushed operation; returns its final outcome."""
    outcome = result.first_outcome if result.outcome is Outcome.DUPLICATE else result.outcome
    assert outcome is not None
    op.state = outcome.value
    op.result = result.model_dump(mode="json")
    op.last_error = None
    session.flush()
    if result.account is not None:
        if op.account_number is None:  # a new connection: the server gave it its number
            op.account_number = result.account.number
        store_server_account(session, result.account)
    if outcome in (Outcome.CONFLICT, Outcome.REJECTED):
        _open_task(session, op, result, outcome, now)
    return outcome


def _open_task(session: Session, op: OutboxRow, result: OperationResult, outcome: Outcome,
               now: datetime) -> None:
    if session.scalars(select(TaskRow).where(TaskRow.operation_id == op.operation_id)).first():
        return
    name, phone = _customer(op, result)
    reason_zh = result.reason.zh if result.reason else ""
    reason_en = result.reason.en if result.reason else ""
    if result.field_errors:
        reason_zh += "：" + "；".join(f"{k} {v.zh}" for k, v in result.field_errors.items())
        reason_en += ": " + "; ".join(f"{k} {v.en}" for k, v in result.field_errors.items())
    session.add(TaskRow(
        operation_id=op.operation_id, kind=outcome.value, created_at=now,
        account_number=op.account_number, customer_name=name, customer_phone=phone,
        business_type=op.business_type, server_reason_zh=reason_zh,
        server_reason_en=reason_en))


def _customer(op: OutboxRow, result: OperationResult) -> tuple[str | None, str | None]:
    """Whom to call back: the person who stood at the counter, as best known."""
    payload = op.payload
    for name_key, phone_key in (("new_holder_name", "new_holder_phone"),
                                ("applicant_name", "phone")):
        if name_key in payload:
            return payload[name_key], payload.get(phone_key)
    if result.account is not None:
        return result.account.holder_name, payload.get("phone") or result.account.phone
    return None, payload.get("phone")
