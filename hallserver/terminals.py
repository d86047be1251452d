"""Counter terminals: provisioned, not self-registered.

A terminal proves at each login that it holds its installation's Ed25519 key. A key the server
has not seen (a new terminal id, a reinstalled or copied installation, a moved terminal) is
recorded as `pending` and the login refused, until a supervisor of the hall approves it: by
logging in at that terminal, or with `hallserver terminals approve HALL TERMINAL`. Approving a
key retires the terminal's previous one. Every step is an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

# Retiring or replacing a key ends the terminal's sessions in every server process at once.
import hallserver.auth_cache  # noqa: F401  (its session events)
from hallcore.domain.deadlines import OpeningHours
from hallcore.domain.text import Text
from hallcore.receipt_numbers import latest
from hallcore.wire import Role, TerminalFacts
from hallserver.audit import append_audit
from hallserver.identity import database_identity, identity_of
from hallserver.models import (
    ClerkRow,
    DatabaseIdentityRow,
    HallRow,
    TerminalKeyRow,
    TerminalRow,
    TokenRow,
)
from hallserver.working_days import stamp_with_hours, terminal_stamp

PENDING, ACTIVE, RETIRED = "pending", "active", "retired"


class TerminalRefused(Exception):
    """The terminal may not be used (yet); `code` for programs, `reason` for people."""

    def __init__(self, status: int, code: str, reason: Text) -> None:
        super().__init__(reason.en)
        self.status, self.code, self.reason = status, code, reason


def active_key(session: Session, hall_id: str, terminal_id: str) -> str | None:
    return session.scalars(select(TerminalKeyRow.public_key).where(
        TerminalKeyRow.hall_id == hall_id, TerminalKeyRow.terminal_id == terminal_id,
        TerminalKeyRow.state == ACTIVE)).first()


def signing_keys(session: Session, hall_id: str, terminal_id: str) -> list[str]:
    """The keys that signed this terminal's receipts: the active one and the retired ones."""
    return list(session.scalars(select(TerminalKeyRow.public_key).where(
        TerminalKeyRow.hall_id == hall_id, TerminalKeyRow.terminal_id == terminal_id,
        TerminalKeyRow.state != PENDING)))


def _terminal(session: Session, hall_id: str, terminal_id: str, now: datetime) -> TerminalRow:
    row = session.get(TerminalRow, (hall_id, terminal_id))
    if row is None:
        row = TerminalRow(hall_id=hall_id, terminal_id=terminal_id, registered_at=now,
                          window_extension_hours=0)
        session.add(row)
        session.flush()
    return row


def _activate(session: Session, key: TerminalKeyRow, by: str, now: datetime) -> None:
    session.execute(update(TerminalKeyRow).where(
        TerminalKeyRow.hall_id == key.hall_id, TerminalKeyRow.terminal_id == key.terminal_id,
        TerminalKeyRow.state == ACTIVE).values(state=RETIRED))
    key.state, key.approved_by, key.approved_at = ACTIVE, by, now
    # The replaced installation's sessions end with its key.
    session.execute(update(TokenRow).where(TokenRow.hall_id == key.hall_id,
                                           TokenRow.terminal_id == key.terminal_id)
                    .values(revoked=True))
    append_audit(session, hall_id=key.hall_id, terminal_id=key.terminal_id, actor=by,
                 action="terminal_approved", subject=key.terminal_id,
                 detail={"key": key.public_key[:16], "installation_id": key.installation_id},
                 at=now)


def check_login_key(session: Session, clerk: ClerkRow, hall_id: str, terminal_id: str,
                    installation_id: str, public_key: str, now: datetime) -> None:
    """Whether the terminal may be used with this key; a supervisor's login approves a
    pending one. Raises TerminalRefused after recording what it refused (the caller commits
    that with the refusal)."""
    if session.get(TerminalRow, (hall_id, terminal_id)) is None and "-" in terminal_id:
        # Receipt numbers are {hall}-{terminal}-{day}-{n}: a dash would make them ambiguous.
        raise TerminalRefused(422, "terminal_id_invalid", Text(
            f"终端号 {terminal_id} 不能含“-”：只能用字母、数字、“_”和“.”",
            f"the terminal id {terminal_id} must not contain '-': letters, digits, '_' and "
            "'.' only"))
    terminal = _terminal(session, hall_id, terminal_id, now)
    key = session.get(TerminalKeyRow, public_key)
    if key is not None and (key.hall_id, key.terminal_id) != (hall_id, terminal_id):
        raise TerminalRefused(409, "key_of_another_terminal", Text(
            f"本机的终端密钥属于另一个终端（{key.hall_id} {key.terminal_id}），不能用于终端 "
            f"{terminal_id}",
            f"this installation's key belongs to another terminal ({key.hall_id} "
            f"{key.terminal_id}), not to terminal {terminal_id}"))
    if key is not None and key.state == ACTIVE:
        return
    if key is not None and key.state == RETIRED:
        raise TerminalRefused(403, "terminal_retired", Text(
            f"终端 {terminal_id} 的这次安装已停用；如需继续使用，请重新安装并由主管批准",
            f"this installation of terminal {terminal_id} was retired; to use it again, "
            "reinstall it and have a supervisor approve it"))
    if key is None:
        # One pending key per terminal: the latest installation to ask.
        session.execute(delete(TerminalKeyRow).where(
            TerminalKeyRow.hall_id == hall_id, TerminalKeyRow.terminal_id == terminal_id,
            TerminalKeyRow.state == PENDING))
        key = TerminalKeyRow(public_key=public_key, hall_id=hall_id, terminal_id=terminal_id,
                             installation_id=installation_id, state=PENDING,
                             registered_at=now)
        session.add(key)
        session.flush()
    if clerk.role == Role.SUPERVISOR.value and clerk.hall_id == hall_id:
        _activate(session, key, clerk.login, now)
        return
    known = active_key(session, hall_id, terminal_id) is not None or terminal.last_receipt_no
    append_audit(session, hall_id=hall_id, terminal_id=terminal_id, actor=clerk.login,
                 action="terminal_pending", subject=terminal_id,
                 detail={"key": public_key[:16], "installation_id": installation_id,
                         "key_differs": bool(known)})
    how = (f"请本营业厅主管在本终端登录一次，或由管理员运行 hallserver terminals approve "
           f"{hall_id} {terminal_id}",
           f"a supervisor of this hall must log in at this terminal once, or an operator run "
           f"`hallserver terminals approve {hall_id} {terminal_id}`")
    if known:
        raise TerminalRefused(403, "terminal_key_differs", Text(
            f"终端 {terminal_id} 已登记在另一台电脑（或另一次安装）上，本机的终端密钥与登记的不同。"
            + how[0],
            f"terminal {terminal_id} is registered to another PC (or installation): this "
            "one's key differs from the registered key; " + how[1]))
    raise TerminalRefused(403, "terminal_not_approved", Text(
        f"新终端 {terminal_id} 尚未获批准。" + how[0],
        f"the new terminal {terminal_id} is not approved yet; " + how[1]))


@dataclass(frozen=True, slots=True)
class TerminalState:
    hall_id: str
    terminal_id: str
    state: str  # active | pending | retired | none
    pending_since: datetime | None
    last_receipt_no: str | None


def list_terminals(session: Session, hall_id: str | None = None) -> list[TerminalState]:
    query = select(TerminalRow).order_by(TerminalRow.hall_id, TerminalRow.terminal_id)
    if hall_id is not None:
        query = query.where(TerminalRow.hall_id == hall_id)
    states = []
    for terminal in session.scalars(query):
        keys = session.scalars(select(TerminalKeyRow).where(
            TerminalKeyRow.hall_id == terminal.hall_id,
            TerminalKeyRow.terminal_id == terminal.terminal_id)).all()
        by_state = {key.state: key for key in keys}
        state = next((s for s in (ACTIVE, PENDING, RETIRED) if s in by_state), "none")
        pending = by_state.get(PENDING)
        states.append(TerminalState(terminal.hall_id, terminal.terminal_id, state,
                                    pending.registered_at if pending else None,
                                    terminal.last_receipt_no))
    return states


def approve_pending(session: Session, hall_id: str, terminal_id: str, by: str,
                    now: datetime) -> str:
    """Approve the terminal's pending key (`hallserver terminals approve`); returns its
    fingerprint. Raises TerminalRefused when there is none."""
    key = session.scalars(select(TerminalKeyRow).where(
        TerminalKeyRow.hall_id == hall_id, TerminalKeyRow.terminal_id == terminal_id,
        TerminalKeyRow.state == PENDING)).first()
    if key is None:
        raise TerminalRefused(404, "nothing_pending", Text(
            f"营业厅 {hall_id} 的终端 {terminal_id} 没有待批准的安装",
            f"terminal {terminal_id} of hall {hall_id} has no installation waiting for "
            "approval"))
    _activate(session, key, by, now)
    return key.public_key[:16]


def retire(session: Session, hall_id: str, terminal_id: str, by: str, now: datetime) -> int:
    """Retire every key of the terminal: it can no longer log in or push. Returns how many."""
    keys = session.scalars(select(TerminalKeyRow).where(
        TerminalKeyRow.hall_id == hall_id, TerminalKeyRow.terminal_id == terminal_id,
        TerminalKeyRow.state != RETIRED)).all()
    for key in keys:
        key.state = RETIRED
    retired = len(keys)
    append_audit(session, hall_id=hall_id, terminal_id=terminal_id, actor=by,
                 action="terminal_retired", subject=terminal_id, detail={"keys": retired},
                 at=now)
    return retired


def offline_window(session: Session, hall_id: str, terminal: TerminalRow | None,
                   now: datetime) -> timedelta:
    """How old an operation of this terminal may be when it is pushed now."""
    hall = session.get(HallRow, hall_id)
    extended_until = terminal.window_extended_until if terminal is not None else None
    return _window(hall.offline_window_hours if hall is not None else None, extended_until,
                   terminal.window_extension_hours if terminal is not None else 0, now)


def _window(hall_hours: int | None, extended_until: datetime | None, extension_hours: int,
            now: datetime) -> timedelta:
    hours = hall_hours if hall_hours is not None else 72
    if extended_until is not None and extended_until > now:
        hours += extension_hours
    return timedelta(hours=hours)


# What TerminalFacts needs of the hall, the terminal and the database, in one statement: every
# pull carries the facts, so they cost one round trip, not five.
FACTS_COLUMNS = (HallRow.offline_window_hours, HallRow.opens_at, HallRow.closes_at,
                 TerminalRow.last_receipt_no, TerminalRow.window_extended_until,
                 TerminalRow.window_extension_hours, DatabaseIdentityRow.identity)
FACTS = (select(*FACTS_COLUMNS)
         .select_from(HallRow)
         .outerjoin(TerminalRow, (TerminalRow.hall_id == HallRow.id)
                    & (TerminalRow.terminal_id == bindparam("terminal_id")))
         .outerjoin(DatabaseIdentityRow, DatabaseIdentityRow.id == 1)
         .where(HallRow.id == bindparam("hall_id")))


def terminal_facts(session: Session, hall_id: str, terminal_id: str, now: datetime
                   ) -> TerminalFacts:
    found = session.execute(FACTS, {"hall_id": hall_id, "terminal_id": terminal_id}
                            ).one_or_none()
    if found is None:  # no such hall: what a hall's defaults would give
        return TerminalFacts(
            server_identity=database_identity(session), server_time=now, last_receipt_no=None,
            offline_window_hours=int(_window(None, None, 0, now).total_seconds() // 3600),
            calendar_stamp=terminal_stamp(session, hall_id))
    return facts_of(found, identity_of(session.connection(), found.identity),
                    stamp_with_hours(session, OpeningHours(found.opens_at, found.closes_at)),
                    now)


def facts_of(found: Any, server_identity: str, calendar_stamp: str, now: datetime
             ) -> TerminalFacts:
    """TerminalFacts from a row with FACTS_COLUMNS' values by their names, of a hall that
    exists (a SQLAlchemy Row or a psycopg named tuple)."""
    return TerminalFacts(
        server_identity=server_identity, server_time=now,
        last_receipt_no=found.last_receipt_no,
        offline_window_hours=int(_window(found.offline_window_hours,
                                         found.window_extended_until,
                                         found.window_extension_hours or 0,
                                         now).total_seconds() // 3600),
        calendar_stamp=calendar_stamp)


def note_receipts(terminal: TerminalRow, receipt_nos: Iterable[str]) -> None:
    """Remember the terminal's highest receipt number the server holds."""
    terminal.last_receipt_no = latest([terminal.last_receipt_no, *receipt_nos],
                                      terminal.hall_id, terminal.terminal_id)
