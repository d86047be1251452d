"""The login throttle: after too many failed logins for one clerk id, or from one client
address, within a window, logins are refused (429 with Retry-After), the right password
included, until the window has passed.

The failures are rows in the database, not counters in memory: the server runs several uvicorn
workers and instances against one database, and a guesser spread over them must meet one
count. Each failure is a row of its own, so recording one never waits on another; rows older
than the window are deleted as new ones come. Two logins checked at the same moment may both
pass before either failure is recorded: parallel guessing gains that many tries per window,
no more.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from fastapi import Request
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from hallcore.domain.text import Text
from hallserver import metrics
from hallserver.api.errors import ApiError
from hallserver.models import LoginFailureRow
from hallserver.settings import ServerSettings

log = logging.getLogger(__name__)

_TOO_MANY = Text("{who}登录失败次数过多，请 {minutes} 分钟后再试",
                 "too many failed logins {who}; try again in {minutes} minutes")


def client_address(request: Request) -> str:
    # Behind a reverse proxy, the client's address it forwards (X-Forwarded-For) when the
    # proxy is trusted (`serve --forwarded-allow-ips`, hallserver/app.py), else the proxy's
    # own: then every hall shares one address, and one count of failures.
    return request.client.host if request.client else "unknown"


def _blocked_until(session: Session, whose: ColumnElement[bool], limit: int,
                   settings: ServerSettings, now: datetime) -> datetime | None:
    """When the `limit`-th latest failure within the window leaves it; None: fewer failures."""
    window = settings.login_failure_window
    nth_latest = session.scalar(
        select(LoginFailureRow.failed_at)
        .where(whose, LoginFailureRow.failed_at > now - window)
        .order_by(LoginFailureRow.failed_at.desc()).offset(limit - 1).limit(1))
    return None if nth_latest is None else nth_latest + window


def check(session: Session, settings: ServerSettings, clerk: str, address: str,
          now: datetime) -> None:
    """Refuse the login (429) while the clerk id or the address has no failures left."""
    for whose, limit, who, by in (
        (LoginFailureRow.clerk == clerk, settings.login_failures_per_clerk,
         Text(f"工号 {clerk} ", f"for clerk {clerk}"), "clerk"),
        (LoginFailureRow.address == address, settings.login_failures_per_address,
         Text("本机", "from this computer"), "address"),
    ):
        until = _blocked_until(session, whose, limit, settings, now)
        if until is not None:
            seconds = max(1, math.ceil((until - now).total_seconds()))
            metrics.LOGINS_THROTTLED.labels(by).inc()
            # Not which clerk id or address: the log holds no one's identity.
            log.warning("login refused: too many failed logins for one %s", by)
            raise ApiError(429, "too_many_failed_logins",
                           _TOO_MANY.format(who=who, minutes=math.ceil(seconds / 60)),
                           headers={"Retry-After": str(seconds)})


def record_failure(session: Session, settings: ServerSettings, clerk: str, address: str,
                   now: datetime) -> None:
    """Count a failed login (the caller commits), and forget those older than the window."""
    session.execute(delete(LoginFailureRow).where(
        LoginFailureRow.failed_at <= now - settings.login_failure_window))
    session.add(LoginFailureRow(clerk=clerk, address=address, failed_at=now))
    metrics.LOGIN_FAILURES.inc()


def forget_clerk(session: Session, clerk: str) -> None:
    """A successful login forgives the clerk's failures: they were the clerk's own typos, so
    they no longer count for the address either."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.clerk == clerk))
