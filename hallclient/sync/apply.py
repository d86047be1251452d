"""Writing what the server says into the cache.

The cache shows the server's state of an account with this terminal's pending operations
replayed on top (the optimistic view the clerk works with). Whenever the server's state of an
account arrives — pulled, or in the answer to a push — it replaces the cached one and the
still-pending operations are replayed, so a server change is never hidden by a local one and a
local one never vanishes before the server has answered it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from hallclient.domain.business import BusinessKind, apply_change, check
from hallclient.domain.deadlines import HALL_TZ
from hallclient.store.accounts import load_account, save_account, save_community
from hallclient.store.models import AccountRow, CommunityRow, OutboxRow, TaskRow
from hallclient.wire import AccountWire, OperationResult, Outcome


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


def _account_values(wire: AccountWire) -> dict[str, Any]:
    return {
        "number": wire.number, "holder_name": wire.holder_name,
        "id_type": wire.id_type.value if wire.id_type else None, "id_number": wire.id_number,
        "phone": wire.phone, "supply_address": wire.supply_address,
        "mailing_address": wire.mailing_address, "status": wire.status.value,
        "version": wire.version, "district": wire.district, "arrears_fen": wire.arrears_fen,
        "sms_consent": wire.sms_consent, "sms_language": wire.sms_language,
        "community_code": wire.community.code if wire.community else None,
        "server_seq": wire.seq,
    }


def bulk_store_server_accounts(session: Session, accounts: Iterable[AccountWire]) -> int:
    """Many server accounts at once (bootstrap): two statements, not one per row.

    Only for accounts no pending operation touches; the caller checks."""
    accounts = list(accounts)
    communities = {a.community.code: a.community for a in accounts if a.community}
    # Core statements on the session's connection: one executemany each, no ORM bookkeeping.
    connection = session.connection()
    if communities:
        stmt = insert(CommunityRow)
        connection.execute(stmt.on_conflict_do_update(
            index_elements=[CommunityRow.code],
            set_={c: stmt.excluded[c] for c in ("name", "households", "manager_name",
                                                 "manager_phone")}),
            [c.model_dump() for c in communities.values()])
    if accounts:
        stmt = insert(AccountRow)
        columns = [c for c in _account_values(accounts[0]) if c != "number"]
        connection.execute(stmt.on_conflict_do_update(
            index_elements=[AccountRow.number],
            set_={c: stmt.excluded[c] for c in columns},
            where=AccountRow.server_seq <= stmt.excluded.server_seq),
            [_account_values(a) for a in accounts])
    return len(accounts)


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
