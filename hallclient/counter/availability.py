"""What each business button says before anything is typed: whether the business can be done
for the account on screen now, why not, what it will need, and by when it is finished.

Plain Python: the counter window asks it whenever the account, or whether the server can be
reached, changes; the request itself is checked again, in full, when it is submitted.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from hallclient.store.operations import ONLINE_ONLY_REFUSAL, SUPERVISOR_BUSINESS
from hallcore.domain.accounts import STATUS_LABELS, Account, format_yuan
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, may_start
from hallcore.domain.deadlines import HallCalendar
from hallcore.domain.text import Text

NO_ACCOUNT = Text("须先选定账户", "select an account")
OFFLINE = Text("须联网办理", "needs the network")
AT_COUNTER = Text("当场办结", "done at the counter")
DONE_BY = Text("{d} 前办结", "done by {d}")
DONE_BY_ESTIMATE = Text("约 {d} 前办结", "done by ~{d}")
UNKNOWN_HOLIDAYS = Text("{y}年的节假日安排尚未载入：办结日期只跳过了周末，请告知客户遇节假日顺延",
                        "the public holidays of {y} are not loaded yet: the date skips "
                        "weekends alone; tell the customer it moves by any holiday")
ARREARS = Text("欠费 {owed}", "owes {owed}")


@dataclass(frozen=True, slots=True)
class BusinessState:
    kind: BusinessKind
    why_not: Text | None  # None: it can be done now
    short: Text  # one line under the button: why not, else by when
    needs: tuple[Text, ...] = ()  # what it will take: a supervisor's sign-off, arrears settled

    @property
    def available(self) -> bool:
        return self.why_not is None


def business_state(kind: BusinessKind, account: Account | None, *, online: bool,
                   online_only: Collection[BusinessKind], now: datetime,
                   calendar: HallCalendar) -> BusinessState:
    btype = BUSINESS_TYPES[kind]
    start = may_start(kind, account)
    if not start.allowed:
        assert start.reason is not None
        return BusinessState(kind, start.reason, _short_refusal(kind, account))
    if not online and kind in online_only:
        return BusinessState(kind, ONLINE_ONLY_REFUSAL.format(business=btype.label), OFFLINE)
    needs = start.warnings + ((SUPERVISOR_BUSINESS.format(business=btype.label),)
                              if btype.needs_supervisor else ())
    if btype.time_limit.at_counter:
        return BusinessState(kind, None, AT_COUNTER, needs)
    due = calendar.deadline(now, btype.time_limit)
    if not due.estimated:
        return BusinessState(kind, None, DONE_BY.format(d=f"{due.at:%m-%d}"), needs)
    unknown = UNKNOWN_HOLIDAYS.format(y="、".join(map(str, due.unknown_years)))
    return BusinessState(kind, None, DONE_BY_ESTIMATE.format(d=f"{due.at:%m-%d}"),
                         (*needs, unknown))


def _short_refusal(kind: BusinessKind, account: Account | None) -> Text:
    if account is None:
        return NO_ACCOUNT
    if account.status not in BUSINESS_TYPES[kind].allowed_from:
        return STATUS_LABELS[account.status]
    return ARREARS.format(owed=format_yuan(account.arrears_fen))

