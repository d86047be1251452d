"""A first load (and later bulk changes) of districts, halls, communities and staff as CSV files,
and their export in the same form: `districts.csv`, `halls.csv`, `communities.csv`,
`staff.csv` in one folder, UTF-8 (a BOM is fine) or GB18030.

An import is one transaction: every row is parsed first, and one bad row refuses the whole
import, naming its file and line, with nothing changed. A row that matches what the server
holds changes nothing, so importing an export again is a no-op.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallcore.domain.text import Text
from hallserver.admin import (
    AdminRefused,
    community_spec,
    district_spec,
    hall_spec,
    put_community,
    put_district,
    put_hall,
    put_staff,
    staff_spec,
)
from hallserver.audit import append_audit
from hallserver.cli_support import owner_only
from hallserver.models import ClerkRow, CommunityRow, DistrictRow, HallRow


@dataclass(frozen=True)
class _Table:
    file: str
    columns: tuple[str, ...]
    optional: frozenset[str]
    parse: Callable[..., Any]
    # Writes one parsed row: (added | changed | unchanged, a new clerk's one-time password).
    put: Callable[[Session, str, Any, datetime], tuple[str, str | None]]
    export: Callable[[Session], Iterator[tuple[object, ...]]]


def _without_password(put: Callable[[Session, str, Any], str]
                      ) -> Callable[[Session, str, Any, datetime], tuple[str, str | None]]:
    return lambda session, actor, spec, _now: (put(session, actor, spec), None)


def _clock(value: Any) -> str:
    return f"{value:%H:%M}"


def _districts(session: Session) -> Iterator[tuple[object, ...]]:
    for r in session.scalars(select(DistrictRow).order_by(DistrictRow.code)):
        yield r.code, r.name, r.account_prefix


def _halls(session: Session) -> Iterator[tuple[object, ...]]:
    for r in session.scalars(select(HallRow).order_by(HallRow.id)):
        yield (r.id, r.name, r.district, r.service_phone, _clock(r.opens_at),
               _clock(r.closes_at), r.offline_window_hours)


def _communities(session: Session) -> Iterator[tuple[object, ...]]:
    for r in session.scalars(select(CommunityRow).order_by(CommunityRow.code)):
        yield (r.code, r.district, r.name, r.households, r.manager_name or "",
               r.manager_phone or "", r.hall_id or "")


def _staff(session: Session) -> Iterator[tuple[object, ...]]:
    for r in session.scalars(select(ClerkRow).order_by(ClerkRow.login)):
        yield r.login, r.name, r.hall_id, r.role, "yes" if r.active else "no"


# In the order of their references: a hall names its district, a clerk their hall.
TABLES = (
    _Table("districts.csv", ("code", "name", "account_prefix"), frozenset(),
           district_spec, _without_password(put_district), _districts),
    _Table("halls.csv", ("id", "name", "district", "service_phone", "opens_at", "closes_at",
                         "offline_window_hours"), frozenset(), hall_spec,
           _without_password(put_hall), _halls),
    _Table("communities.csv", ("code", "district", "name", "households", "manager_name",
                               "manager_phone", "hall_id"),
           frozenset({"manager_name", "manager_phone", "hall_id"}), community_spec,
           _without_password(put_community), _communities),
    _Table("staff.csv", ("login", "name", "hall_id", "role", "active"), frozenset({"active"}),
           staff_spec, put_staff, _staff),
)


def export_all(session: Session, folder: Path) -> dict[str, int]:
    """Write the four files into `folder` (created if need be), readable by their owner only
    (staff's names, the customer managers' phones); rows written per file. No password hash
    leaves the server."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for table in TABLES:
        rows = list(table.export(session))
        with open(owner_only(folder / table.file), "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(table.columns)
            writer.writerows(rows)
        written[table.file] = len(rows)
    return written


def decoded(path: Path) -> str:
    """The text of an administrator's file: UTF-8 (with or without a BOM), else GB18030 as a
    spreadsheet in Chinese saves it."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AdminRefused(Text(f"{path.name} 既不是 UTF-8 也不是 GB18030 编码",
                            f"{path.name} is neither UTF-8 nor GB18030 text"))


def _rows(path: Path, table: _Table) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of the file, its header checked against the table's columns."""
    reader = csv.DictReader(io.StringIO(decoded(path), newline=""))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [c for c in table.columns if c not in header and c not in table.optional]
    unknown = [c for c in header if c not in table.columns]
    if missing or unknown:
        raise AdminRefused(Text(
            f"{path.name} 的表头不对：缺少 {', '.join(missing) or '无'}，多出 "
            f"{', '.join(unknown) or '无'}；应为 {','.join(table.columns)}",
            f"{path.name} has the wrong header: missing {', '.join(missing) or 'none'}, "
            f"unknown {', '.join(unknown) or 'none'}; expected {','.join(table.columns)}"))
    reader.fieldnames = header
    for row in reader:
        if None in row or any(value is None for value in row.values()):
            raise AdminRefused(Text(f"{path.name} 第 {reader.line_num} 行的列数与表头不符",
                                    f"{path.name} line {reader.line_num}: the number of "
                                    "columns does not match the header"))
        yield reader.line_num, row


@dataclass
class ImportSummary:
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    # (login, hall, one-time password) of each clerk the import created.
    passwords: list[tuple[str, str, str]] = field(default_factory=list)


def import_all(session: Session, folder: Path, actor: str, now: datetime) -> ImportSummary:
    """Import the files present in `folder` within the caller's transaction; AdminRefused
    (file and line in it) at the first bad row, after which the caller rolls back."""
    present = [t for t in TABLES if (folder / t.file).is_file()]
    if not present:
        raise AdminRefused(Text(
            f"{folder} 中没有可导入的文件（{', '.join(t.file for t in TABLES)}）",
            f"{folder} holds none of the files to import "
            f"({', '.join(t.file for t in TABLES)})"))
    # Every row parsed before anything is written: a typo in the last file changes nothing.
    parsed = {t.file: [(line, _parsed(t, folder / t.file, line, row))
                       for line, row in _rows(folder / t.file, t)] for t in present}
    for table in present:
        _refuse_repeats(table.file, parsed[table.file])
    summary = ImportSummary()
    for table in present:
        counts: Counter[str] = Counter()
        for line, spec in parsed[table.file]:
            try:
                outcome, password = table.put(session, actor, spec, now)
                if password is not None:
                    summary.passwords.append((spec.login, spec.hall_id, password))
                session.flush()
            except AdminRefused as refused:
                raise _at(table.file, line, refused) from None
            counts[outcome] += 1
        summary.counts[table.file] = counts
    append_audit(session, hall_id=None, terminal_id="", actor=actor, action="admin_import",
                 subject=folder.name[:64],
                 detail={name: dict(c) for name, c in summary.counts.items()})
    return summary


def _refuse_repeats(file: str, rows: list[tuple[int, Any]]) -> None:
    """One row per district, hall, community or clerk (their first column)."""
    first_line: dict[str, int] = {}
    for line, spec in rows:
        key = getattr(spec, fields(spec)[0].name)
        if key in first_line:
            raise AdminRefused(Text(f"{file} 第 {line} 行：{key} 在第 {first_line[key]} 行已有",
                                    f"{file} line {line}: {key} is already on line "
                                    f"{first_line[key]}"))
        first_line[key] = line


def _parsed(table: _Table, path: Path, line: int, row: dict[str, str]) -> Any:
    try:
        return table.parse(**{c: row.get(c, "") for c in table.columns
                              if c in row or c not in table.optional})
    except AdminRefused as refused:
        raise _at(path.name, line, refused) from None


def _at(file: str, line: int, refused: AdminRefused) -> AdminRefused:
    return AdminRefused(Text(f"{file} 第 {line} 行：{refused.reason.zh}",
                             f"{file} line {line}: {refused.reason.en}"))
