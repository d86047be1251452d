"""A supervisor's sign-off at the counter (closing an account, a request a rule allows only
with a warning): the supervisor types their id and password on the clerk's terminal, and signs
off one operation, the one the request is then recorded as (OverrideNeeded's id, business type
and account).

Online, the server checks them (a supervisor of this hall, active; throttled and audited like a
login) without giving the supervisor a session on this terminal, and answers with a token bound
to that operation, usable once; the supervisor's approval key for this terminal is registered
with it. Offline, they are checked against the local verifier a supervisor leaves after signing
off or logging in here online, which carries their role; then the password unlocks their
approval key here, which signs the operation as it is recorded. A supervisor who never signed
off or logged in online at this terminal has no such key here (nor one their current password
opens, after it changed), and cannot sign off offline.
The server applies the operation only with one of these proofs (hallserver/approvals.py).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from hallclient.auth import offline
from hallclient.auth.keys import (
    ApprovalKeyUnavailable,
    keep_approval_key,
    prepare_approval_key,
    unlock_approval_key,
)
from hallclient.auth.secrets import SecretStore
from hallclient.store.operations import SignOff
from hallclient.sync.api import ServerRefused, ServerUnreachable, ServerUntrusted, in_words
from hallclient.sync.engine import Credentials, LoginNeeded
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import ApprovalRequest, Role, TerminalFacts, WindowExtension


class ApprovalRefused(Exception):
    """The sign-off was not given; `reason` says why, in both languages (the dialog shows the
    clerk's)."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason


_LOGIN_EXPIRED = Text(
    "本终端的登录已失效：请重新登录，再请主管签批",
    "this terminal's login has expired: log in again, then ask the supervisor to sign off")
_EXTENSION_NEEDS_SERVER = Text(
    "服务器连不上：延长离线期限须连接服务器，请网络恢复后再试",
    "the server cannot be reached: the offline window is extended online only; try again "
    "once the network is back")
_OFFLINE_CHECK_FAILED = Text(
    "服务器连不上，离线核验未通过：主管工号或密码不对，或该主管近期没有在本终端联网登录或签批，"
    "或密码错误次数过多、暂被锁定",
    "the server cannot be reached and the offline check failed: the supervisor id or password "
    "is wrong, or they have not logged in or signed off online at this terminal lately, or "
    "too many wrong passwords have locked them out for a while")


def _refused(exc: ServerRefused | ServerUntrusted | LoginNeeded) -> ApprovalRefused:
    """The server's own words of a refusal, or what a certificate that failed needs (as at a
    login); the terminal's expired login, whatever its renewal was answered."""
    if isinstance(exc, LoginNeeded):
        return ApprovalRefused(_LOGIN_EXPIRED)
    said = in_words(exc)
    assert said is not None  # every refusal and failed certificate is said
    return ApprovalRefused(said)


def approve(credentials: Credentials, store: SecretStore, supervisor: str, password: str,
            now: datetime, *, operation_id: str, kind: BusinessKind,
            account_number: str | None) -> SignOff:
    """The supervisor's sign-off of the operation `operation_id` (of `kind`, on
    `account_number`) once their password is right; raises ApprovalRefused."""
    key = prepare_approval_key(store, supervisor, password)
    try:
        approval = credentials.call(partial(credentials.api.approve, ApprovalRequest(
            supervisor=supervisor, password=password, operation_id=operation_id,
            business_type=kind, account_number=account_number,
            approval_public_key=key.public_hex)))
    except ServerUntrusted as exc:  # needs setting up, not waiting out (as at a login)
        raise _refused(exc) from exc
    except ServerUnreachable:
        return _offline(store, supervisor, password, now, operation_id)
    except (ServerRefused, LoginNeeded) as exc:
        raise _refused(exc) from exc
    keep_approval_key(store, key)
    offline.remember(store, approval.supervisor, approval.supervisor_name,
                     Role.SUPERVISOR.value, password, now)
    return SignOff(approval.supervisor, operation_id, token=approval.token,
                   supervisor_name=approval.supervisor_name)


def _offline(store: SecretStore, supervisor: str, password: str, now: datetime,
             operation_id: str) -> SignOff:
    try:
        known = offline.check(store, supervisor, password, now)
    except offline.OfflineLoginRefused as exc:
        raise ApprovalRefused(_OFFLINE_CHECK_FAILED) from exc
    if known.role != Role.SUPERVISOR.value:
        raise ApprovalRefused(Text(f"{supervisor} 不是主管，不能签批",
                                   f"{supervisor} is not a supervisor: only a supervisor signs "
                                   "off"))
    try:
        key = unlock_approval_key(store, known.clerk, password)
    except ApprovalKeyUnavailable:
        raise ApprovalRefused(Text(
            f"{supervisor} 在本终端没有签批密钥（或此后改过密码）：须先在服务器连得上时，"
            "在本终端联网签批一次，之后才能在这里离线签批",
            f"{supervisor} has no sign-off key on this terminal (or their password has "
            "changed since it was made): they must sign off online once at this terminal, "
            "while the server can be reached, before they can sign off here offline")) from None
    return SignOff(known.clerk, operation_id, key=key, supervisor_name=known.name)


# How much longer a supervisor's extension lets a terminal's offline operations be: another
# full window of the hall's default (the server keeps it for a day).
EXTENSION_HOURS = 72
# What the supervisor is asked to sign off.
EXTENSION_REASON = Text(
    "本终端有业务超过离线期限未能上传：主管确认后，期限延长一天，这些业务随即上传。",
    "Requests of this terminal are older than the offline window and were not sent: with a "
    "supervisor's sign-off the window is extended for a day and they are sent.")


def extend_offline_window(credentials: Credentials, supervisor: str, password: str
                          ) -> TerminalFacts:
    """A supervisor, at this counter, lets the operations older than the hall's offline window
    through (online only: the server checks the password). Raises ApprovalRefused."""
    try:
        return credentials.call(partial(credentials.api.extend_offline_window, WindowExtension(
            hours=EXTENSION_HOURS, supervisor=supervisor, password=password)))
    except (ServerUntrusted, ServerRefused, LoginNeeded) as exc:
        raise _refused(exc) from exc
    except ServerUnreachable as exc:
        raise ApprovalRefused(_EXTENSION_NEEDS_SERVER) from exc
