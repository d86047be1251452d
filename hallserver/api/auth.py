"""Login, token refresh and logout. A login proves the terminal's key (hallserver/terminals.py)
as well as the clerk's password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hallcore.audit_chain import as_utc
from hallcore.domain.text import Text
from hallcore.signing import login_message, verify
from hallcore.wire import (
    Approval,
    ApprovalRequest,
    LoginRequest,
    RefreshRequest,
    Role,
    TokenResponse,
)
from hallserver.api import throttle
from hallserver.api.deps import TERMINAL_RETIRED, CallerDep, SettingsDep, WriteSessionDep
from hallserver.api.errors import ApiError
from hallserver.approvals import issue_approval, register_approval_key
from hallserver.audit import append_audit
from hallserver.context import Caller
from hallserver.models import ClerkRow, HallRow, TerminalClerkRow, TokenRow
from hallserver.security import (
    hash_password,
    needs_rehash,
    new_token,
    password_matches,
    password_problem,
    token_hash,
)
from hallserver.settings import ServerSettings
from hallserver.terminals import (
    TerminalRefused,
    active_key,
    check_login_key,
    terminal_facts,
)

router = APIRouter(tags=["auth"])

_BAD_LOGIN = ApiError(401, "bad_credentials", Text(
    "工号或密码不正确", "clerk id or password is wrong"))


def _add_token(session: Session, kind: str, ttl: timedelta, clerk: ClerkRow, hall: HallRow,
               terminal_id: str) -> str:
    token = new_token()
    session.add(TokenRow(token_hash=token_hash(token), kind=kind, clerk=clerk.login,
                         hall_id=hall.id, terminal_id=terminal_id,
                         expires_at=datetime.now(UTC) + ttl))
    return token


def _issue(session: Session, settings: ServerSettings, clerk: ClerkRow, hall: HallRow,
           terminal_id: str, refresh: str | None = None) -> TokenResponse:
    """A new access token; with a new refresh token at login, the same one on refresh."""
    access = _add_token(session, "access", settings.access_token_ttl, clerk, hall, terminal_id)
    if refresh is None:
        refresh = _add_token(session, "refresh", settings.refresh_token_ttl, clerk, hall,
                             terminal_id)
    return TokenResponse(
        access_token=access, refresh_token=refresh,
        expires_in=int(settings.access_token_ttl.total_seconds()), clerk=clerk.login,
        clerk_name=clerk.name, role=Role(clerk.role), hall_id=hall.id, district=hall.district,
        terminal=terminal_facts(session, hall.id, terminal_id, datetime.now(UTC)))


def _check_terminal(session: Session, settings: ServerSettings, body: LoginRequest,
                    clerk: ClerkRow, now: datetime) -> None:
    """The terminal proves it holds its key, now, by its clock; the key must be approved
    (a supervisor's login approves it). Raises ApiError."""
    if not verify(body.terminal_public_key, login_message(
            body.hall_id, body.terminal_id, body.installation_id, body.clerk, body.signed_at),
            body.terminal_proof):
        raise ApiError(401, "terminal_proof_invalid", Text(
            "终端密钥证明无效：本机不是它所声称的终端安装",
            "the terminal's key proof is not valid: this is not the installation it claims"))
    offset = as_utc(body.signed_at) - now
    if abs(offset) > settings.login_clock_tolerance:
        minutes = round(offset.total_seconds() / 60)
        raise ApiError(403, "clock_off", Text(
            f"本机时钟与服务器相差 {minutes:+d} 分钟，请校正本机日期和时间后再登录",
            f"this PC's clock is {minutes:+d} minutes off the server's; correct its date and "
            "time, then log in again"))
    try:
        check_login_key(session, clerk, body.hall_id, body.terminal_id, body.installation_id,
                        body.terminal_public_key, now)
    except TerminalRefused as refused:
        raise ApiError(refused.status, refused.code, refused.reason) from None


def _remember_clerk_here(session: Session, clerk: str, hall_id: str, terminal_id: str,
                         now: datetime) -> None:
    """The clerk typed their password at this terminal and the server checked it (a login, a
    supervisor's sign-off): its operations may name them, also while they work offline."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(TerminalClerkRow).values(
        hall_id=hall_id, terminal_id=terminal_id, clerk=clerk, last_login_at=now,
    ).on_conflict_do_update(index_elements=["hall_id", "terminal_id", "clerk"],
                            set_={"last_login_at": now}))


def _audit_refusal(session: Session, body: LoginRequest, clerk: ClerkRow | None,
                   reason: str) -> None:
    """A refused login (never its password), in the trail of the clerk's hall, or of the
    server for an unknown clerk id; the caller commits it with the refusal."""
    append_audit(session, hall_id=None if clerk is None else clerk.hall_id,
                 terminal_id=body.terminal_id, actor=body.clerk, action="login_refused",
                 subject=None, detail={"reason": reason, "at_hall": body.hall_id})


def _change_password(session: Session, body: LoginRequest, clerk: ClerkRow,
                     now: datetime) -> None:
    """Set the clerk's new password when the login brings one; a one-time password lets its
    clerk in only with one, and only until it expires. Raises ApiError (committing the audit
    entry of the refusal)."""
    refusal: ApiError | None = None
    if clerk.must_change_password and (
            clerk.password_expires_at is None or clerk.password_expires_at <= now):
        refusal = ApiError(401, "one_time_password_expired", Text(
            "一次性密码已过期，请管理员重新设置", "the one-time password has expired; ask an "
            "administrator for a new one"))
    elif clerk.must_change_password and body.new_password is None:
        refusal = ApiError(403, "password_change_required", Text(
            "这是一次性密码：请再输入一次，并设置您自己的新密码",
            "this is a one-time password: type it again and choose your own new password"))
    elif body.new_password is not None:
        problem = password_problem(body.new_password, clerk.login)
        if problem is None and password_matches(body.new_password, clerk.password_hash):
            problem = Text("新密码不能与原密码相同",
                           "the new password must differ from the old one")
        if problem is not None:
            refusal = ApiError(422, "weak_password", problem)
    if refusal is not None:
        _audit_refusal(session, body, clerk, refusal.code)
        session.commit()
        raise refusal
    if body.new_password is not None:
        clerk.password_hash = hash_password(body.new_password)
        clerk.must_change_password, clerk.password_expires_at = False, None
        append_audit(session, hall_id=clerk.hall_id, terminal_id=body.terminal_id,
                     actor=clerk.login, action="password_changed", subject=clerk.login,
                     detail={})
    elif needs_rehash(clerk.password_hash):
        clerk.password_hash = hash_password(body.password)


@router.post("/login", response_model=TokenResponse)
def login(body: LoginRequest, request: Request, session: WriteSessionDep,
          settings: SettingsDep) -> TokenResponse:
    address, now = throttle.client_address(request), datetime.now(UTC)
    throttle.check(session, settings, body.clerk, address, now)
    clerk = session.get(ClerkRow, body.clerk)
    # The password is checked first, whoever is named: see password_matches.
    matched = password_matches(body.password, clerk.password_hash if clerk else None)
    if clerk is None or not clerk.active or not matched:
        throttle.record_failure(session, settings, body.clerk, address, now)
        _audit_refusal(session, body, clerk, "unknown_clerk" if clerk is None else
                       "inactive" if not clerk.active else "wrong_password")
        session.commit()  # the refusal must not roll the count back
        raise _BAD_LOGIN
    if clerk.hall_id != body.hall_id:
        _audit_refusal(session, body, clerk, "wrong_hall")
        session.commit()
        raise ApiError(403, "wrong_hall", Text(
            f"工号 {clerk.login} 不属于营业厅 {body.hall_id}",
            f"clerk {clerk.login} does not work at hall {body.hall_id}"))
    hall = session.get(HallRow, body.hall_id)
    assert hall is not None  # a clerk's hall exists (foreign key)
    try:
        _check_terminal(session, settings, body, clerk, now)
    except ApiError as refused:
        _audit_refusal(session, body, clerk, refused.code)
        session.commit()  # with the pending key it recorded
        raise
    _change_password(session, body, clerk, now)
    throttle.forget_clerk(session, clerk.login)
    _remember_clerk_here(session, clerk.login, body.hall_id, body.terminal_id, now)
    if body.approval_public_key is not None and clerk.role == Role.SUPERVISOR.value:
        register_approval_key(session, clerk.login, body.hall_id, body.terminal_id,
                              body.approval_public_key, now)
    response = _issue(session, settings, clerk, hall, body.terminal_id)
    append_audit(session, hall_id=hall.id, terminal_id=body.terminal_id, actor=clerk.login,
                 action="login", subject=None, detail={"role": clerk.role})
    session.commit()
    return response


@router.post("/refresh", response_model=TokenResponse)
def refresh(body: RefreshRequest, session: WriteSessionDep, settings: SettingsDep) -> TokenResponse:
    row = session.get(TokenRow, token_hash(body.refresh_token))
    if row is None or row.kind != "refresh" or row.revoked or (
            row.expires_at <= datetime.now(UTC)):
        raise ApiError(401, "not_authenticated", Text(
            "登录已失效，请重新登录", "the session has expired; log in again"))
    clerk = session.get(ClerkRow, row.clerk)
    hall = session.get(HallRow, row.hall_id)
    if clerk is None or hall is None or not clerk.active:
        raise _BAD_LOGIN
    if active_key(session, row.hall_id, row.terminal_id) is None:
        raise TERMINAL_RETIRED
    # The refresh token is not rotated: a terminal killed between the server's answer and
    # saving a new token would otherwise be locked out. It ends at its expiry or at logout.
    response = _issue(session, settings, clerk, hall, row.terminal_id,
                      refresh=body.refresh_token)
    session.commit()
    return response


@router.post("/logout", status_code=204)
def logout(caller: CallerDep, session: WriteSessionDep) -> None:
    """Revoke every token of this clerk on this terminal."""
    session.execute(update(TokenRow).where(TokenRow.clerk == caller.clerk,
                                           TokenRow.terminal_id == caller.terminal_id,
                                           TokenRow.hall_id == caller.hall_id)
                    .values(revoked=True))
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=caller.clerk, action="logout", subject=None, detail={})
    session.commit()


def supervisor_present(session: Session, settings: ServerSettings, request: Request,
                       caller: Caller, supervisor_id: str, password: str,
                       subject: str | None) -> ClerkRow:
    """The supervisor of the caller's hall who typed their password at the caller's counter.
    Throttled like a login; a refusal is audited (`approval_refused`) and committed, and raises
    ApiError. No session is given: the counter stays the clerk's."""
    address, now = throttle.client_address(request), datetime.now(UTC)
    throttle.check(session, settings, supervisor_id, address, now)
    supervisor = session.get(ClerkRow, supervisor_id)
    matched = password_matches(password, supervisor.password_hash if supervisor else None)
    if supervisor is None or not supervisor.active or not matched:
        throttle.record_failure(session, settings, supervisor_id, address, now)
        refusal = "unknown_clerk" if supervisor is None else (
            "inactive" if not supervisor.active else "wrong_password")
    elif supervisor.role != Role.SUPERVISOR.value or supervisor.hall_id != caller.hall_id:
        refusal = "not_a_supervisor_here"
    else:
        throttle.forget_clerk(session, supervisor.login)
        return supervisor
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=supervisor_id, action="approval_refused", subject=subject,
                 detail={"clerk": caller.clerk, "reason": refusal})
    session.commit()  # the refusal must not roll the count back
    if refusal == "not_a_supervisor_here":
        raise ApiError(403, refusal, Text(
            f"{supervisor_id} 不是本营业厅的主管", f"{supervisor_id} is not a supervisor "
            "of this hall"))
    # Not 401: that would say the clerk's own session has ended.
    raise ApiError(403, "bad_supervisor_credentials", Text(
        "主管工号或密码不正确", "the supervisor's id or password is wrong"))


@router.post("/approve", response_model=Approval)
def approve(body: ApprovalRequest, request: Request, caller: CallerDep,
            session: WriteSessionDep, settings: SettingsDep) -> Approval:
    """A supervisor of the caller's hall signs off one operation at the caller's counter:
    an approval bound to that operation (hallserver/approvals.py). Audited."""
    supervisor = supervisor_present(session, settings, request, caller, body.supervisor,
                                    body.password, body.operation_id)
    now = datetime.now(UTC)
    approval = issue_approval(session, settings, caller, supervisor, body, now)
    _remember_clerk_here(session, supervisor.login, caller.hall_id, caller.terminal_id, now)
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=supervisor.login, action="approval", subject=body.operation_id,
                 detail={"clerk": caller.clerk, "business_type": body.business_type.value,
                         "account_number": body.account_number})
    session.commit()
    return approval
