"""The working-day calendar this terminal counts deadlines on: the server's (its holidays,
make-up working days and the hall's opening hours), kept in the cache and fetched again when
the stamp in TerminalFacts changes. Until the first sync brings it, every date is counted on
weekends alone and said to be an estimate.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from sqlalchemy.orm import Session

from hallclient.store.cache import Cache
from hallclient.store.models import SyncStateRow, sync_state
from hallcore.domain.deadlines import HallCalendar, OpeningHours, WorkCalendar
from hallcore.wire import CalendarWire


@lru_cache(maxsize=4)
def _parsed(kept: str) -> tuple[str, HallCalendar]:
    wire = CalendarWire.model_validate_json(kept)
    calendar = WorkCalendar(frozenset(wire.years), frozenset(wire.holidays),
                            frozenset(wire.workdays))
    hours = OpeningHours(time.fromisoformat(wire.opens), time.fromisoformat(wire.closes))
    return wire.stamp, HallCalendar(calendar, hours)


def _kept(session: Session) -> tuple[str | None, HallCalendar]:
    state = session.get(SyncStateRow, 1)
    if state is None or state.work_calendar is None:
        return None, HallCalendar()
    return _parsed(state.work_calendar)


def hall_calendar(cache: Cache) -> HallCalendar:
    with cache.read() as session:
        return _kept(session)[1]


def calendar_outdated(session: Session, stamp: str | None) -> bool:
    """Whether the server's calendar (by its stamp) is not the one kept here."""
    return stamp is not None and _kept(session)[0] != stamp


def keep_calendar(session: Session, wire: CalendarWire) -> None:
    sync_state(session).work_calendar = wire.model_dump_json()
