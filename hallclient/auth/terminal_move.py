"""The rule for setting a terminal up and for moving it: one function that the login window
(hallclient/ui/app.py) and `hallclient setup` (hallclient/cli.py) both go through.

- At the first run (no hall or terminal saved yet) IT sets the server address, the hall and
  the terminal id; the terminal's first login then waits for a supervisor's approval on the
  server.
- Changing any of them later moves the terminal: never while operations made here wait to be
  sent (they are signed as this terminal of this hall), and only after a supervisor's online
  login at the new settings (which approves this installation there). The move is audited in
  the terminal's own trail (store/reassign.py).
- A terminal id holds no `-`: a receipt number is `{hall}-{terminal}-{day}-{seq}`, and must
  name its terminal unambiguously (hallcore/receipt_numbers.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import overload

from hallclient.auth.login import ClerkSession
from hallclient.config import Settings, save_settings
from hallclient.store.cache import Cache
from hallclient.store.reassign import MoveRefused, changed_fields, check_can_move, record_move
from hallcore.domain.text import Text
from hallcore.wire import Role

__all__ = ["MoveRefused", "OperationsWaiting", "SupervisorNeeded", "change_terminal_settings",
           "settings_problem"]

# What the server accepts as an id (hallcore/wire.py), less `-` for a terminal.
_HALL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_TERMINAL_ID = re.compile(r"^[A-Za-z0-9_.]{1,32}$")

SUPERVISOR_ONLY = Text(
    "只有主管可以更改服务器地址、营业厅或终端编号；请主管登录",
    "only a supervisor can change the server address, the hall or the terminal id; a "
    "supervisor logs in to do it")
MOVE_NEEDS_SERVER = Text(
    "更改服务器地址、营业厅或终端编号须连接服务器",
    "changing the server address, the hall or the terminal id needs the server")


class OperationsWaiting(MoveRefused):
    """Operations made here wait to be sent: they must sync before the terminal moves."""


class SupervisorNeeded(MoveRefused):
    """A move needs a supervisor's login, and there was none (or a clerk's)."""


def settings_problem(saved: Settings, asked: Settings) -> Text | None:
    """Why the hall or terminal id asked for cannot be used; None when it can. An id already
    saved is left alone (it is what the terminal's receipts and keys already carry)."""
    if asked.hall_id != saved.hall_id and not _HALL_ID.match(asked.hall_id):
        return Text(
            f"营业厅编号 {asked.hall_id!r} 无效：只能包含字母、数字、_ . -，最长 32 个字符",
            f"the hall id {asked.hall_id!r} is not valid: letters, digits, _ . - only, at "
            "most 32 characters")
    if asked.terminal_id != saved.terminal_id and not _TERMINAL_ID.match(asked.terminal_id):
        return Text(
            f"终端编号 {asked.terminal_id!r} 无效：只能包含字母、数字、_ .（不能含 -，受理号"
            "以 - 分隔营业厅、终端、日期和序号），最长 32 个字符",
            f"the terminal id {asked.terminal_id!r} is not valid: letters, digits, _ and . "
            "only (no -: a receipt number separates the hall, terminal, day and sequence with "
            "-), at most 32 characters")
    return None


@overload
def change_terminal_settings(cache: Cache | None, saved: Settings, asked: Settings,
                             log_in: Callable[[], ClerkSession], now: datetime
                             ) -> ClerkSession: ...


@overload
def change_terminal_settings(cache: Cache | None, saved: Settings, asked: Settings,
                             log_in: None, now: datetime) -> None: ...


def change_terminal_settings(cache: Cache | None, saved: Settings, asked: Settings,
                             log_in: Callable[[], ClerkSession] | None, now: datetime
                             ) -> ClerkSession | None:
    """Save `asked` in place of the `saved` settings, under the rule above; `log_in` logs in
    at the asked settings (None: no login, which the first run, or a set-up that changes no
    terminal setting, does not need). Checks before the login, then the login's outcome;
    raises MoveRefused (nothing saved, nothing recorded) or what `log_in` raises."""
    problem = settings_problem(saved, asked)
    if problem is not None:
        raise MoveRefused(problem)
    changed = changed_fields(saved, asked)
    if changed and cache is not None:
        try:
            check_can_move(cache, changed)
        except MoveRefused as exc:
            raise OperationsWaiting(exc.reason) from exc
    if changed and log_in is None:
        raise SupervisorNeeded(SUPERVISOR_ONLY)
    session = log_in() if log_in is not None else None
    if changed:
        assert session is not None
        if not session.online:
            raise MoveRefused(MOVE_NEEDS_SERVER)
        if session.role != Role.SUPERVISOR.value:
            raise SupervisorNeeded(SUPERVISOR_ONLY)
        if cache is not None:
            record_move(cache, saved, asked, changed, supervisor=session.clerk, now=now)
    save_settings(asked)
    return session
