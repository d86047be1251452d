"""Accounts from the utility's customer system: `hallserver accounts import FILE.csv`.

The file (CSV; UTF-8 with or without BOM, or GB18030) is the customer system's truth for the
fields it carries; docs/ACCOUNT_IMPORT.md gives its columns, and what happens to an account
that already exists. Everything happens in ONE transaction, so an import that fails or is
interrupted leaves the database as it was:

1. The file is read in chunks of whole records (this process only cuts and hashes them), which
   worker processes decode, parse, check with the domain's validators and format for the
   staging table: a temporary table filled by PostgreSQL's COPY (batched inserts on SQLite).
   At most a few chunks are in flight, so memory stays flat. Bad rows go to the rejects file
   with their line number, the row as it was and the reason in Chinese and English.
2. An account number on more than one row of the file: all those rows are rejected.
3. The file's districts are locked, as every account change locks its district to take a
   sequence number: from then on no account of theirs changes until the import commits.
4. One set-based comparison sorts the staged rows: new, changed (a carried field IS DISTINCT
   FROM the stored one) or unchanged. A changed account that a counter changed after the
   export (an applied operation received, or a work item done, since `exported_at`) is kept
   as the counter left it, and so is one a push holds locked right now (PostgreSQL: SKIP
   LOCKED; that push waits for the district behind the import, so waiting for it would
   deadlock). Those rows are rejected with their reason.
5. New and changed accounts take the next numbers of their district's sequence, so a terminal
   pulling since its last cursor gets them; a changed account's version goes up by one, so a
   terminal's request made on the old one becomes a conflict for a clerk, never a silent
   overwrite. Unchanged accounts are not written at all.
6. One audit entry (counts and the file's SHA-256, never a row's contents), then the commit.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import io
import os
import re
import signal
import sys
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hallcore.db.engine import writer
from hallcore.domain.accounts import (
    ACCOUNT_FIELDS,
    STATUS_LABELS,
    AccountStatus,
    validate_account_number,
)
from hallcore.domain.contact import validate_address, validate_person_name, validate_phone
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.ids import DOC_TYPE_LABELS, IdDocType, validate_id
from hallcore.domain.text import InvalidInput, Text
from hallcore.wire import Outcome
from hallserver.audit import append_audit
from hallserver.cli_support import checked_engine, operator, owner_only
from hallserver.models import AccountRow, CommunityRow, DistrictRow, OperationRow, WorkItemRow

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

    from psycopg import Connection as PgConnection

    Parsers = argparse._SubParsersAction[argparse.ArgumentParser]
    Command = Callable[[str, str, Parsers], argparse.ArgumentParser]

# --- the file's columns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """A column of the customer system's file: its header (Chinese, or the English `name`),
    the account column it fills and how a cell becomes that column's value."""

    header: str
    name: str
    field: str
    required: bool  # the header must have it and no row may leave it empty
    parse: Callable[[str], Any]  # a cell, stripped and not empty; raises InvalidInput
    blank: Any = None  # an optional column's value where a row leaves the cell empty


@lru_cache(maxsize=2**18)
def _person_name(raw: str) -> str:
    # Names repeat across a district (ID numbers and phones do not): each process keeps the
    # answers for the most recent ones.
    return validate_person_name(raw)


@lru_cache(maxsize=2)
def _address(raw: str) -> str:
    # The mailing address is most often the supply address again: checked once.
    return validate_address(raw)


_ID_TYPES = {**{t.value: t.value for t in IdDocType},
             **{label.zh: t.value for t, label in DOC_TYPE_LABELS.items()}}
_STATUSES = {**{s.value: s.value for s in AccountStatus},
             **{label.zh: s.value for s, label in STATUS_LABELS.items()}}
_YES = frozenset({"是", "y", "yes", "true", "1"})
_NO = frozenset({"否", "n", "no", "false", "0"})
_LANGUAGES = {"zh": "zh", "中文": "zh", "en": "en", "英文": "en"}
_LONG_TERM = "长期"  # an ID document valid without end
_MAX_FEN = 2**31 - 1  # the column is a 32-bit integer


def _id_type(raw: str) -> str:
    known = _ID_TYPES.get(raw) or _ID_TYPES.get(raw.lower())
    if known is None:
        raise InvalidInput(Text("未知的证件类型“{v}”，可选：{zh}", "unknown ID type “{v}”; "
                                "known: {en}").format(
            v=raw, zh="、".join(label.zh for label in DOC_TYPE_LABELS.values()),
            en=", ".join(t.value for t in IdDocType)))
    return known


def _valid_until(raw: str) -> date | None:
    if raw == _LONG_TERM:
        return None
    try:
        return date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise InvalidInput(Text("“{v}”不是日期，应为 2031-05-01、2031/05/01、20310501 或“长期”",
                                "“{v}” is not a date: 2031-05-01, 2031/05/01, 20310501 or 长期 "
                                "(long-term)").format(v=raw)) from None


def _phone(raw: str) -> str:
    return validate_phone(raw).number


def _status(raw: str) -> str:
    known = _STATUSES.get(raw) or _STATUSES.get(raw.lower())
    if known is None:
        raise InvalidInput(Text("未知的用电状态“{v}”，可选：{zh}", "unknown status “{v}”; "
                                "known: {en}").format(
            v=raw, zh="、".join(label.zh for label in STATUS_LABELS.values()),
            en=", ".join(s.value for s in AccountStatus)))
    return known


def _fen(raw: str) -> int:
    yuan, point, cents = raw.partition(".")
    if (raw.isascii() and yuan.isdigit() and len(yuan) <= 9
            and (not point or (cents.isdigit() and len(cents) <= 2))):
        fen = int(yuan) * 100 + int(cents.ljust(2, "0") if point else 0)
        if fen <= _MAX_FEN:
            return fen
    raise InvalidInput(Text("欠费金额“{v}”应为元，最多两位小数，如 128.80",
                            "arrears “{v}” should be yuan with at most two decimals, e.g. "
                            "128.80").format(v=raw))


def _yes_no(raw: str) -> bool:
    answer = raw.lower()
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise InvalidInput(Text("“{v}”应为“是”或“否”", "“{v}” should be 是 (yes) or 否 (no)")
                       .format(v=raw))


def _language(raw: str) -> str:
    known = _LANGUAGES.get(raw.lower())
    if known is None:
        raise InvalidInput(Text("短信语言“{v}”应为 zh（中文）或 en（英文）",
                                "SMS language “{v}” should be zh (Chinese) or en (English)")
                           .format(v=raw))
    return known


def _as_is(raw: str) -> str:
    return raw


COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("户号", "number", "number", True, validate_account_number),
    ImportColumn("户名", "holder_name", "holder_name", True, _person_name),
    ImportColumn("证件类型", "id_type", "id_type", False, _id_type),
    # Checked with its type, once both are read (_Validator._id_number).
    ImportColumn("证件号码", "id_number", "id_number", False, _as_is),
    ImportColumn("证件有效期至", "id_valid_until", "id_valid_until", False, _valid_until),
    ImportColumn("联系电话", "phone", "phone", False, _phone),
    ImportColumn("用电地址", "supply_address", "supply_address", True, _address),
    ImportColumn("通讯地址", "mailing_address", "mailing_address", False, _address),
    ImportColumn("用电状态", "status", "status", True, _status),
    # The account number's first two digits name the district; this column, where the file
    # carries it, must agree (_Validator._district).
    ImportColumn("供电区域", "district", "district", False, _as_is),
    # Must be a community of the account's district (_Validator._community).
    ImportColumn("小区编号", "community_code", "community_code", False, _as_is),
    ImportColumn("欠费金额", "arrears_yuan", "arrears_fen", False, _fen, blank=0),
    ImportColumn("短信通知", "sms_consent", "sms_consent", False, _yes_no, blank=False),
    ImportColumn("短信语言", "sms_language", "sms_language", False, _language, blank="zh"),
)
_MAX_LENGTHS = {f.name: f.max_length for f in ACCOUNT_FIELDS if f.max_length is not None}


# --- the result --------------------------------------------------------------------------------


REJECTS_SUFFIX = ".rejects.csv"  # what a rejects file's name ends in


class ImportRefused(Exception):
    """The import cannot run (an unreadable file, an unknown column or district...); nothing
    has been changed."""


@dataclass(frozen=True)
class ImportSummary:
    path: Path
    sha256: str
    encoding: str
    rows: int  # the file's data rows (blank lines aside)
    new: int
    changed: int
    unchanged: int
    rejected: int
    # Of the rejected: accounts a counter changed after the export, or was changing right then.
    kept: int
    rejects_path: Path | None  # None: nothing was rejected
    reasons: dict[str, int]  # rejected rows by what was wrong (a column's name, or a kind)
    districts: dict[str, int]  # new and changed accounts of each district
    seconds: float
    # Of which reading the file, checking and staging its rows; the rest is the database's
    # comparison and writes.
    read_seconds: float


ProgressFn = Callable[[str, int, int], None]  # (stage, rows read, rows rejected)

# --- reading the file -------------------------------------------------------------------------

ENCODINGS = ("auto", "utf-8", "gb18030")
_SNIFF_BYTES = 4 * 2**20
_CHUNK_BYTES = 2**20
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes that did not decode (surrogateescape)
_Problem = tuple[str, Text]  # (what was wrong: a column's name or a kind, why)


def detect_encoding(path: Path) -> str:
    """"utf-8-sig" (a BOM), "utf-8" or "gb18030": what the first 4 MiB decode as. UTF-8 is
    tried first: GB18030 text is hardly ever valid UTF-8, while UTF-8 Chinese often decodes as
    GB18030 (into the wrong characters). Where neither decodes throughout, the one that goes
    further: its bad rows are rejected one by one."""
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    reached = {}
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError as exc:
            reached[encoding] = exc.start
        else:
            return encoding
    return max(reached, key=lambda encoding: reached[encoding])


def _codec(encoding: str) -> str:
    """How each line is decoded (the BOM is skipped with the header)."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _record_end(data: bytes) -> int:
    """Where the last whole record of `data` (which starts with a record) ends: after the last
    line break outside quotes (an even number of quotes before it; an escaped quote is two).
    -1 where there is none."""
    end = data.rfind(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return -1


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Whole records of the file, as bytes, and the line the first one starts on."""

    line: int
    data: bytes


class _Reader:
    """The file cut into chunks of whole records, hashed as it is read: this process does only
    what C does fast; the decoding and parsing are the workers'."""

    def __init__(self, binary: IO[bytes]) -> None:
        self._binary = binary
        self.sha256 = hashlib.sha256()
        self.line = 1  # of the next record

    def header(self) -> bytes:
        """The first record's bytes (the column names)."""
        data = b""
        while line := self._binary.readline():
            self.sha256.update(line)
            data += line
            if data.count(b'"') % 2 == 0:
                break
        self.line += data.count(b"\n")
        return data

    def chunks(self) -> Iterator[_Chunk]:
        pending = b""
        while block := self._binary.read(_CHUNK_BYTES):
            self.sha256.update(block)
            pending += block
            end = _record_end(pending)
            if end < 0 and len(pending) > 8 * _CHUNK_BYTES:
                # A quote left open for megabytes: cut at a line anyway; the rows around it
                # come out with the wrong number of columns and are rejected.
                end = pending.rfind(b"\n") + 1 or len(pending)
            if end > 0:
                yield self._cut(pending[:end])
                pending = pending[end:]
        if pending:
            yield self._cut(pending)

    def _cut(self, data: bytes) -> _Chunk:
        chunk = _Chunk(self.line, data)
        self.line += data.count(b"\n")
        return chunk


class _Decoded:
    """A chunk's text: decoded at once, or line by line where a byte does not decode (such a
    line's row is rejected; the others are read as usual)."""

    def __init__(self, chunk: _Chunk, codec: str) -> None:
        self.first, self.codec = chunk.line, codec
        self.undecodable: set[int] = set()  # lines, counted from the chunk's first
        try:
            self.text = chunk.data.decode(codec)
        except UnicodeDecodeError:
            lines = []
            for index, raw in enumerate(chunk.data.split(b"\n")):
                try:
                    lines.append(raw.decode(codec))
                except UnicodeDecodeError:
                    lines.append(raw.decode(codec, "surrogateescape"))
                    self.undecodable.add(index)
            self.text = "\n".join(lines)
        self._lines: list[str] | None = None

    def row(self, record: _Record) -> str:
        """The record as the file has it; bytes that did not decode as \\xNN."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        text = "\n".join(self._lines[record.line - self.first:record.end - self.first])
        return _ESCAPED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02X}", text.rstrip("\r"))


@dataclass(slots=True)
class _Record:
    line: int  # where the row starts, 1-based, the header being line 1
    end: int  # the line after it
    cells: list[str]
    problem: _Problem | None = None  # why it cannot even be checked


def _records(decoded: _Decoded) -> Iterator[_Record]:
    """The records of a chunk, with the lines they span."""
    reader = csv.reader(io.StringIO(decoded.text))
    first = decoded.first
    while True:
        start = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Record(first + start, first + reader.line_num, [], ("csv", Text(
                "该行不是有效的 CSV：{e}", "the row is not valid CSV: {e}").format(e=exc)))
            continue
        if not cells:
            continue  # a blank line
        record = _Record(first + start, first + reader.line_num, cells)
        if decoded.undecodable and not decoded.undecodable.isdisjoint(
                range(start, reader.line_num)):
            record.problem = ("encoding", Text(
                "含有无法按 {c} 解码的字节（原始行中以 \\x 标出）；若文件是另一种编码，请用 "
                "--encoding 指定", "bytes that are not {c} (marked \\x in the original row); "
                "if the file is in another encoding, name it with --encoding").format(
                c=decoded.codec))
        yield record


def _rows_at(path: Path, encoding: str, lines: set[int]) -> dict[int, str]:
    """The rows starting at `lines`, as the file has them: for the rows the database's checks
    reject, whose text was not kept. One pass; only the chunks holding them are parsed."""
    found: dict[int, str] = {}
    wanted = sorted(lines)
    with path.open("rb") as binary:
        reader = _Reader(binary)
        reader.header()
        for chunk in reader.chunks():
            first = bisect_left(wanted, chunk.line)
            if first < len(wanted) and wanted[first] <= chunk.line + chunk.data.count(b"\n"):
                decoded = _Decoded(chunk, _codec(encoding))
                found |= {r.line: decoded.row(r) for r in _records(decoded) if r.line in lines}
    return found


# --- checking rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """What the rows are checked against, read from the database once."""

    district_of_prefix: dict[str, str]  # account number prefix → district
    community_district: dict[str, str]  # community code → its district
    only_district: str | None  # --district
    today: date


@dataclass(frozen=True)
class _Layout:
    """The header's columns: which cell feeds which field."""

    width: int  # cells in the header
    # (cell, field, parse, required, an empty cell's value, max length, column), in COLUMNS
    # order: what each row goes through, unpacked once rather than looked up a row at a time.
    steps: tuple[tuple[int, str, Callable[[str], Any], bool, Any, int | None, ImportColumn],
                 ...]
    by_field: dict[str, ImportColumn]
    # The staged fields after line, number and district (always staged).
    carried: tuple[str, ...]


def _layout(header: Sequence[str], ignored: Sequence[str]) -> _Layout:
    names = [cell.strip() for cell in header]
    by_name = {c.header: c for c in COLUMNS} | {c.name: c for c in COLUMNS}
    skip = set(ignored)
    unknown = [n for n in names if n not in by_name and n not in skip]
    if unknown:
        raise ImportRefused(
            f"unknown column(s) {', '.join(map(repr, unknown))} in the header; the columns "
            f"are {', '.join(c.header + ' (' + c.name + ')' for c in COLUMNS)}, see "
            "docs/ACCOUNT_IMPORT.md (--ignore-column NAME leaves one out)")
    found: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in skip:
            continue
        column = by_name[name]
        if column.field in found:
            raise ImportRefused(f"the column {column.header} ({column.name}) appears twice "
                                "in the header")
        found[column.field] = index
    missing = [c for c in COLUMNS if c.required and c.field not in found]
    if missing:
        raise ImportRefused("the header lacks the required column(s) "
                            + ", ".join(f"{c.header} ({c.name})" for c in missing))
    if ("id_type" in found) != ("id_number" in found):
        raise ImportRefused("证件类型 (id_type) and 证件号码 (id_number) go together: the file "
                            "carries both or neither")
    carried = [c for c in COLUMNS if c.field in found]
    return _Layout(len(names),
                   tuple((found[c.field], c.field, c.parse, c.required, c.blank,
                          _MAX_LENGTHS.get(c.field), c) for c in carried),
                   {c.field: c for c in carried},
                   tuple(c.field for c in carried if c.field not in ("number", "district")))


_EMPTY = Text("未填写", "empty")
_Found = list[tuple[ImportColumn | None, Text]]  # a row's problems, each with its column


def _joined(problems: _Found) -> _Problem:
    """Every problem of a row in one reason, each after its column's name."""
    zh = "；".join(f"{c.header}：{r.zh}" if c else r.zh for c, r in problems)
    en = "; ".join(f"{c.name}: {r.en}" if c else r.en for c, r in problems)
    first = problems[0][0]
    return (first.name if first else "row"), Text(zh, en)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_text(value: Any) -> str:
    """A value that is not a string as PostgreSQL's COPY text format writes it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)  # an int, or a date (ISO)


def _copy_line(row: tuple[Any, ...]) -> str:
    strings = "\t".join([v if v.__class__ is str else "" for v in row])
    if ("\\" in strings or "\n" in strings or "\r" in strings
            or strings.count("\t") != len(row) - 1):
        # Rare: checked values hardly ever hold these (translating every value costs more).
        escapes = _COPY_ESCAPES
        return "\t".join([v.translate(escapes) if v.__class__ is str else _copy_text(v)
                          for v in row]) + "\n"
    return "\t".join([v if v.__class__ is str else _copy_text(v) for v in row]) + "\n"


@dataclass
class _Checked:
    """A chunk checked: its good rows staged (COPY text, or tuples for SQLite), its bad ones."""

    rows: int
    staged: bytes | list[tuple[Any, ...]]
    rejected: list[tuple[int, str, _Problem]]  # (line, the row as it was, problem)
    districts: set[str]


@dataclass(frozen=True)
class _Validator:
    reference: _Reference
    layout: _Layout
    codec: str  # the file's
    copy_encoding: str | None  # the COPY text's; None: tuples (SQLite)

    def chunk(self, chunk: _Chunk) -> _Checked:
        staged: list[tuple[Any, ...]] = []
        rejected: list[tuple[int, str, _Problem]] = []
        rows = 0
        decoded = _Decoded(chunk, self.codec)
        for record in _records(decoded):
            rows += 1
            problem = record.problem
            if problem is None and len(record.cells) != self.layout.width:
                problem = ("columns", Text(
                    "应有 {n} 列（与表头相同），实际 {m} 列：分隔符多了或少了，或引号未闭合",
                    "{n} columns expected (as in the header), {m} found: a separator too many "
                    "or too few, or a quote left open").format(
                    n=self.layout.width, m=len(record.cells)))
            if problem is None:
                row = self._row(record)
                if isinstance(row, tuple):
                    staged.append(row)
                    continue
                problem = _joined(row)
            rejected.append((record.line, decoded.row(record), problem))
        districts = {row[2] for row in staged}
        if self.copy_encoding is None:
            return _Checked(rows, staged, rejected, districts)
        text = "".join([_copy_line(row) for row in staged])
        return _Checked(rows, text.encode(self.copy_encoding), rejected, districts)

    def _row(self, record: _Record) -> tuple[Any, ...] | _Found:
        values: dict[str, Any] = {}
        problems: _Found = []
        cells = record.cells
        for index, name, parse, required, blank, limit, column in self.layout.steps:
            raw = cells[index].strip()
            if not raw:
                if required:
                    problems.append((column, _EMPTY))
                values[name] = blank
                continue
            try:
                value = parse(raw)
            except InvalidInput as exc:
                problems.append((column, exc.reason))
                continue
            if limit is not None and len(value) > limit:
                problems.append((column, Text("超过 {n} 个字符", "longer than {n} characters")
                                 .format(n=limit)))
                continue
            values[name] = value
        district = self._district(values, problems)
        if "id_number" in self.layout.by_field:
            self._id_number(values, problems)
        if district is not None and values.get("community_code") is not None:
            self._community(values["community_code"], district, problems)
        if problems:
            return problems
        return (record.line, values["number"], district,
                *[values[name] for name in self.layout.carried])

    def _district(self, values: dict[str, Any], problems: _Found) -> str | None:
        """The account's district, from its number's first two digits."""
        number = values.get("number")
        if number is None:
            return None
        district = self.reference.district_of_prefix.get(number[:2])
        if district is None:
            problems.append((self.layout.by_field["number"], Text(
                "前两位 {p} 不是任何供电区域的户号前缀", "its first two digits {p} are no "
                "district's account prefix").format(p=number[:2])))
            return None
        stated = values.get("district")
        if stated is not None and stated != district:
            problems.append((self.layout.by_field["district"], Text(
                "“{v}”与户号所属的供电区域 {d} 不符", "“{v}” is not {d}, the district of the "
                "account number").format(v=stated, d=district)))
            return None
        only = self.reference.only_district
        if only is not None and district != only:
            problems.append((None, Text(
                "户号属于供电区域 {d}，本次只导入 {only}（--district）", "the account is of "
                "district {d}; this import is for {only} only (--district)").format(
                d=district, only=only)))
            return None
        return district

    def _id_number(self, values: dict[str, Any], problems: _Found) -> None:
        if "id_type" not in values or "id_number" not in values:
            return  # one of them is wrong already
        id_type, number = values["id_type"], values["id_number"]
        if (id_type is None) != (number is None):
            problems.append((self.layout.by_field["id_type" if id_type is None else "id_number"],
                             Text("证件类型与证件号码须同时填写或同时留空", "the ID type and the "
                                  "ID number are given together or left empty together")))
            return
        if id_type is None or number is None:
            return
        try:
            values["id_number"] = validate_id(IdDocType(id_type), number,
                                              today=self.reference.today).number
        except InvalidInput as exc:
            problems.append((self.layout.by_field["id_number"], exc.reason))

    def _community(self, code: str, district: str, problems: _Found) -> None:
        home = self.reference.community_district.get(code)
        if home is None:
            problems.append((self.layout.by_field["community_code"], Text(
                "没有编号为“{v}”的小区", "there is no community “{v}”").format(v=code)))
        elif home != district:
            problems.append((self.layout.by_field["community_code"], Text(
                "小区“{v}”属于供电区域 {h}，不是户号所属的 {d}", "community “{v}” is of "
                "district {h}, not {d}, the account's").format(v=code, h=home, d=district)))


# A worker process's validator, set by its initializer.
_WORKER: list[_Validator] = []


def _start_worker(validator: _Validator) -> None:
    # Ctrl-C is the main process's to handle: it rolls the import back and ends the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.append(validator)


def _worker_chunk(chunk: _Chunk) -> _Checked:
    return _WORKER[0].chunk(chunk)


# --- the rejects file --------------------------------------------------------------------------


class _Rejects:
    """The rejects file: created (owner-only: it holds customers' rows) at the first rejected
    row. CSV in UTF-8 with BOM: line, reason in Chinese, reason in English, the row as it was."""

    HEADER = ("行号 line", "原因", "reason", "原始行 original row")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, text: str, problem: _Problem) -> None:
        what, reason = problem
        if self._writer is None:
            self._file = open(owner_only(self.path),  # noqa: SIM115
                              "w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.HEADER)
        self._writer.writerow((line, reason.zh, reason.en, text))
        self.count += 1
        self.reasons[what] += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


# --- staging -----------------------------------------------------------------------------------

# A file this large is checked by worker processes; a smaller one in this process.
WORKERS_FROM_BYTES = 8 * 2**20
PROGRESS_ROWS = 100_000
_TABLES = AccountRow.metadata.tables
_ACCOUNTS = _TABLES[AccountRow.__tablename__]
_DISTRICTS = _TABLES[DistrictRow.__tablename__]
_OPERATIONS = _TABLES[OperationRow.__tablename__]
_WORK_ITEMS = _TABLES[WorkItemRow.__tablename__]


def _staging_tables(carried: Sequence[str]) -> tuple[Table, Table]:
    """The staged rows (typed as the accounts table), and each one that is not unchanged with
    what it is: new, changed, kept (a counter changed it after the export), busy (a push holds
    it), moved (the account is of another district)."""
    metadata = MetaData()
    rows = Table("account_import_rows", metadata, Column("line", Integer),
                 *(Column(name, _ACCOUNTS.c[name].type)
                   for name in ("number", "district", *carried)),
                 prefixes=["TEMPORARY"])
    changes = Table("account_import_changes", metadata, Column("number", String(10)),
                    Column("district", String(16)), Column("line", Integer),
                    Column("kind", String(8)),
                    prefixes=["TEMPORARY"])
    return rows, changes


@contextmanager
def _stager(conn: Connection, table: Table
            ) -> Iterator[tuple[Callable[[_Checked], None], str | None]]:
    """What writes checked chunks' rows into `table` (PostgreSQL's COPY, SQLite's
    executemany), and the encoding of the COPY text (None: tuples are written)."""
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        driver: PgConnection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            def write_copy(checked: _Checked) -> None:
                assert isinstance(checked.staged, bytes)
                copy.write(checked.staged)
            yield write_copy, driver.info.encoding
        conn.exec_driver_sql(f"ANALYZE {table.name}")  # temporary tables get no autovacuum
        return
    statement = (f"INSERT INTO {table.name} ({', '.join(names)}) "
                 f"VALUES ({', '.join('?' * len(names))})")

    def write_many(checked: _Checked) -> None:
        if checked.staged:
            conn.exec_driver_sql(statement, checked.staged)
    yield write_many, None


@dataclass
class _Reading:
    rows: int = 0
    districts: set[str] = field(default_factory=set)


def _stage(chunks: Iterator[_Chunk], validator: _Validator, workers: int,
           write: Callable[[_Checked], None], rejects: _Rejects,
           progress: ProgressFn | None) -> _Reading:
    """Every chunk checked (by `workers` processes, or here for 0), staged and its bad rows
    rejected, in the file's order; a few chunks in flight at most, so memory stays flat."""
    reading = _Reading()

    def done(checked: _Checked) -> None:
        write(checked)
        reading.districts |= checked.districts
        for line, text, problem in checked.rejected:
            rejects.add(line, text, problem)
        before = reading.rows
        reading.rows += checked.rows
        if progress is not None and before // PROGRESS_ROWS != reading.rows // PROGRESS_ROWS:
            progress("reading", reading.rows, rejects.count)

    if workers == 0:
        for chunk in chunks:
            done(validator.chunk(chunk))
        return reading
    with get_context("spawn").Pool(workers, _start_worker, (validator,)) as pool:
        pending: deque[AsyncResult[_Checked]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_worker_chunk, (chunk,)))
            if len(pending) > 2 * workers:
                done(pending.popleft().get())
        while pending:
            done(pending.popleft().get())
    return reading


# --- the database's part -----------------------------------------------------------------------

NEW, CHANGED, KEPT, BUSY, MOVED = "new", "changed", "kept", "busy", "moved"
_HELD = {
    KEPT: Text("柜台在导出时间之后修改过该户（已受理的业务或已完成的工单），保留柜台的修改，"
               "本行未导入；请在客户系统核对后再导出",
               "a counter changed this account after the export time (an applied request or "
               "a completed work item): the counter's change is kept and this row was not "
               "imported; check it in the customer system and export again"),
    BUSY: Text("导入时柜台正在办理该户的业务，本行未导入；请稍后重新导入",
               "a counter was changing this account during the import: this row was not "
               "imported; import the file again later"),
}


def _moved(district: str) -> Text:
    return Text("该户号已属于供电区域 {d}，与户号前缀所指的区域不符，本行未导入",
                "this account number belongs to district {d}, not to the one its prefix "
                "names: the row was not imported").format(d=district)


def _duplicate(lines: list[int]) -> Text:
    shown = "、".join(map(str, lines[:10])) + ("…" if len(lines) > 10 else "")
    shown_en = ", ".join(map(str, lines[:10])) + (", …" if len(lines) > 10 else "")
    return Text("户号在文件中重复出现（第 {zh} 行），无法判断哪一行正确，均未导入",
                "the account number is on more than one row (lines {en}): which is right "
                "cannot be told, so none was imported").format(zh=shown, en=shown_en)


@dataclass
class _Written:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    kept: int = 0
    districts: dict[str, int] = field(default_factory=dict)


def _take_out_duplicates(conn: Connection, rows: Table, rejects: _Rejects, path: Path,
                         encoding: str) -> None:
    """Every row of an account number the file holds more than once, rejected."""
    twice = select(rows.c.number).group_by(rows.c.number).having(func.count() > 1)
    found = conn.execute(select(rows.c.number, rows.c.line)
                         .where(rows.c.number.in_(twice)).order_by(rows.c.line)).all()
    if not found:
        return
    lines: dict[str, list[int]] = {}
    for number, line in found:
        lines.setdefault(number, []).append(line)
    texts = _rows_at(path, encoding, {line for _, line in found})
    for number, line in found:
        rejects.add(line, texts[line], ("duplicate number", _duplicate(lines[number])))
    conn.execute(delete(rows).where(rows.c.number.in_(twice)))


def _lock_districts(conn: Connection, districts: set[str]) -> dict[str, tuple[int, int]]:
    """The districts locked (in code order, as two imports take them) until the commit:
    {district: (last seq, last account serial)}."""
    found = conn.execute(select(_DISTRICTS.c.code, _DISTRICTS.c.last_seq,
                                _DISTRICTS.c.last_account_serial)
                         .where(_DISTRICTS.c.code.in_(sorted(districts)))
                         .order_by(_DISTRICTS.c.code).with_for_update()).all()
    return {code: (seq, serial) for code, seq, serial in found}


def _sort(conn: Connection, rows: Table, changes: Table, compared: Sequence[str],
          exported_at: datetime) -> None:
    """Each staged row that is not unchanged into `changes`, with what it is."""
    accounts = _ACCOUNTS
    differs = or_(*(rows.c[name].is_distinct_from(accounts.c[name]) for name in compared))
    after_export = or_(
        rows.c.number.in_(select(_OPERATIONS.c.account_number).where(
            _OPERATIONS.c.outcome == Outcome.APPLIED.value,
            _OPERATIONS.c.received_at >= exported_at)),
        rows.c.number.in_(select(_WORK_ITEMS.c.account_number).where(
            _WORK_ITEMS.c.done_at >= exported_at)))
    kind = case((accounts.c.number.is_(None), NEW),
                (accounts.c.district != rows.c.district, MOVED),
                (after_export, KEPT), else_=CHANGED)
    conn.execute(insert(changes).from_select(
        ["number", "district", "line", "kind"],
        select(rows.c.number, rows.c.district, rows.c.line, kind)
        .select_from(rows.outerjoin(accounts, accounts.c.number == rows.c.number))
        .where(or_(accounts.c.number.is_(None), accounts.c.district != rows.c.district,
                   differs))))
    if conn.dialect.name == "postgresql":
        # A push that holds one of these accounts waits for the district behind this import:
        # skipped (and rejected as busy), never waited for.
        locked = (select(accounts.c.number)
                  .join(changes, changes.c.number == accounts.c.number)
                  .where(changes.c.kind == CHANGED)
                  .with_for_update(of=accounts, skip_locked=True).cte("locked"))
        conn.execute(update(changes).where(
            changes.c.kind == CHANGED,
            ~exists().where(locked.c.number == changes.c.number)).values(kind=BUSY))


def _write(conn: Connection, rows: Table, changes: Table, compared: Sequence[str],
           locked: dict[str, tuple[int, int]]) -> _Written:
    """New and changed accounts written with the next numbers of their district's sequence;
    the districts' sequences (and last serials, past any new number) moved on."""
    written = _Written()
    counts: dict[tuple[str, str], tuple[int, str]] = {
        (district, kind): (count, highest) for district, kind, count, highest in conn.execute(
            select(changes.c.district, changes.c.kind, func.count(), func.max(changes.c.number))
            .group_by(changes.c.district, changes.c.kind))}
    new_base: dict[str, int] = {}
    changed_base: dict[str, int] = {}
    for district, (last_seq, last_serial) in locked.items():
        new, highest = counts.get((district, NEW), (0, ""))
        changed, _ = counts.get((district, CHANGED), (0, ""))
        if not new + changed:
            continue
        new_base[district], changed_base[district] = last_seq, last_seq + new
        written.new += new
        written.changed += changed
        written.districts[district] = new + changed
        # A number the file brings is never given again to a new connection at a counter.
        serial = max(last_serial, int(highest[2:]) if highest else 0)
        conn.execute(update(_DISTRICTS).where(_DISTRICTS.c.code == district)
                     .values(last_seq=last_seq + new + changed, last_account_serial=serial))
    if written.new:
        _insert_new(conn, rows, changes, new_base)
    if written.changed:
        ranked = _ranked(changes, CHANGED, changed_base)
        source = (select(rows.c.number, ranked.c.next_seq,
                         *(rows.c[name] for name in compared))
                  .join_from(ranked, rows, rows.c.number == ranked.c.number).subquery())
        conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.number == source.c.number).values(
            {**{name: source.c[name] for name in compared},
             "version": _ACCOUNTS.c.version + 1, "seq": source.c.next_seq}))
    return written


def _ranked(changes: Table, kind: str, bases: dict[str, int]) -> Any:
    """The `kind` rows' numbers with their sequence numbers, the district's base + 1, 2...;
    ranked on the narrow table, before the wide rows are joined."""
    rank = func.row_number().over(partition_by=changes.c.district, order_by=changes.c.number)
    return (select(changes.c.number,
                   (case(bases, value=changes.c.district) + rank).label("next_seq"))
            .where(changes.c.kind == kind).subquery())


def _insert_new(conn: Connection, rows: Table, changes: Table, bases: dict[str, int]) -> None:
    """The new accounts, at version 1; what the file does not carry at the field's default."""
    ranked = _ranked(changes, NEW, bases)
    staged = {c.name for c in rows.columns}
    names = [*(f.name for f in ACCOUNT_FIELDS), "community_code"]
    values = [rows.c[name] if name in staged else literal(
        1 if name == "version" else _default(name), _ACCOUNTS.c[name].type) for name in names]
    conn.execute(insert(_ACCOUNTS).from_select(
        [*names, "seq"], select(*values, ranked.c.next_seq)
        .join_from(ranked, rows, rows.c.number == ranked.c.number)))


def _default(name: str) -> Any:
    """A field's value on a new account where the file does not carry it."""
    declared = next((f for f in ACCOUNT_FIELDS if f.name == name), None)
    return None if declared is None or declared.optional else declared.default


def _reject_held(conn: Connection, changes: Table, rejects: _Rejects, path: Path,
                 encoding: str) -> int:
    """The rows the database's checks held back, rejected with their reason; how many were
    kept as a counter left them."""
    held = conn.execute(
        select(changes.c.line, changes.c.kind, _ACCOUNTS.c.district)
        .join(_ACCOUNTS, _ACCOUNTS.c.number == changes.c.number)
        .where(changes.c.kind.in_([KEPT, BUSY, MOVED])).order_by(changes.c.line)).all()
    texts = _rows_at(path, encoding, {line for line, _, _ in held}) if held else {}
    for line, kind, district in held:
        rejects.add(line, texts[line], (kind, _moved(district) if kind == MOVED else _HELD[kind]))
    return sum(kind != MOVED for _, kind, _ in held)


# --- the import --------------------------------------------------------------------------------


def _reference(session: Session, only_district: str | None) -> _Reference:
    prefixes = dict(session.execute(select(DistrictRow.account_prefix, DistrictRow.code)).all())
    if only_district is not None and only_district not in prefixes.values():
        raise ImportRefused(f"there is no district {only_district} (the districts are "
                            f"{', '.join(sorted(prefixes.values())) or 'none yet'})")
    communities = dict(session.execute(select(CommunityRow.code, CommunityRow.district)).all())
    return _Reference(prefixes, communities, only_district, datetime.now(HALL_TZ).date())


def _workers(path: Path, workers: int | None) -> int:
    if workers is not None:
        return workers
    return os.cpu_count() or 1 if path.stat().st_size >= WORKERS_FROM_BYTES else 0


def import_accounts(engine: Engine, path: Path, *, exported_at: datetime,
                    rejects_path: Path | None = None, district: str | None = None,
                    encoding: str = "auto", ignored: Sequence[str] = (),
                    actor: str = "operator", workers: int | None = None,
                    progress: ProgressFn | None = None) -> ImportSummary:
    """Import the customer system's file at `path`, exported at `exported_at` (aware), in one
    transaction; see the module's docstring. `workers`: processes that check the rows (None:
    one per core for a file of 8 MiB or more, none for a smaller one).

    Raises ImportRefused, before anything is written, where the import cannot run; whatever
    fails later (the database, an interruption) is rolled back whole and raised as it came.
    """
    started = time.perf_counter()
    if encoding not in ENCODINGS:
        raise ImportRefused(f"unknown encoding {encoding}; give one of {', '.join(ENCODINGS)}")
    if exported_at.tzinfo is None or exported_at > datetime.now(UTC):
        raise ImportRefused("the export time must be a past moment with its time zone")
    rejects_path = rejects_path or path.with_name(path.stem + REJECTS_SUFFIX)
    if not os.access(rejects_path.parent, os.W_OK):
        raise ImportRefused(f"the rejects file cannot be written in {rejects_path.parent}")
    # An earlier import's rejects file is replaced; any other file is not (a slip of the
    # --rejects path would otherwise lose it, the export being imported included).
    if rejects_path.exists() and (not rejects_path.name.endswith(REJECTS_SUFFIX) or (
            path.exists() and rejects_path.samefile(path))):
        raise ImportRefused(f"{rejects_path} exists and is not a rejects file: give --rejects "
                            f"a new path, or one ending in {REJECTS_SUFFIX}")
    try:
        chosen = detect_encoding(path) if encoding == "auto" else encoding
        binary = path.open("rb")
        count = _workers(path, workers)
    except OSError as exc:
        raise ImportRefused(f"cannot read {path}: {exc.strerror or exc}") from exc
    rejects_path.unlink(missing_ok=True)  # never one of an earlier import mistaken for this
    rejects = _Rejects(rejects_path)
    try:
        with binary, Session(writer(engine)) as session, session.begin():
            summary = _import(session, path, _Reader(binary), chosen, exported_at, rejects,
                              district, ignored, actor, count, progress)
    except BaseException:
        rejects.close()
        rejects_path.unlink(missing_ok=True)  # the import did not happen
        raise
    rejects.close()
    return ImportSummary(**summary, seconds=time.perf_counter() - started)


def _unreadable_header(path: Path, head: bytes, encoding: str) -> str:
    """Why the file's first line gave no column names: most often the file is in another
    encoding than the one chosen (or guessed), which is what to say then."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        return (f"{path} is UTF-16 text (a spreadsheet's \"Unicode text\"): save it as CSV, "
                "UTF-8 or GB18030, and import that")
    try:
        head.decode(_codec(encoding))
    except UnicodeDecodeError:
        named = "UTF-8" if _codec(encoding) == "utf-8" else "GB18030"
        return (f"the header line of {path} is not {named} text: give the file's encoding "
                f"with --encoding ({', '.join(ENCODINGS[1:])})")
    return f"{path} has no readable header line (the column names)"


def _import(session: Session, path: Path, reader: _Reader, encoding: str,
            exported_at: datetime, rejects: _Rejects, district: str | None,
            ignored: Sequence[str], actor: str, workers: int,
            progress: ProgressFn | None) -> dict[str, Any]:
    started = time.perf_counter()
    reference = _reference(session, district)
    head = reader.header()
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    header = next(_records(_Decoded(_Chunk(1, head), _codec(encoding))), None)
    if header is None or header.problem is not None:
        raise ImportRefused(_unreadable_header(path, head, encoding))
    layout = _layout(header.cells, ignored)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The sorts and joins of millions of rows in memory rather than on disk.
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    rows, changes = _staging_tables(layout.carried)
    rows.create(conn)
    changes.create(conn)
    with _stager(conn, rows) as (write, copy_encoding):
        reading = _stage(reader.chunks(),
                         _Validator(reference, layout, _codec(encoding), copy_encoding),
                         workers, write, rejects, progress)
    read_seconds = time.perf_counter() - started
    if progress is not None:
        progress("writing", reading.rows, rejects.count)
    _take_out_duplicates(conn, rows, rejects, path, encoding)
    locked = _lock_districts(conn, reading.districts)
    _sort(conn, rows, changes, layout.carried, exported_at)
    written = _write(conn, rows, changes, layout.carried, locked)
    written.kept = _reject_held(conn, changes, rejects, path, encoding)
    written.unchanged = reading.rows - rejects.count - written.new - written.changed
    digest = reader.sha256.hexdigest()
    counts = {"rows": reading.rows, "new": written.new, "changed": written.changed,
              "unchanged": written.unchanged, "rejected": rejects.count, "kept": written.kept}
    append_audit(session, hall_id=None, terminal_id="", actor=actor, action="accounts_import",
                 subject=digest, detail={
                     "file": path.name, "sha256": digest, "encoding": encoding,
                     "exported_at": exported_at.astimezone(UTC).isoformat(),
                     "district": district, **counts,
                     "districts": dict(sorted(written.districts.items()))})
    changes.drop(conn)
    rows.drop(conn)
    return {"path": path, "sha256": digest, "encoding": encoding, **counts,
            "rejects_path": rejects.path if rejects.count else None,
            "reasons": dict(rejects.reasons.most_common()), "districts": written.districts,
            "read_seconds": read_seconds}


# --- the command line ----------------------------------------------------------------------------


def _export_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give e.g. 2026-12-01T06:00 (China Standard Time unless "
            "an offset is given, e.g. 2026-11-30T22:00+00:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=HALL_TZ)


def add_account_commands(commands: Parsers, command: Command) -> None:
    """`accounts import` under `commands`; `command(name, help, under)` makes a subcommand with
    --db."""
    accounts = commands.add_parser("accounts", help="accounts from the utility's customer "
                                                    "system")
    under = accounts.add_subparsers(dest="accounts_command", required=True)
    sub = command("import", "import the customer system's accounts file (CSV): new accounts "
                            "added, changed ones updated, each with a new sequence number so "
                            "that the terminals pull them; bad rows go to a rejects file; one "
                            "transaction, audited (docs/ACCOUNT_IMPORT.md). Exit 0: done, "
                            "1: done but rows were rejected, 2: nothing imported", under)
    sub.add_argument("file", type=Path, metavar="FILE.csv")
    sub.add_argument("--exported-at", type=_export_time, required=True, metavar="TIME",
                     help="when the customer system exported the file, e.g. 2026-12-01T06:00 "
                          "(China Standard Time unless an offset is given): an account a "
                          "counter changed since then keeps the counter's change")
    sub.add_argument("--district", metavar="CODE",
                     help="import only this district's accounts (other rows are rejected)")
    sub.add_argument("--rejects", type=Path, metavar="PATH",
                     help="where the rejected rows go (default FILE.rejects.csv beside the "
                          "file; written only when a row is rejected, owner-only)")
    sub.add_argument("--encoding", choices=ENCODINGS, default="auto",
                     help="the file's encoding (default: detected; UTF-8 with or without BOM, "
                          "or GB18030)")
    sub.add_argument("--ignore-column", action="append", default=[], metavar="NAME",
                     help="a column of the file to leave out (repeatable); any other column "
                          "not in docs/ACCOUNT_IMPORT.md stops the import")
    sub.set_defaults(run=_cmd_import)


def _progress(stage: str, rows: int, rejected: int) -> None:
    # On a terminal the count is rewritten in place; in a log, a line each time.
    again, end = ("\r", "") if sys.stdout.isatty() else ("", "\n")
    if stage == "reading":
        print(f"{again}reading: {rows:,} rows, {rejected:,} rejected", end=end, flush=True)
    else:
        print(f"{again}read {rows:,} rows, {rejected:,} rejected; comparing with the database "
              "and writing...", flush=True)


def _first_line(exc: Exception) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def _cmd_import(args: argparse.Namespace) -> int:
    engine, actor = checked_engine(args.db), operator()
    if engine is None:
        return 2
    try:
        summary = import_accounts(
            engine, args.file, exported_at=args.exported_at, rejects_path=args.rejects,
            district=args.district, encoding=args.encoding, ignored=args.ignore_column,
            actor=actor, progress=_progress)
    except ImportRefused as exc:
        print(f"hallserver: {exc}; nothing was imported", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nhallserver: interrupted: nothing was imported, the database is as it was",
              file=sys.stderr)
        return 130
    except (SQLAlchemyError, OSError) as exc:
        print(f"\nhallserver: the import failed, nothing was imported (the database is as it "
              f"was): {_first_line(exc)}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"imported {summary.path.name} ({summary.encoding}, sha256 {summary.sha256[:16]}…) "
          f"as {actor}: {summary.rows:,} rows: {summary.new:,} new, {summary.changed:,} "
          f"changed, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected, in "
          f"{summary.seconds:.1f} s (reading and checking {summary.read_seconds:.1f} s)")
    if summary.districts:
        print("new and changed accounts, each with a new sequence number for the terminals' "
              "pull: " + ", ".join(f"{d} {n:,}" for d, n in sorted(summary.districts.items())))
    if summary.rejects_path is not None:
        print("rejected rows (not imported), by what was wrong: "
              + ", ".join(f"{what} {n:,}" for what, n in summary.reasons.items()))
        if summary.kept:
            print(f"{summary.kept:,} of them were changed at a counter after the export (or "
                  "during the import): the counter's change is kept")
        print(f"each with its line and reason in {summary.rejects_path} (owner-only: it holds "
              "the rows as they were)")
    return 1 if summary.rejected else 0
