"""The working-day calendar the server owns: the State Council's notices of holidays and make-up
working days (调休), per year, and the halls' opening hours. Every committed date the server
gives (work items, SMS, the overdue KPI) is counted on it, and every terminal gets it with
its pulls (`calendar_stamp` in TerminalFacts, then `GET /calendar`).

An administrator loads a year's notice as CSV (`hallserver calendar import`): one line per day
or range, `date,kind,name`, e.g. `2027-10-01~2027-10-07,休,国庆节` and `2027-09-26,班,国庆节`.
A year in the file replaces that year entirely, in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time as clock
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, Pool, delete, select
from sqlalchemy.orm import Session

from hallcore.domain.deadlines import Deadline, OpeningHours, TimeLimit, WorkCalendar, deadline
from hallcore.domain.text import Text
from hallcore.wire import CalendarWire
from hallserver.admin import AdminRefused
from hallserver.audit import append_audit
from hallserver.models import CalendarDayRow, CalendarYearRow, HallRow

log = logging.getLogger(__name__)

# A notice loaded by another process (the CLI) reaches the server's workers within this.
_FRESH_FOR = 60.0
# The years a notice may be for, and a year's number as `calendar show` takes it.
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_RANGE_DAYS = 31
MAX_NAME = 60  # calendar_days.name
MAX_SOURCE = 200  # calendar_years.source
NEW_YEAR_WEEK_STARTS = 25  # December 25th
# Every notice gives the Spring Festival's days off, within these (month, day).
SPRING_FESTIVAL = ((1, 15), (3, 1))
_KINDS = {"休": False, "holiday": False, "off": False, "班": True, "workday": True, "work": True}
_RANGE_MARKS = ("~", "～", "至", "..")
_DEFAULT_HOURS = OpeningHours(time(8, 30), time(17, 30))


# A deadline estimated (a year with no notice loaded) reads the calendar again, in case another
# process loaded it since, but not more often than this: in December every request whose
# deadline reaches into January is one.
_RECHECK_ESTIMATE = 10.0


@dataclass(frozen=True)
class _Loaded:
    calendar: WorkCalendar
    stamp: str
    at: float
    # The years without a notice already said in the log, once per read of the calendar.
    said_missing: set[int] = field(default_factory=set)

    def first_to_miss(self, years: Iterable[int]) -> bool:
        """Whether `years` had not been found missing in this read of the calendar yet."""
        missing = set(years) - self.said_missing
        self.said_missing.update(missing)
        return bool(missing)


# Per database, by its engine's pool: a process may serve one and administer another (and the
# tests use many). Not by the engine: the engines made from it with other options (a push's,
# `writer`) share its pool, and each push would have read the calendar again.
_cache: weakref.WeakKeyDictionary[Pool, _Loaded] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def work_calendar(session: Session) -> WorkCalendar:
    return _loaded(session).calendar


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _loaded(session: Session) -> _Loaded:
    engine = _engine(session)
    with _cache_lock:
        kept = _cache.get(engine.pool)
    if kept is not None and clock.monotonic() - kept.at < _FRESH_FOR:
        return kept
    years = session.scalars(select(CalendarYearRow.year)).all()
    days = session.execute(select(CalendarDayRow.day, CalendarDayRow.working))
    calendar = WorkCalendar.of(years, ((day, working) for day, working in days))
    stamp = hashlib.sha256(repr((sorted(calendar.years), sorted(calendar.holidays),
                                 sorted(calendar.workdays))).encode()).hexdigest()[:16]
    loaded = _Loaded(calendar, stamp, clock.monotonic())
    with _cache_lock:
        _cache[engine.pool] = loaded
    return loaded


def forget(engine: Engine) -> None:
    """Read the calendar of `engine`'s database again at its next use (after it changed)."""
    with _cache_lock:
        _cache.pop(engine.pool, None)


def opening_hours(session: Session, hall_id: str) -> OpeningHours:
    hall = session.get(HallRow, hall_id)
    return OpeningHours(hall.opens_at, hall.closes_at) if hall else _DEFAULT_HOURS


def hall_deadline(session: Session, hall_id: str, accepted: datetime,
                  limit: TimeLimit) -> Deadline:
    """The deadline of a request accepted at the hall; an estimate is said in the log."""
    hours = opening_hours(session, hall_id)
    kept = _loaded(session)
    due = deadline(accepted, limit, kept.calendar, hours)
    if due.estimated and clock.monotonic() - kept.at >= _RECHECK_ESTIMATE:
        # The year's notice may have been loaded since the calendar was read (by another
        # process).
        forget(_engine(session))
        kept = _loaded(session)
        due = deadline(accepted, limit, kept.calendar, hours)
    if due.estimated and kept.first_to_miss(due.unknown_years):
        log.warning("working-day calendar has no notice for %s: a deadline of hall %s was "
                    "counted on weekends alone", ", ".join(map(str, due.unknown_years)),
                    hall_id)
    return due


def terminal_stamp(session: Session, hall_id: str) -> str:
    """Changes whenever the terminal's copy of the calendar (with its hall's hours) would."""
    return stamp_with_hours(session, opening_hours(session, hall_id))


def stamp_with_hours(session: Session, hours: OpeningHours) -> str:
    """terminal_stamp, the hall's hours already read."""
    return hours_stamp(_loaded(session).stamp, hours)


def hours_stamp(calendar_stamp: str, hours: OpeningHours) -> str:
    return f"{calendar_stamp}-{hours.opens:%H%M}{hours.closes:%H%M}"


def kept_calendar_stamp(engine: Engine) -> str | None:
    """The stamp of `engine`'s calendar as read less than a while ago, else None (then read
    it with a session: stamp_with_hours)."""
    with _cache_lock:
        kept = _cache.get(engine.pool)
    return kept.stamp if kept is not None and clock.monotonic() - kept.at < _FRESH_FOR else None


def calendar_wire(session: Session, hall_id: str) -> CalendarWire:
    """The calendar a terminal keeps: the loaded years from last year on (no committed date
    lies further back), and its hall's opening hours."""
    calendar = work_calendar(session)
    since = datetime.now().year - 1
    hours = opening_hours(session, hall_id)
    return CalendarWire(
        stamp=terminal_stamp(session, hall_id),
        years=sorted(y for y in calendar.years if y >= since),
        holidays=sorted(d for d in calendar.holidays if d.year >= since),
        workdays=sorted(d for d in calendar.workdays if d.year >= since),
        opens=f"{hours.opens:%H:%M}", closes=f"{hours.closes:%H:%M}")


# --- the administrator's import -----------------------------------------------------------------

@dataclass(frozen=True)
class NoticeDay:
    day: date
    working: bool
    name: str


def _refuse(line: int, zh: str, en: str) -> AdminRefused:
    return AdminRefused(Text(f"第{line}行：{zh}", f"line {line}: {en}"))


def _parse_day(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _refuse(line, f"“{text.strip()}”不是日期（应为 2027-10-01 这样的格式）",
                      f"“{text.strip()}” is not a date (write it as 2027-10-01)") from None


def _days_of(text: str, line: int) -> list[date]:
    marks = [mark for mark in _RANGE_MARKS if mark in text]
    if not marks:
        return [_parse_day(text, line)]
    first_text, _, last_text = text.partition(marks[0])
    if any(mark in last_text for mark in _RANGE_MARKS):
        raise _refuse(line, f"“{text}”不是日期，也不是日期范围",
                      f"“{text}” is neither a date nor a range of dates")
    first, last = _parse_day(first_text, line), _parse_day(last_text, line)
    if last < first:
        raise _refuse(line, f"日期范围“{text}”的结束早于开始",
                      f"the range “{text}” ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise _refuse(line, f"日期范围“{text}”超过 {MAX_RANGE_DAYS} 天",
                      f"the range “{text}” is longer than {MAX_RANGE_DAYS} days")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def notice_year(day: date) -> int:
    """The year whose notice names `day`: a day of the last week of December belongs to the
    next year's New Year's Day (the 2023 notice gave 2022-12-31 to 2023-01-02)."""
    return day.year + 1 if day.month == 12 and day.day >= NEW_YEAR_WEEK_STARTS else day.year


def _notice_span(year: int) -> tuple[date, date]:
    """The days a notice of `year` may name, as `notice_year` gives them."""
    return date(year - 1, 12, NEW_YEAR_WEEK_STARTS), date(year, 12, NEW_YEAR_WEEK_STARTS - 1)


@dataclass(frozen=True)
class Notice:
    years: list[int]  # the years whose notice this is, each replaced whole
    days: list[NoticeDay]


def parse_notice(text: str) -> Notice:
    """The days of a notice in CSV; refused, saying the line, on anything it cannot be sure
    of. The header line (date,kind,name or 日期,类型,名称) is optional."""
    if "\x00" in text:
        raise AdminRefused(Text(
            "文件中有空字符（NUL）：它不是文本，或是 UTF-16 编码；请另存为 UTF-8",
            "the file holds NUL characters: it is not text, or it is UTF-16; save it as UTF-8"))
    reader = csv.reader(io.StringIO(text))
    found: dict[date, NoticeDay] = {}
    try:
        for row in reader:
            _take_row([cell.strip() for cell in row], reader.line_num, found)
    except csv.Error as exc:
        raise _refuse(reader.line_num, f"无法按 CSV 读取（{exc}）",
                      f"cannot be read as CSV ({exc})") from None
    if not found:
        raise AdminRefused(Text("文件中没有日期", "the file lists no days"))
    years = sorted({notice_year(d) for d in found})
    for year in years:
        if not any(not n.working and notice_year(d) == year and SPRING_FESTIVAL[0] <= (
                d.month, d.day) <= SPRING_FESTIVAL[1] for d, n in found.items()):
            raise AdminRefused(Text(
                f"没有{year}年的春节假期：每年的通知都列出春节，请核对年份",
                f"no Spring Festival holiday of {year}: every year's notice lists it; please "
                "check the year"))
    return Notice(years, sorted(found.values(), key=lambda n: n.day))


def _take_row(cells: list[str], line: int, found: dict[date, NoticeDay]) -> None:
    if not any(cells) or cells[0].startswith("#"):
        return
    if line == 1 and cells[0].lower() in ("date", "日期"):
        return
    if len(cells) < 2:
        raise _refuse(line, "每行应为：日期,类型(休/班),名称",
                      "each line is: date,kind (holiday/workday),name")
    if any(cells[3:]):
        raise _refuse(line, "多出了列：每行应为 日期,类型(休/班),名称",
                      "more columns than date,kind (holiday/workday),name")
    kind = cells[1].lower()
    if kind not in _KINDS:
        raise _refuse(line, f"类型“{cells[1]}”应为“休”或“班”",
                      f"the kind “{cells[1]}” must be holiday (休) or workday (班)")
    working = _KINDS[kind]
    name = cells[2] if len(cells) > 2 and cells[2] else ("调休上班" if working else "假日")
    if len(name) > MAX_NAME or not name.isprintable():
        raise _refuse(line, f"名称应为不超过 {MAX_NAME} 个可打印字符",
                      f"the name must be at most {MAX_NAME} printable characters")
    for day in _days_of(cells[0], line):
        if not FIRST_YEAR <= notice_year(day) <= LAST_YEAR:
            raise _refuse(line, f"{day} 不在 {FIRST_YEAR}–{LAST_YEAR} 年之间",
                          f"{day} is not between {FIRST_YEAR} and {LAST_YEAR}")
        if working and day.weekday() < 5:
            raise _refuse(line, f"{day} 是工作日，不能再列为调休上班日",
                          f"{day} is a weekday: it cannot be a make-up working day")
        before = found.get(day)
        if before is not None and before.working != working:
            raise _refuse(line, f"{day} 既列为放假又列为上班",
                          f"{day} is listed both as a holiday and as a working day")
        found[day] = NoticeDay(day, working, name)


def load_notice(session: Session, notice: Notice, *, source: str, actor: str,
                now: datetime) -> None:
    """Replace the days of the notice's years (as `notice_year` counts them) with its own."""
    for year in notice.years:
        first, last = _notice_span(year)
        session.execute(delete(CalendarDayRow).where(CalendarDayRow.day >= first,
                                                     CalendarDayRow.day <= last))
        session.merge(CalendarYearRow(year=year, source=source, loaded_at=now))
    session.add_all(CalendarDayRow(day=n.day, working=n.working, name=n.name)
                    for n in notice.days)
    append_audit(session, hall_id=None, terminal_id="", actor=actor, action="calendar_import",
                 subject=",".join(map(str, notice.years)),
                 detail={"days": len(notice.days), "source": source}, at=now)
    forget(_engine(session))


def year_lines(session: Session, year: int) -> list[str]:
    """What `hallserver calendar show` prints: the year's source, then its named days."""
    loaded = session.get(CalendarYearRow, year)
    if loaded is None:
        return [f"{year}: 未载入，按周末推算 / not loaded: counted on weekends alone"]
    rows = session.scalars(select(CalendarDayRow)
                           .where(CalendarDayRow.day >= date(year, 1, 1),
                                  CalendarDayRow.day <= date(year, 12, 31))
                           .order_by(CalendarDayRow.day)).all()
    lines = [f"{year}: {loaded.source} ({loaded.loaded_at:%Y-%m-%d})"]
    for row in rows:
        weekday = "一二三四五六日"[row.day.weekday()]
        lines.append(f"{row.day} 周{weekday} {'班' if row.working else '休'} {row.name}")
    return lines


def loaded_years(session: Session) -> list[int]:
    return list(session.scalars(select(CalendarYearRow.year).order_by(CalendarYearRow.year)))
