"""Supervisors' sign-offs, proven rather than named.

Online, `POST /approve` checks the supervisor's password and gives a token bound to one
operation (its id, account and business type), usable once, for an operation made within
`approval_ttl`. Offline, the supervisor's password unlocks, on the terminal, their approval key
for that terminal, whose public half the server registered at an earlier online login or
sign-off there; the operation carries its signature. At push, an operation that needs a
sign-off is applied only with one of these proofs from an active supervisor of the hall (or
pushed by a supervisor's own online session for their own operation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.text import Text
from hallcore.signing import approval_message, verify
from hallcore.wire import Approval, ApprovalRequest, PushOperation, Role
from hallserver.context import Caller
from hallserver.models import ApprovalRow, ClerkRow, SupervisorKeyRow
from hallserver.security import new_token, token_hash
from hallserver.settings import ServerSettings


def register_approval_key(session: Session, supervisor: str, hall_id: str, terminal_id: str,
                          public_key: str, now: datetime) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(SupervisorKeyRow).values(
        supervisor=supervisor, hall_id=hall_id, terminal_id=terminal_id, public_key=public_key,
        registered_at=now).on_conflict_do_update(
        index_elements=["supervisor", "hall_id", "terminal_id"],
        set_={"public_key": public_key, "registered_at": now}))


def issue_approval(session: Session, settings: ServerSettings, caller: Caller,
                   supervisor: ClerkRow, body: ApprovalRequest, now: datetime) -> Approval:
    """A single-use approval of the operation named in `body`; the caller commits."""
    token = new_token()
    expires = now + settings.approval_ttl
    session.add(ApprovalRow(
        token_hash=token_hash(token), hall_id=caller.hall_id, terminal_id=caller.terminal_id,
        clerk=caller.clerk, supervisor=supervisor.login, operation_id=body.operation_id,
        account_number=body.account_number, business_type=body.business_type.value,
        issued_at=now, expires_at=expires))
    if body.approval_public_key is not None:
        register_approval_key(session, supervisor.login, caller.hall_id, caller.terminal_id,
                              body.approval_public_key, now)
    return Approval(supervisor=supervisor.login, supervisor_name=supervisor.name, token=token,
                    expires_at=expires)


_NEEDED = Text("此业务须经主管现场确认", "this request needs a supervisor's sign-off")
_NOT_PROVEN = Text("主管确认无法核实（没有有效的确认凭据），本业务未办理",
                   "the supervisor's sign-off cannot be proven (no valid approval): the "
                   "request was not done")


def sign_off_refusal(session: Session, caller: Caller, op: PushOperation, now: datetime
                     ) -> Text | None:
    """Why the sign-off is missing or not proven; None when it is. An online approval found
    valid is used up here."""
    approver = op.approved_by
    if approver is None:
        if caller.role is Role.SUPERVISOR and op.clerk == caller.clerk:
            return None  # a supervisor's own request, pushed by their own session
        return _NEEDED
    supervisor = session.get(ClerkRow, approver)
    if supervisor is None or not supervisor.active or (
            supervisor.role != Role.SUPERVISOR.value or supervisor.hall_id != caller.hall_id):
        return Text(f"{approver} 不是本营业厅在职主管，确认无效",
                    f"{approver} is not an active supervisor of this hall: the sign-off is "
                    "not valid")
    if op.approval_token is not None:
        approval = session.get(ApprovalRow, token_hash(op.approval_token),
                               with_for_update=True)
        if approval is None or approval.used_at is not None or (
                approval.hall_id, approval.terminal_id, approval.supervisor,
                approval.operation_id, approval.account_number, approval.business_type) != (
                caller.hall_id, caller.terminal_id, approver, op.operation_id,
                op.account_number, op.business_type.value) or (
                as_utc(op.created_at) > approval.expires_at):
            return _NOT_PROVEN
        approval.used_at = now
        return None
    if op.approval_signature is not None:
        key = session.get(SupervisorKeyRow, (approver, caller.hall_id, caller.terminal_id))
        if key is not None and verify(key.public_key, approval_message(
                op.operation_id, op.account_number, op.business_type.value, approver,
                op.created_at), op.approval_signature):
            return None
    return _NOT_PROVEN


def sign_off_kind(op: PushOperation) -> str | None:
    """How the sign-off an operation carries was given, for the audit trail."""
    if op.approval_token is not None:
        return "online"
    return "offline" if op.approval_signature is not None else None
