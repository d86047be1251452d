"""Writing what the server says into the cache.

The cache shows the server's state of an account with this terminal's pending operations
replayed on top (the optimistic view the clerk works with). Whenever the server's state of an
account arrives — pulled, or in the answer to a push — it replaces the cached one and the
still-pending operations are replayed, so a server change is never hidden by a local one and a
local one never vanishes before the server has answered it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from hallclient.store.accounts import load_account, save_account, save_community
from hallclient.store.models import AccountRow, CommunityRow, OutboxRow, TaskRow
from hallcore.domain.business import BusinessKind, apply_change, check
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import (
    ACCOUNT_FIELD_NAMES,
    ACCOUNT_ROW_FIELDS,
    COMMUNITY_ROW_FIELDS,
    AccountRowWire,
    AccountWire,
    CommunityRowWire,
    OperationResult,
    Outcome,
    RefusalCode,
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
        counter_day = op.created_at.astimezone(HALL_TZ).date()
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
    """The accounts' indexes by ID number and by a phone's last digits (a whole phone too)."""
    return sorted(_ACCOUNTS.indexes, key=lambda index: index.name or "")


def drop_lookup_indexes(session: Session) -> None:
    """Before a bootstrap: without the lookup indexes its rows are appended in number order,
    instead of each landing on a random page of two more trees (at a million accounts that
    rewrote most of their pages at every page's commit). Until build_lookup_index has run for
    each, searches scan the table."""
    connection = session.connection()
    for index in lookup_indexes():
        connection.execute(DropIndex(index, if_exists=True))


def build_lookup_index(session: Session, index: Index) -> None:
    """One of the lookup indexes, unless it is there. Its sort runs on helper threads, one per
    core (SQLite takes at most 8): at a million accounts, near a third less time on two."""
    connection = session.connection()
    connection.exec_driver_sql(f"PRAGMA threads = {os.cpu_count() or 1}")
    connection.execute(CreateIndex(index, if_not_exists=True))


@dataclass(frozen=True, slots=True)
class Pushed:
    """What an answer's bookkeeping needs of an outbox row."""

    seq: int
    operation_id: str
    account_number: str | None
    business_type: str
    payload: dict[str, Any]


_OUTBOX = OutboxRow.metadata.tables[OutboxRow.__tablename__]
_ANSWERED = (update(_OUTBOX).where(_OUTBOX.c.seq == bindparam("b_seq"))
             .values(state=bindparam("b_state"), result=bindparam("b_result"),
                     account_number=bindparam("b_account"), last_error=None))
_HELD = (update(_OUTBOX).where(_OUTBOX.c.seq == bindparam("b_seq"))
         .values(last_error=bindparam("b_error")))


def record_results(session: Session, results: Sequence[OperationResult], now: datetime
                   ) -> list[Outcome | None]:
    """The server's answers to a pushed batch, in one transaction and a handful of statements:
    each pending operation's outcome, the accounts the answers carry (each once, its newest
    state), conflict and rejection tasks. Returns each answer's final outcome, None for an
    operation answered already (a second copy of a batch).

    As if the answers were recorded one by one, except that an operation answered in this
    batch is never replayed on an account state sent in the same answer."""
    rows = {row.operation_id: row for row in session.execute(
        select(_OUTBOX.c.seq, _OUTBOX.c.operation_id, _OUTBOX.c.account_number,
               _OUTBOX.c.business_type, _OUTBOX.c.payload, _OUTBOX.c.state)
        .where(_OUTBOX.c.operation_id.in_({r.operation_id for r in results})))}
    outcomes: list[Outcome | None] = []
    answered: list[dict[str, Any]] = []
    done: set[int] = set()
    tasks: list[tuple[Pushed, OperationResult, Outcome]] = []
    newest: dict[str, AccountWire] = {}  # by number; the later of equal sequence numbers
    held: list[dict[str, Any]] = []
    for result in results:
        row = rows[result.operation_id]
        if row.state != "pending" or row.seq in done:
            outcomes.append(None)  # answered already (a second copy of this batch)
            continue
        if result.code is RefusalCode.TOO_OLD:
            # Not stored by the server: it waits here for a supervisor's extension.
            assert result.reason is not None
            held.append({"b_seq": row.seq, "b_error": result.reason.zh})
            outcomes.append(None)
            continue
        done.add(row.seq)
        outcome = result.first_outcome if result.outcome is Outcome.DUPLICATE else result.outcome
        assert outcome is not None
        account = result.account
        op = Pushed(row.seq, row.operation_id,
                    row.account_number or (account.number if account else None),
                    row.business_type, row.payload)
        answered.append({"b_seq": op.seq, "b_state": outcome.value,
                         "b_result": result.model_dump(mode="json"),
                         "b_account": op.account_number})
        if account is not None and (account.number not in newest
                                    or newest[account.number].seq <= account.seq):
            newest[account.number] = account
        if outcome in (Outcome.CONFLICT, Outcome.REJECTED):
            tasks.append((op, result, outcome))
        outcomes.append(outcome)
    if answered:
        session.connection().execute(_ANSWERED, answered)
    if held:
        session.connection().execute(_HELD, held)
    _store_answered_accounts(session, list(newest.values()))
    for op, result, outcome in tasks:
        _open_task(session, op, result, outcome, now)
    return outcomes


def _store_answered_accounts(session: Session, accounts: list[AccountWire]) -> None:
    """Accounts no pending operation touches are written in bulk, the others one by one with
    their pending operations replayed."""
    if not accounts:
        return
    replayed = set(session.scalars(select(OutboxRow.account_number).where(
        OutboxRow.state == "pending",
        OutboxRow.account_number.in_([a.number for a in accounts]))))
    plain = [a for a in accounts if a.number not in replayed]
    communities = {a.community.code: a.community for a in plain if a.community is not None}
    bulk_store_rows(session, [_row(a) for a in plain], [
        (c.code, c.name, c.households, c.manager_name, c.manager_phone)
        for c in communities.values()])
    for account in accounts:
        if account.number in replayed:
            store_server_account(session, account)


def _row(account: AccountWire) -> AccountRowWire:
    return (*(getattr(account, name) for name in ACCOUNT_FIELD_NAMES),
            account.community.code if account.community else None, account.seq)


def _open_task(session: Session, op: Pushed, result: OperationResult, outcome: Outcome,
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


def _customer(op: Pushed, result: OperationResult) -> tuple[str | None, str | None]:
    """Whom to call back: the person who stood at the counter, as best known."""
    payload = op.payload
    for name_key, phone_key in (("new_holder_name", "new_holder_phone"),
                                ("applicant_name", "phone")):
        if name_key in payload:
            return payload[name_key], payload.get(phone_key)
    if result.account is not None:
        return result.account.holder_name, payload.get("phone") or result.account.phone
    return None, payload.get("phone")
