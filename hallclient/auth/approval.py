"""A supervisor's sign-off at the counter (closing an account, a request a rule allows only
with a warning): the supervisor types their id and password on the clerk's terminal.

Online, the server checks them (a supervisor of this hall, active; throttled and audited like a
login) without giving the supervisor a session on this terminal. Offline, they are checked
against the local verifier a supervisor leaves after signing off or logging in here online,
which carries their role. Either way the operation is pushed with the supervisor's id, and
the server checks again that it names an active supervisor of the hall before applying it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from hallclient.auth import offline
from hallclient.auth.secrets import SecretStore
from hallclient.sync.api import ServerRefused, ServerUnreachable
from hallclient.sync.engine import Credentials, LoginNeeded
from hallcore.wire import ApprovalRequest, Role


class ApprovalRefused(Exception):
    """The sign-off was not given; the message says why."""


def approve(credentials: Credentials, store: SecretStore, supervisor: str, password: str,
            now: datetime) -> str:
    """The supervisor's id once their password is right; raises ApprovalRefused."""
    try:
        approval = credentials.call(partial(credentials.api.approve, ApprovalRequest(
            supervisor=supervisor, password=password)))
    except ServerUnreachable:
        try:
            known = offline.check(store, supervisor, password, now)
        except offline.OfflineLoginRefused as exc:
            raise ApprovalRefused(str(exc)) from exc
        if known.role != Role.SUPERVISOR.value:
            raise ApprovalRefused(f"{supervisor} is not a supervisor.") from None
        return known.clerk
    except (ServerRefused, LoginNeeded) as exc:
        raise ApprovalRefused(str(exc)) from exc
    offline.remember(store, approval.supervisor, approval.supervisor_name,
                     Role.SUPERVISOR.value, password, now)
    return approval.supervisor
