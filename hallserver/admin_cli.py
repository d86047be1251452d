"""`hallserver admin`: districts, halls, communities, staff and terminals, one at a time or as
CSV files. Each command is one transaction, audited with the operator as its actor; a refusal
says why (in Chinese and English) and changes nothing (exit 2)."""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hallcore.domain.text import Text
from hallserver.cli_support import checked_engine, operator, owner_only

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    Parsers = argparse._SubParsersAction[argparse.ArgumentParser]
    Command = Callable[[str, str, Parsers], argparse.ArgumentParser]

# A change: (session, actor, now) -> what to print.
Change = Callable[["Session", str, datetime], str]


def run_change(db: str, change: Change) -> int:
    from sqlalchemy.orm import Session

    from hallserver.admin import AdminRefused

    engine = checked_engine(db)
    if engine is None:
        return 2
    try:
        with Session(engine) as session, session.begin():
            done = change(session, operator(), datetime.now(UTC))
    except AdminRefused as refused:
        print(f"hallserver: {refused.reason.zh}\nhallserver: {refused.reason.en}",
              file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(done)
    return 0


def _said(outcome: str, what: str) -> str:
    return {"added": f"added {what}", "changed": f"changed {what}",
            "unchanged": f"{what} is already so: nothing changed"}[outcome]


def _refuse_existing(session: Session, model: type, key: str, what: Text) -> None:
    """For a kind with no `set` command (districts, staff): a change is a CSV row imported."""
    from hallserver.admin import AdminRefused

    if session.get(model, key) is not None:
        raise AdminRefused(Text(
            f"{what.zh} {key} 已存在（修改请把改过的 CSV 行用 admin import 导入）",
            f"{what.en} {key} exists already (change it by importing its corrected CSV row "
            "with admin import)"))


# --- districts ---------------------------------------------------------------------------------

def _district_add(args: argparse.Namespace) -> int:
    from hallserver.admin import district_spec, put_district
    from hallserver.models import DistrictRow

    def change(session: Session, actor: str, _now: datetime) -> str:
        spec = district_spec(args.code, args.name, args.account_prefix)
        _refuse_existing(session, DistrictRow, spec.code, Text("供电区", "district"))
        return _said(put_district(session, actor, spec), f"district {spec.code}")

    return run_change(args.db, change)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> None:
    if not rows:
        print(empty)
        return
    widths = [max(_width(str(v)) for v in column)
              for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(v) + " " * (w - _width(str(v)))
                        for v, w in zip(row, widths, strict=True)).rstrip())


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _list(args: argparse.Namespace, table: str, where: Callable[[tuple[object, ...]], bool]
          ) -> int:
    from sqlalchemy.orm import Session

    from hallserver.admin_csv import TABLES

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    chosen = next(t for t in TABLES if t.file == table)
    try:
        with Session(engine) as session:
            rows = [row for row in chosen.export(session) if where(row)]
    finally:
        engine.dispose()
    _print_table([c.upper() for c in chosen.columns], rows, f"no {table[:-4]} yet")
    return 0


# --- halls -------------------------------------------------------------------------------------

_HALL_OPTIONS = (("name", "--name"), ("district", "--district"),
                 ("service_phone", "--service-phone"), ("opens_at", "--opens"),
                 ("closes_at", "--closes"), ("offline_window_hours", "--offline-window-hours"))


def _hall_put(args: argparse.Namespace) -> int:
    """`hall add` (every option needed but the defaults') and `hall set` (the options given
    change the hall)."""
    return _put_row(args, args.admin_hall == "add", "halls.csv", args.id, _HALL_OPTIONS,
                    _HALL_OPTIONS, {}, Text("营业厅", "hall"))


def _put_row(args: argparse.Namespace, adding: bool, table_file: str, key: str,
             options: Sequence[tuple[str, str]], required: Sequence[tuple[str, str]],
             forced: dict[str, str], what: Text) -> int:
    """Add a row of `table_file` from the options given (those `required` must be), or change
    the row `key` by them: its current values, as its CSV export has them, with the options
    given (and `forced`) in their place, through the CSV import's parser and writer."""
    from hallserver.admin import AdminRefused
    from hallserver.admin_csv import TABLES

    table = next(t for t in TABLES if t.file == table_file)

    def change(session: Session, actor: str, now: datetime) -> str:
        wanted = key.strip().upper()
        found = next((r for r in table.export(session) if r[0] == wanted), None)
        if adding and found is not None:
            raise AdminRefused(Text(f"{what.zh} {wanted} 已存在（修改请用 set）",
                                    f"{what.en} {wanted} exists already (change it with set)"))
        if not adding and found is None:
            raise AdminRefused(Text(f"没有{what.zh} {key}", f"there is no {what.en} {key}"))
        current = {} if found is None else dict(
            zip(table.columns, (str(v) for v in found), strict=True))
        given = {name: getattr(args, name) for name, _ in options
                 if getattr(args, name) is not None} | forced
        values = current | {table.columns[0]: key} | given
        missing = [flag for name, flag in required if name not in values]
        if missing:
            raise AdminRefused(Text(f"新{what.zh}还需要：{' '.join(missing)}",
                                    f"a new {what.en} also needs {' '.join(missing)}"))
        spec = table.parse(**values)
        outcome, _ = table.put(session, actor, spec, now)
        return _said(outcome, f"{what.en} {getattr(spec, table.columns[0])}")

    return run_change(args.db, change)


# --- communities -------------------------------------------------------------------------------

_COMMUNITY_OPTIONS = (("district", "--district"), ("name", "--name"),
                      ("households", "--households"), ("manager_name", "--manager-name"),
                      ("manager_phone", "--manager-phone"), ("hall_id", "--hall"))


def _community_put(args: argparse.Namespace) -> int:
    forced = ({"manager_name": "", "manager_phone": ""}
              if getattr(args, "no_manager", False) else {})
    return _put_row(args, args.admin_community == "add", "communities.csv", args.code,
                    _COMMUNITY_OPTIONS, _COMMUNITY_OPTIONS[:3], forced,
                    Text("小区", "community"))


# --- staff -------------------------------------------------------------------------------------

def _staff_add(args: argparse.Namespace) -> int:
    from hallserver.admin import ONE_TIME_PASSWORD_TTL, put_staff, staff_spec
    from hallserver.models import ClerkRow

    def change(session: Session, actor: str, now: datetime) -> str:
        spec = staff_spec(args.login, args.name, args.hall, args.role)
        _refuse_existing(session, ClerkRow, spec.login, Text("工号", "staff id"))
        _, password = put_staff(session, actor, spec, now)
        return (f"added {spec.role.value} {spec.login} at hall {spec.hall_id}\n"
                f"one-time password: {password}\n"
                f"(valid for {ONE_TIME_PASSWORD_TTL.days} days; it must be changed at the "
                "first login)")

    return run_change(args.db, change)


def _staff_change(args: argparse.Namespace) -> int:
    from hallserver import admin

    what = args.admin_staff

    def change(session: Session, actor: str, now: datetime) -> str:
        edit = (admin.move_to(args.hall) if what == "move" else
                admin.deactivate if what == "deactivate" else admin.reactivate)
        outcome = admin.change_staff(session, actor, args.login, now, edit)
        login = args.login.strip()
        if outcome == "unchanged":
            return f"{login} is already so: nothing changed"
        if what == "move":
            return f"moved {login} to hall {args.hall.strip().upper()}: their sessions end now"
        if what == "deactivate":
            return f"deactivated {login}: they can no longer log in, and their sessions end now"
        return f"reactivated {login}"

    return run_change(args.db, change)


def _staff_reset(args: argparse.Namespace) -> int:
    from hallserver.admin import ONE_TIME_PASSWORD_TTL, reset_password

    def change(session: Session, actor: str, now: datetime) -> str:
        password = reset_password(session, actor, args.login, now)
        return (f"one-time password of {args.login.strip()}: {password}\n"
                f"(valid for {ONE_TIME_PASSWORD_TTL.days} days; it must be changed at the "
                "next login; their sessions end now)")

    return run_change(args.db, change)


# --- CSV ---------------------------------------------------------------------------------------

def _export(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.admin_csv import export_all

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    try:
        with Session(engine) as session:
            written = export_all(session, args.folder)
    except OSError as exc:
        print(f"hallserver: cannot write to {args.folder} ({exc})", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(", ".join(f"{name}: {n} rows" for name, n in written.items())
          + f" written to {args.folder} (no passwords)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from hallserver.admin import AdminRefused
    from hallserver.admin_csv import import_all

    def change(session: Session, actor: str, now: datetime) -> str:
        summary = import_all(session, args.folder, actor, now)
        if summary.passwords:
            # Written before the commit: were it refused, the transaction rolls back and
            # the file names passwords no clerk has; the operator sees the error. Only an
            # import that makes passwords needs the file: a repeat of it makes none.
            try:
                _write_passwords(args.passwords, summary.passwords)
            except FileExistsError:
                raise AdminRefused(Text(
                    f"{args.passwords} 已存在，其中可能有尚未交给员工的密码；请用 --passwords "
                    "另选文件，未做任何修改",
                    f"{args.passwords} exists: it may hold passwords not handed out yet; "
                    "choose another --passwords file; nothing was changed")) from None
            except OSError as exc:
                raise AdminRefused(Text(
                    f"无法写入 {args.passwords}（{exc.strerror or exc}），未做任何修改",
                    f"cannot write {args.passwords} ({exc.strerror or exc}): nothing was "
                    "changed")) from None
        lines = [f"{name}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(c.items()))
                 for name, c in summary.counts.items()]
        if summary.passwords:
            lines.append(f"{len(summary.passwords)} one-time passwords of the new staff are in "
                         f"{args.passwords} (readable by you only): hand each to its clerk, "
                         "then delete the file")
        return "\n".join(lines)

    return run_change(args.db, change)


def _write_passwords(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with open(owner_only(path, exclusive=True), "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("login", "hall_id", "one_time_password"))
        writer.writerows(rows)


# --- the parser ---------------------------------------------------------------------------------

def add_admin_commands(commands: Parsers, command: Command,
                       terminal_commands: Callable[[Parsers], None]) -> None:
    """`admin …` under `commands`; `command(name, help, under)` makes a subcommand with --db;
    `terminal_commands(under)` adds the terminals' list/approve/retire."""
    admin = commands.add_parser(
        "admin", help="districts, halls, communities, staff and terminals; audited, each "
                      "command one transaction; exit 2 and nothing changed on a refusal")
    groups = admin.add_subparsers(dest="admin_command", required=True)

    district = groups.add_parser("district", help="supply districts").add_subparsers(
        dest="admin_district", required=True)
    add = command("add", "add a district", district)
    add.add_argument("code", metavar="CODE", help="e.g. GZ-TH")
    add.add_argument("--name", required=True)
    add.add_argument("--account-prefix", required=True,
                     help="the two first digits of the district's account numbers")
    add.set_defaults(run=_district_add)
    command("list", "every district", district).set_defaults(
        run=lambda a: _list(a, "districts.csv", lambda _r: True))

    hall = groups.add_parser("hall", help="service halls").add_subparsers(
        dest="admin_hall", required=True)
    for name, help_text in (("add", "add a hall"), ("set", "change a hall")):
        sub = command(name, help_text, hall)
        sub.add_argument("id", metavar="HALL", help="e.g. GZ-TH-01")
        sub.add_argument("--name")
        sub.add_argument("--district")
        sub.add_argument("--service-phone", default="95598" if name == "add" else None)
        sub.add_argument("--opens", dest="opens_at", default="08:30" if name == "add" else None,
                         help="opening time HH:MM (default 08:30)")
        sub.add_argument("--closes", dest="closes_at",
                         default="17:30" if name == "add" else None,
                         help="closing time HH:MM (default 17:30)")
        sub.add_argument("--offline-window-hours", default="72" if name == "add" else None,
                         help="how old an operation made offline may be when it is sent")
        sub.set_defaults(run=_hall_put)
    hall_list = command("list", "every hall", hall)
    hall_list.add_argument("--district")
    hall_list.set_defaults(run=lambda a: _list(
        a, "halls.csv", lambda r: a.district is None or r[2] == a.district.upper()))

    community = groups.add_parser(
        "community", help="residential communities and their customer managers"
    ).add_subparsers(dest="admin_community", required=True)
    for name, help_text in (("add", "add a community"),
                            ("set", "change a community (its accounts go to the terminals "
                                    "again when what the counter shows of it changes)")):
        sub = command(name, help_text, community)
        sub.add_argument("code", metavar="CODE")
        for option, flag in _COMMUNITY_OPTIONS:
            sub.add_argument(flag, dest=option)
        if name == "set":
            sub.add_argument("--no-manager", action="store_true",
                             help="the community no longer has a customer manager")
        sub.set_defaults(run=_community_put)
    community_list = command("list", "every community", community)
    community_list.add_argument("--hall")
    community_list.set_defaults(run=lambda a: _list(
        a, "communities.csv", lambda r: a.hall is None or r[6] == a.hall.upper()))

    staff = groups.add_parser("staff", help="clerks and supervisors").add_subparsers(
        dest="admin_staff", required=True)
    add = command("add", "add a clerk or supervisor; prints a one-time password", staff)
    add.add_argument("login", metavar="LOGIN")
    add.add_argument("--name", required=True)
    add.add_argument("--hall", required=True)
    add.add_argument("--role", choices=("clerk", "supervisor"), required=True)
    add.set_defaults(run=_staff_add)
    for name, help_text in (("deactivate", "they can no longer log in; sessions end now"),
                            ("reactivate", "let them log in again")):
        sub = command(name, help_text, staff)
        sub.add_argument("login", metavar="LOGIN")
        sub.set_defaults(run=_staff_change)
    move = command("move", "move to another hall; sessions end now", staff)
    move.add_argument("login", metavar="LOGIN")
    move.add_argument("--hall", required=True)
    move.set_defaults(run=_staff_change)
    reset = command("reset-password", "a new one-time password, to be changed at the next "
                                      "login; sessions end now", staff)
    reset.add_argument("login", metavar="LOGIN")
    reset.set_defaults(run=_staff_reset)
    staff_list = command("list", "every clerk and supervisor", staff)
    staff_list.add_argument("--hall")
    staff_list.set_defaults(run=lambda a: _list(
        a, "staff.csv", lambda r: a.hall is None or r[2] == a.hall.upper()))

    terminal_commands(groups.add_parser(
        "terminals", help="the halls' counter terminals (as `hallserver terminals`)"
    ).add_subparsers(dest="terminals_command", required=True))

    export = command("export", "write districts.csv, halls.csv, communities.csv and staff.csv "
                               "(no passwords) into FOLDER", groups)
    export.add_argument("folder", metavar="FOLDER", type=Path)
    export.set_defaults(run=_export)
    load = command("import", "load the CSV files in FOLDER (those of export) in one "
                             "transaction; rows as the server has them change nothing", groups)
    load.add_argument("folder", metavar="FOLDER", type=Path)
    load.add_argument("--passwords", type=Path, default=Path("one-time-passwords.csv"),
                      help="where the new staff's one-time passwords go (a new file, mode "
                           "0600; default ./one-time-passwords.csv)")
    load.set_defaults(run=_import)
