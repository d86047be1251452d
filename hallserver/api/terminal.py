"""The calling terminal: what the server knows of it, and a supervisor's extension of its
offline window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request

from hallcore.wire import CalendarWire, TerminalFacts, WindowExtension
from hallserver.api.auth import supervisor_present
from hallserver.api.deps import CallerDep, SessionDep, SettingsDep, WriteSessionDep
from hallserver.audit import append_audit
from hallserver.models import TerminalRow
from hallserver.terminals import terminal_facts
from hallserver.working_days import calendar_wire

router = APIRouter(tags=["terminal"])

# An extension lets a terminal's waiting operations through; it ends after a day.
EXTENSION_LASTS = timedelta(days=1)


@router.get("/terminal", response_model=TerminalFacts)
def this_terminal(caller: CallerDep, session: SessionDep) -> TerminalFacts:
    """The database's identity, the server's time, this terminal's last receipt number the
    server holds and its offline window (as every pull and login tells it)."""
    return terminal_facts(session, caller.hall_id, caller.terminal_id, datetime.now(UTC))


@router.get("/calendar", response_model=CalendarWire)
def working_calendar(caller: CallerDep, session: SessionDep) -> CalendarWire:
    """The working-day calendar deadlines are counted on, with the hall's opening hours; its
    stamp is in every TerminalFacts, so a terminal asks again only when it changed."""
    return calendar_wire(session, caller.hall_id)


@router.post("/terminal/offline-window", response_model=TerminalFacts)
def extend_offline_window(body: WindowExtension, request: Request, caller: CallerDep,
                          session: WriteSessionDep, settings: SettingsDep) -> TerminalFacts:
    """A supervisor of the hall, typing their password at this terminal, lets its operations
    older than the hall's offline window through, by `hours` more, for a day. Audited."""
    supervisor = supervisor_present(session, settings, request, caller, body.supervisor,
                                    body.password, caller.terminal_id)
    now = datetime.now(UTC)
    terminal = session.get(TerminalRow, (caller.hall_id, caller.terminal_id), with_for_update=True)
    assert terminal is not None  # a logged-in terminal was registered at its login
    terminal.window_extension_hours = body.hours
    terminal.window_extended_until = now + EXTENSION_LASTS
    append_audit(session, hall_id=caller.hall_id, terminal_id=caller.terminal_id,
                 actor=supervisor.login, action="offline_window_extended",
                 subject=caller.terminal_id, detail={"hours": body.hours, "clerk": caller.clerk})
    session.commit()
    return terminal_facts(session, caller.hall_id, caller.terminal_id, now)
