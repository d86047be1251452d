"""Moving a terminal: a supervisor changes the server address, the hall or the terminal id
that IT set at the first run.

The terminal's own work stays (receipts, the outbox's history, open tasks, the audit trail);
what the cache holds of the server's district is forgotten when the hall changes, so the next
sync bootstraps the new hall's district. A hall or terminal id cannot change while operations
made here are still waiting to be sent: they are signed as this terminal of this hall.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from hallclient.config import Settings
from hallclient.store.audit import append_audit
from hallclient.store.cache import Cache
from hallclient.store.models import AccountRow, CommunityRow, OutboxRow, SyncStateRow
from hallcore.domain.text import Text

# What a supervisor may change after the first run.
TERMINAL_FIELDS = ("server_url", "hall_id", "terminal_id")


class MoveRefused(Exception):
    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


def changed_fields(saved: Settings, asked: Settings) -> tuple[str, ...]:
    """The terminal settings the login asks to change; none at the first run (nothing saved)."""
    if not (saved.hall_id and saved.terminal_id):
        return ()
    return tuple(f for f in TERMINAL_FIELDS if getattr(saved, f) != getattr(asked, f))


def check_can_move(cache: Cache, changed: tuple[str, ...]) -> None:
    """Raises MoveRefused while operations of this hall and terminal wait to be sent."""
    if not {"hall_id", "terminal_id"} & set(changed):
        return
    with cache.read() as session:
        pending = session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.state == "pending")) or 0
    if pending:
        raise MoveRefused(Text(
            f"本终端还有 {pending} 笔业务待上传；请先联网同步，再更改营业厅或终端编号",
            f"{pending} operations made here are still waiting to be sent; let them sync "
            "before changing the hall or the terminal id"))


def record_move(cache: Cache, saved: Settings, asked: Settings, changed: tuple[str, ...], *,
                supervisor: str, now: datetime) -> None:
    """After a supervisor's online login with the new settings: audit the move, and forget
    the old district's accounts when the hall changed (the next sync bootstraps)."""
    with cache.write() as session:
        if "hall_id" in changed:
            session.execute(delete(AccountRow))
            session.execute(delete(CommunityRow))
            session.execute(delete(SyncStateRow))
        elif (state := session.get(SyncStateRow, 1)) is not None:
            # What the old server or terminal id said: not the sign of a restore, nor the
            # floor of this terminal's numbers.
            state.server_identity = state.server_last_receipt = None
        append_audit(session, at=now, clerk=supervisor, action="terminal_moved",
                     subject=asked.terminal_id,
                     detail={f: {"from": getattr(saved, f), "to": getattr(asked, f)}
                             for f in changed})
