"""Server settings, from the environment (HALLSERVER_*) with typed defaults; one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from hallserver.db import default_database_url

# What `hallserver serve` hands its uvicorn workers (hallserver/asgi.py).
DB_ENV = "HALLSERVER_DB"
SMS_LOG_ENV = "HALLSERVER_SMS_LOG"


def database_url() -> str:
    return os.environ.get(DB_ENV) or default_database_url()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class ServerSettings:
    access_token_ttl: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int("HALLSERVER_ACCESS_MINUTES", 30)))
    refresh_token_ttl: timedelta = field(
        default_factory=lambda: timedelta(hours=_int("HALLSERVER_REFRESH_HOURS", 12)))
    # Requests larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = field(
        default_factory=lambda: _int("HALLSERVER_MAX_BODY_BYTES", 4 * 1024 * 1024))
    # Login throttle: this many failed logins within the window, for one clerk id or from one
    # client address, and further logins are refused (429) until the window has passed. All
    # terminals of a hall behind one NAT share an address: keep the address limit well above
    # what a hall's clerks mistype in a window.
    login_failures_per_clerk: int = field(
        default_factory=lambda: _int("HALLSERVER_LOGIN_FAILURES_PER_CLERK", 5))
    login_failures_per_address: int = field(
        default_factory=lambda: _int("HALLSERVER_LOGIN_FAILURES_PER_ADDRESS", 20))
    login_failure_window: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int("HALLSERVER_LOGIN_WINDOW_MINUTES", 15)))
    # The server's clock decides (hallserver/proofs.py): an operation made later than the
    # server's receipt time plus this skew is refused, and a login whose terminal clock is
    # further off than `login_clock_tolerance` is refused with the offset.
    clock_skew: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int("HALLSERVER_CLOCK_SKEW_MINUTES", 5)))
    login_clock_tolerance: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int("HALLSERVER_LOGIN_CLOCK_MINUTES", 10)))
    # An online supervisor's approval must be used for an operation made within this time.
    approval_ttl: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int("HALLSERVER_APPROVAL_MINUTES", 10)))
    # A clerk may be named by a terminal's operations for this long after their last online
    # login there (the terminal's offline logins need one within as many days).
    clerk_at_terminal: timedelta = field(
        default_factory=lambda: timedelta(days=_int("HALLSERVER_OFFLINE_LOGIN_DAYS", 7)))
