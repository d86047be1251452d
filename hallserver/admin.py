"""What an administrator keeps on the central server: districts, halls (with their opening
hours), communities and their customer managers, and the staff who log in at the counters.

Every change is checked before anything is written (`AdminRefused` says why, in Chinese and
English) and audited with the operator who made it. Text from the command line and from CSV
files goes through the same parsers (`*_spec`), so a first load by CSV and a change by hand
follow one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

# Deactivating, moving or resetting a clerk ends their sessions in every server process.
import hallserver.auth_cache  # noqa: F401  (its session events)
from hallcore.domain.contact import validate_person_name, validate_phone
from hallcore.domain.text import InvalidInput, Text
from hallcore.wire import Role
from hallserver.accounts import next_seq
from hallserver.audit import append_audit
from hallserver.models import (
    AccountRow,
    ClerkRow,
    CommunityRow,
    DistrictRow,
    HallRow,
    SupervisorKeyRow,
    TokenRow,
)
from hallserver.security import hash_password, one_time_password

# A one-time password lets its clerk in for this long, only to choose their own.
ONE_TIME_PASSWORD_TTL = timedelta(days=3)

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")  # district codes and hall ids
_COMMUNITY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
_LOGIN = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")
_PREFIX = re.compile(r"^[1-9][0-9]$")
_SERVICE_PHONE = re.compile(r"^[0-9][0-9-]{2,31}$")
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


class AdminRefused(Exception):
    """The change cannot be made; nothing was changed."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


def _refuse(zh: str, en: str) -> AdminRefused:
    return AdminRefused(Text(zh, en))


# --- Parsing what an operator typed or a CSV file holds ---------------------------------------

def _code(raw: str, pattern: re.Pattern[str], what: Text) -> str:
    value = raw.strip().upper()
    if not pattern.match(value):
        longest = 16 if pattern is _CODE else 32
        raise _refuse(f"{what.zh}“{raw}”不合格式：2–{longest} 个字母、数字或 -，以字母或数字开头",
                      f"{what.en} '{raw}' has the wrong form: 2-{longest} letters, digits or "
                      "-, starting with a letter or digit")
    return value


def _plain_name(raw: str, what: Text, max_length: int = 60) -> str:
    value = " ".join(raw.split())
    if not value or len(value) > max_length or not value.isprintable():
        raise _refuse(f"{what.zh}不能为空，最多 {max_length} 个字符",
                      f"the {what.en} must not be empty and has at most {max_length} characters")
    return value


def _clock(raw: str, what: Text) -> time:
    found = _CLOCK.match(raw.strip())
    if found is None:
        raise _refuse(f"{what.zh}“{raw}”应为 时:分，如 08:30",
                      f"{what.en} '{raw}' should be HH:MM, e.g. 08:30")
    return time(int(found[1]), int(found[2]))


def _whole(raw: str, what: Text, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _refuse(f"{what.zh}“{raw}”应为 {low} 到 {high} 之间的整数",
                      f"{what.en} '{raw}' should be a whole number from {low} to {high}")
    return value


def _optional(raw: str | None) -> str | None:
    return raw.strip() or None if raw is not None else None


def _person(raw: str, what: Text) -> str:
    try:
        return validate_person_name(raw)
    except InvalidInput as exc:
        raise AdminRefused(Text(f"{what.zh}：{exc.reason.zh}", f"{what.en}: {exc.reason.en}")
                           ) from None


def _active(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in {"yes", "no", "true", "false", "1", "0", "是", "否"}:
        raise _refuse(f"在职“{raw}”应为 yes 或 no", f"active '{raw}' should be yes or no")
    return value in {"yes", "true", "1", "是"}


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    account_prefix: str


def district_spec(code: str, name: str, account_prefix: str) -> DistrictSpec:
    prefix = account_prefix.strip()
    if not _PREFIX.match(prefix):
        raise _refuse(f"户号前缀“{account_prefix}”应为两位数字（10–99），是本区户号的前两位",
                      f"account prefix '{account_prefix}' should be two digits (10-99): the "
                      "first two digits of the district's account numbers")
    return DistrictSpec(_code(code, _CODE, Text("供电区编码", "district code")),
                        _plain_name(name, Text("供电区名称", "district name")), prefix)


@dataclass(frozen=True)
class HallSpec:
    id: str
    name: str
    district: str
    service_phone: str
    opens_at: time
    closes_at: time
    offline_window_hours: int


def hall_spec(id: str, name: str, district: str, service_phone: str, opens_at: str,
              closes_at: str, offline_window_hours: str) -> HallSpec:
    phone = service_phone.strip()
    if not _SERVICE_PHONE.match(phone):
        raise _refuse(f"服务电话“{service_phone}”只能有数字和 -，如 95598 或 020-12345678",
                      f"service phone '{service_phone}' holds digits and - only, e.g. 95598")
    opens = _clock(opens_at, Text("开门时间", "opening time"))
    closes = _clock(closes_at, Text("关门时间", "closing time"))
    if opens >= closes:
        raise _refuse(f"开门时间 {opens:%H:%M} 应早于关门时间 {closes:%H:%M}",
                      f"the opening time {opens:%H:%M} must be before the closing time "
                      f"{closes:%H:%M}")
    return HallSpec(_code(id, _CODE, Text("营业厅编号", "hall id")),
                    _plain_name(name, Text("营业厅名称", "hall name")),
                    _code(district, _CODE, Text("供电区编码", "district code")), phone,
                    opens, closes,
                    _whole(offline_window_hours, Text("离线期限（小时）", "offline window (hours)"),
                           1, 30 * 24))


@dataclass(frozen=True)
class CommunitySpec:
    code: str
    district: str
    name: str
    households: int
    manager_name: str | None
    manager_phone: str | None
    hall_id: str | None


def community_spec(code: str, district: str, name: str, households: str,
                   manager_name: str | None = None, manager_phone: str | None = None,
                   hall_id: str | None = None) -> CommunitySpec:
    manager, phone = _optional(manager_name), _optional(manager_phone)
    if (manager is None) != (phone is None):
        raise _refuse("客户经理的姓名和电话要一起填写（或都不填）",
                      "the customer manager's name and phone go together (or neither)")
    if phone is not None:
        try:
            phone = validate_phone(phone).number
        except InvalidInput as exc:
            raise AdminRefused(Text(f"客户经理电话：{exc.reason.zh}",
                                    f"customer manager's phone: {exc.reason.en}")) from None
    hall = _optional(hall_id)
    return CommunitySpec(
        _code(code, _COMMUNITY_CODE, Text("小区编码", "community code")),
        _code(district, _CODE, Text("供电区编码", "district code")),
        _plain_name(name, Text("小区名称", "community name"), 100),
        _whole(households, Text("户数", "households"), 0, 1_000_000),
        None if manager is None else _person(manager, Text("客户经理姓名", "customer manager")),
        phone, None if hall is None else _code(hall, _CODE, Text("营业厅编号", "hall id")))


@dataclass(frozen=True)
class StaffSpec:
    login: str
    name: str
    hall_id: str
    role: Role
    active: bool = True


def staff_spec(login: str, name: str, hall_id: str, role: str, active: str = "yes"
               ) -> StaffSpec:
    value = login.strip()
    if not _LOGIN.match(value):
        raise _refuse(f"工号“{login}”应为 2–32 个字母、数字或 _ . -",
                      f"clerk id '{login}' should be 2-32 letters, digits or _ . -")
    roles = {r.value: r for r in Role}
    if role.strip() not in roles:
        raise _refuse(f"岗位“{role}”应为 {' 或 '.join(roles)}",
                      f"role '{role}' should be {' or '.join(roles)}")
    return StaffSpec(value, _person(name, Text("姓名", "name")),
                     _code(hall_id, _CODE, Text("营业厅编号", "hall id")), roles[role.strip()],
                     _active(active))


# --- Changes -----------------------------------------------------------------------------------

_Row = TypeVar("_Row")


def _existing(session: Session, model: type[_Row], key: str, what: Text) -> _Row:
    row = session.get(model, key)
    if row is None:
        raise _refuse(f"没有{what.zh} {key}", f"there is no {what.en} {key}")
    return row


def _audit(session: Session, actor: str, action: str, hall_id: str | None, subject: str,
           detail: Mapping[str, Any]) -> None:
    append_audit(session, hall_id=hall_id, terminal_id="", actor=actor, action=action,
                 subject=subject, detail=detail)


def _changed(row: object, values: Mapping[str, object]) -> dict[str, object]:
    """The values that differ from the row's, written to it; {} when none does."""
    changes = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changes.items():
        setattr(row, name, value)
    return changes


def _shown(changes: Mapping[str, object]) -> dict[str, object]:
    return {k: v.strftime("%H:%M") if isinstance(v, time) else v for k, v in changes.items()}


def put_district(session: Session, actor: str, spec: DistrictSpec) -> str:
    """Create the district, or bring its name in line; 'added', 'changed' or 'unchanged'."""
    row = session.get(DistrictRow, spec.code)
    holder = session.scalar(select(DistrictRow.code).where(
        DistrictRow.account_prefix == spec.account_prefix, DistrictRow.code != spec.code))
    if holder is not None:
        raise _refuse(f"户号前缀 {spec.account_prefix} 已属于供电区 {holder}",
                      f"account prefix {spec.account_prefix} already belongs to district "
                      f"{holder}")
    if row is None:
        session.add(DistrictRow(code=spec.code, name=spec.name,
                                account_prefix=spec.account_prefix, last_seq=0,
                                last_account_serial=0))
        _audit(session, actor, "district_added", None, spec.code, asdict(spec))
        return "added"
    if row.account_prefix != spec.account_prefix:
        raise _refuse(f"供电区 {spec.code} 的户号前缀是 {row.account_prefix}，已有户号用它，不能改",
                      f"district {spec.code} has account prefix {row.account_prefix}; its "
                      "account numbers use it, so it cannot change")
    changes = _changed(row, {"name": spec.name})
    if not changes:
        return "unchanged"
    _audit(session, actor, "district_changed", None, spec.code, changes)
    return "changed"


def put_hall(session: Session, actor: str, spec: HallSpec) -> str:
    _existing(session, DistrictRow, spec.district, Text("供电区", "district"))
    row = session.get(HallRow, spec.id)
    values = {f.name: getattr(spec, f.name) for f in fields(spec) if f.name != "id"}
    if row is None:
        session.add(HallRow(id=spec.id, **values))
        _audit(session, actor, "hall_added", spec.id, spec.id, _shown(values))
        return "added"
    if row.district != spec.district:
        raise _refuse(f"营业厅 {spec.id} 属于供电区 {row.district}，不能改到 {spec.district}",
                      f"hall {spec.id} belongs to district {row.district}; it cannot move to "
                      f"{spec.district}")
    changes = _changed(row, values)
    if not changes:
        return "unchanged"
    _audit(session, actor, "hall_changed", spec.id, spec.id, _shown(changes))
    return "changed"


def put_community(session: Session, actor: str, spec: CommunitySpec) -> str:
    """Create or change a community. A change of what the counter shows of it (name, manager)
    gives each of its accounts a new change number, so the terminals pull it."""
    _existing(session, DistrictRow, spec.district, Text("供电区", "district"))
    if spec.hall_id is not None:
        hall = _existing(session, HallRow, spec.hall_id, Text("营业厅", "hall"))
        if hall.district != spec.district:
            raise _refuse(f"营业厅 {hall.id} 不在供电区 {spec.district}",
                          f"hall {hall.id} is not in district {spec.district}")
    row = session.get(CommunityRow, spec.code)
    values = {f.name: getattr(spec, f.name) for f in fields(spec) if f.name != "code"}
    if row is None:
        session.add(CommunityRow(code=spec.code, **values))
        _audit(session, actor, "community_added", spec.hall_id, spec.code, values)
        return "added"
    if row.district != spec.district:
        raise _refuse(f"小区 {spec.code} 属于供电区 {row.district}",
                      f"community {spec.code} belongs to district {row.district}")
    changes = _changed(row, values)
    if not changes:
        return "unchanged"
    if changes.keys() & {"name", "manager_name", "manager_phone"}:
        _renumber_accounts_of(session, spec.code, spec.district)
    _audit(session, actor, "community_changed", spec.hall_id, spec.code, changes)
    return "changed"


def _renumber_accounts_of(session: Session, community: str, district: str) -> None:
    """New, distinct change numbers for the community's accounts (a pull pages by them)."""
    session.flush()
    count = session.scalar(select(func.count()).select_from(AccountRow)
                           .where(AccountRow.community_code == community)) or 0
    if not count:
        return
    first = next_seq(session, district, count) - count
    numbers = session.scalars(select(AccountRow.number)
                              .where(AccountRow.community_code == community)
                              .order_by(AccountRow.number)).all()
    session.execute(update(AccountRow), [
        {"number": number, "seq": first + i}
        for i, number in enumerate(numbers, start=1)])


def _end_sessions(session: Session, login: str) -> None:
    session.execute(update(TokenRow).where(TokenRow.clerk == login).values(revoked=True))


def _one_time_password(row: ClerkRow, now: datetime) -> str:
    password = one_time_password()
    row.password_hash = hash_password(password)
    row.must_change_password = True
    row.password_expires_at = now + ONE_TIME_PASSWORD_TTL
    return password


def put_staff(session: Session, actor: str, spec: StaffSpec, now: datetime
              ) -> tuple[str, str | None]:
    """Create a clerk or supervisor with a one-time password, or bring one in line with the
    spec (name, role, hall, active). ('added' | 'changed' | 'unchanged', the one-time
    password of a new one)."""
    _existing(session, HallRow, spec.hall_id, Text("营业厅", "hall"))
    row = session.get(ClerkRow, spec.login)
    if row is None:
        row = ClerkRow(login=spec.login, name=spec.name, hall_id=spec.hall_id,
                       role=spec.role.value, active=spec.active)
        password = _one_time_password(row, now)
        session.add(row)
        _audit(session, actor, "staff_added", spec.hall_id, spec.login,
               {"role": spec.role.value, "active": spec.active})
        return "added", password
    old_hall = row.hall_id
    changes = _changed(row, {"name": spec.name, "hall_id": spec.hall_id,
                             "role": spec.role.value, "active": spec.active})
    if not changes:
        return "unchanged", None
    if changes.keys() & {"hall_id", "role", "active"}:
        _end_sessions(session, spec.login)
    if "hall_id" in changes or "role" in changes:
        # Their offline approval keys were registered at the old hall's terminals, for the
        # old role: a supervisor signs off again where they work now.
        session.execute(delete(SupervisorKeyRow).where(
            SupervisorKeyRow.supervisor == spec.login))
    detail = {k: v for k, v in changes.items() if k != "name"} | (
        {"from_hall": old_hall} if "hall_id" in changes else {})
    for hall in {old_hall, spec.hall_id}:
        _audit(session, actor, "staff_changed", hall, spec.login,
               detail | ({"name_changed": True} if "name" in changes else {}))
    return "changed", None


def staff_row(session: Session, login: str) -> ClerkRow:
    return _existing(session, ClerkRow, login.strip(), Text("工号", "clerk id"))


def change_staff(session: Session, actor: str, login: str, now: datetime,
                 change: Callable[[StaffSpec], StaffSpec]) -> str:
    """`put_staff` of the clerk's current spec changed by `change` (deactivate, move...)."""
    row = staff_row(session, login)
    current = StaffSpec(row.login, row.name, row.hall_id, Role(row.role), row.active)
    return put_staff(session, actor, change(current), now)[0]


def deactivate(spec: StaffSpec) -> StaffSpec:
    return replace(spec, active=False)


def reactivate(spec: StaffSpec) -> StaffSpec:
    return replace(spec, active=True)


def move_to(hall_id: str) -> Callable[[StaffSpec], StaffSpec]:
    hall = _code(hall_id, _CODE, Text("营业厅编号", "hall id"))
    return lambda spec: replace(spec, hall_id=hall)


def reset_password(session: Session, actor: str, login: str, now: datetime) -> str:
    """A new one-time password for the clerk (their sessions end); it must be changed at their
    next login and expires after ONE_TIME_PASSWORD_TTL."""
    row = staff_row(session, login)
    password = _one_time_password(row, now)
    _end_sessions(session, row.login)
    _audit(session, actor, "staff_password_reset", row.hall_id, row.login,
           {"expires_at": row.password_expires_at.isoformat()
            if row.password_expires_at else None})
    return password
