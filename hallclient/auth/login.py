"""Online login: the clerk's password goes to the server once; the session it gives (a refresh
token) and the terminal's receipt-signing key stay in the keyring."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hallclient.auth import offline
from hallclient.auth.keys import keep_approval_key, prepare_approval_key, terminal_key
from hallclient.auth.secrets import SecretStore
from hallclient.config import Settings
from hallclient.store.operations import TerminalIdentity
from hallclient.sync.api import (
    NotAuthenticated,
    ServerApi,
    ServerRefused,
    ServerUnreachable,
    ServerUntrusted,
    in_words,
)
from hallclient.sync.engine import REFRESH_TOKEN, Credentials, LoginNeeded
from hallcore.domain.text import Text
from hallcore.signing import login_message
from hallcore.wire import LoginRequest, Role, TerminalFacts, TokenResponse


def terminal_identity(settings: Settings, store: SecretStore) -> TerminalIdentity:
    return TerminalIdentity(settings.hall_id, settings.terminal_id, terminal_key(store))


class LoginRefused(Exception):
    """The server, or the offline check, said no; `reason` says why, in both languages (the
    login window shows the clerk's): the server's own words, never an exception's text."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason


class PasswordChangeRequired(LoginRefused):
    """The password is a one-time password: log in again with it and a new one."""


def online_login(api: ServerApi, store: SecretStore, settings: Settings, clerk: str,
                 password: str, new_password: str | None = None) -> TokenResponse:
    """Log in, proving that this installation's key is here, and set the clerk's
    `new_password` when given (PasswordChangeRequired: the password is a one-time password,
    which needs one). A key the server has not seen waits for a supervisor's approval: a
    supervisor's login here gives it. A supervisor's approval key for this terminal is
    registered with their login (the server ignores it for a clerk, and this terminal forgets
    it)."""
    key = terminal_key(store)
    # Sealed with the password the supervisor will type from now on.
    approval_key = prepare_approval_key(store, clerk, new_password or password)
    signed_at = datetime.now(UTC)
    try:
        answer = api.login(LoginRequest(
            clerk=clerk, password=password, hall_id=settings.hall_id,
            terminal_id=settings.terminal_id, installation_id=settings.installation_id,
            terminal_public_key=key.public_hex, signed_at=signed_at,
            terminal_proof=key.sign(login_message(settings.hall_id, settings.terminal_id,
                                                  settings.installation_id, clerk, signed_at)),
            approval_public_key=approval_key.public_hex, new_password=new_password))
    except ServerRefused as exc:
        if exc.error is not None and exc.error.code == "password_change_required":
            raise PasswordChangeRequired(in_words(exc)) from exc
        raise
    if answer.role is Role.SUPERVISOR:
        keep_approval_key(store, approval_key)
    store.set(REFRESH_TOKEN, answer.refresh_token)
    api.access_token = answer.access_token
    return answer


@dataclass(frozen=True, slots=True)
class ClerkSession:
    clerk: str
    name: str
    role: str
    online: bool  # False: checked against the offline verifier
    # What the server said of this terminal at an online login (kept in the cache at once:
    # the floor of its receipt numbers before the first sync).
    facts: TerminalFacts | None = None


_NEW_PASSWORD_NEEDS_SERVER = Text("服务器连不上：新密码要在联网时设置",
                                  "the server cannot be reached: a new password is set online")
_OFFLINE_LOGIN_REFUSED = Text("服务器连不上，离线登录未通过：{why}",
                              "the server cannot be reached, and the offline login failed: {why}")


def offline_refusal(settings: Settings) -> Text:
    """Why the offline check of a password said no, whichever it was: offline.py says which in
    English only, not for a clerk."""
    return Text(
        "工号或密码不对；或该工号近 {days} 天没有在本终端联网登录过；或密码错误次数过多，"
        "已被锁定 {minutes} 分钟",
        "the clerk id or password is wrong; or the clerk has not logged in online on this "
        "terminal in the last {days} days; or too many wrong passwords have locked the id for "
        "{minutes} minutes").format(days=settings.offline_login_days,
                                    minutes=offline.LOCKOUT // timedelta(minutes=1))


def log_in(api: ServerApi, store: SecretStore, settings: Settings, clerk: str, password: str,
           now: datetime, new_password: str | None = None) -> ClerkSession:
    """Online when the server answers; offline against the verifier when it cannot be
    reached. A refusal by the server is final: no offline fallback for a wrong password; nor
    for a server whose certificate fails the check, which needs setting up, not waiting out.
    Raises LoginRefused (PasswordChangeRequired: the password is a one-time password)."""
    try:
        answer = online_login(api, store, settings, clerk, password, new_password)
    except (ServerUntrusted, ServerRefused) as exc:  # before ServerUntrusted's base below
        raise LoginRefused(in_words(exc)) from exc
    except ServerUnreachable as exc:
        if new_password is not None:
            raise LoginRefused(_NEW_PASSWORD_NEEDS_SERVER) from exc
        try:
            known = offline.check(store, clerk, password, now,
                                  max_age=timedelta(days=settings.offline_login_days))
        except offline.OfflineLoginRefused as refused:
            raise LoginRefused(_OFFLINE_LOGIN_REFUSED.format(
                why=offline_refusal(settings))) from refused
        return ClerkSession(known.clerk, known.name, known.role, online=False)
    offline.remember(store, answer.clerk, answer.clerk_name, answer.role.value,
                     new_password or password, now)
    return ClerkSession(answer.clerk, answer.clerk_name, answer.role.value, online=True,
                        facts=answer.terminal)


def log_out(credentials: Credentials) -> None:
    """End the clerk's session: the server revokes its tokens (when it can be reached; they
    expire anyway) and the refresh token leaves the keyring."""
    with suppress(ServerUnreachable, ServerRefused, NotAuthenticated, LoginNeeded):
        credentials.call(credentials.api.logout)
    credentials.secrets.delete(REFRESH_TOKEN)
