"""`hallserver calendar`: the working-day calendar's notices, loaded from CSV and shown."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hallcore.domain.text import Text
from hallserver.admin_cli import run_change
from hallserver.working_days import FIRST_YEAR, LAST_YEAR, MAX_SOURCE

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hallserver.admin_cli import Command, Parsers


def _import(args: argparse.Namespace) -> int:
    from hallcore.domain.deadlines import TimeLimit
    from hallserver.admin import AdminRefused
    from hallserver.admin_csv import decoded
    from hallserver.settings import SettingsError, load_settings
    from hallserver.working_days import load_notice, parse_notice
    from hallserver.workitems import recount_open_items

    try:  # the call-backs' limit, counted again with the requests' steps
        callback_limit = TimeLimit(load_settings().callback_working_days)
    except SettingsError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2

    def change(session: Session, actor: str, now: datetime) -> str:
        try:
            text = decoded(args.file)
        except OSError as exc:
            raise AdminRefused(Text(f"无法读取 {args.file}：{exc.strerror}",
                                    f"cannot read {args.file}: {exc.strerror}")) from None
        notice = parse_notice(text)
        load_notice(session, notice, source=args.source or args.file.name[:MAX_SOURCE],
                    actor=actor, now=now)
        moved = recount_open_items(session, notice.days[0].day, callback_limit)
        off = sum(not d.working for d in notice.days)
        return (f"loaded {', '.join(map(str, notice.years))}: {_counted(off, 'day')} off, "
                f"{_counted(len(notice.days) - off, 'make-up working day')}; "
                f"{_counted(moved, 'open work item')} due then moved later by its holidays; "
                "the servers count on it within a minute (at once for a year they did not "
                "know), the terminals from their next sync")

    return run_change(args.db, change)


def _year(text: str) -> int:
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"年份应为 {FIRST_YEAR}–{LAST_YEAR} / a year from {FIRST_YEAR} to {LAST_YEAR}")
    return int(text)


def _source(text: str) -> str:
    if not 0 < len(text) <= MAX_SOURCE or not text.isprintable():
        raise argparse.ArgumentTypeError(
            f"来源应为不超过 {MAX_SOURCE} 个可打印字符 / at most {MAX_SOURCE} printable "
            "characters")
    return text


def _counted(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _show(args: argparse.Namespace) -> int:
    from hallserver.working_days import loaded_years, year_lines

    def change(session: Session, _actor: str, _now: datetime) -> str:
        years = [args.year] if args.year is not None else loaded_years(session)[-3:]
        if not years:
            return ("no year loaded: every date is counted on weekends alone "
                    "(hallserver calendar import FILE)")
        return "\n".join(line for year in years for line in year_lines(session, year))

    return run_change(args.db, change)


def add_calendar_commands(commands: Parsers, command: Command) -> None:
    calendar = commands.add_parser(
        "calendar", help="the working-day calendar every deadline is counted on")
    under = calendar.add_subparsers(dest="calendar_command", required=True)
    load = command("import", "load the State Council's notice of a year (or several) from CSV: "
                             "date,kind,name per line, the date YYYY-MM-DD or a range "
                             "YYYY-MM-DD~YYYY-MM-DD, the kind 休 (holiday) or 班 (make-up "
                             "working day); a year in the file replaces that year; audited",
                   under)
    load.add_argument("file", metavar="FILE", type=Path)
    load.add_argument("--source", type=_source,
                      help="where the notice comes from, e.g. 国办发明电〔2026〕7号 (default: the "
                           "file's name)")
    load.set_defaults(run=_import)
    show = command("show", "a year's holidays and make-up working days (default: the last "
                           "three years loaded)", under)
    show.add_argument("year", metavar="YEAR", type=_year, nargs="?")
    show.set_defaults(run=_show)
