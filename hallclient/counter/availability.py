"""What each business button says before anything is typed: whether the business can be done
for the account on screen now, why not, what it will need, and by when it is finished.

Plain Python: the counter window asks it whenever the account, or whether the server can be
reached, changes; the request itself is checked again, in full, when it is submitted.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from hallclient.store.operations import ONLINE_ONLY_REFUSAL, SUPERVISOR_BUSINESS
from hallcore.domain.accounts import STATUS_LABELS, Account, format_yuan
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind, may_start
from hallcore.domain.deadlines import HALL_TZ, due_at
from hallcore.domain.text import Text

NO_ACCOUNT = Text("须先选定账户", "select an account")
OFFLINE = Text("须联网办理", "needs the network")
AT_COUNTER = Text("当场办结", "done at the counter")
DONE_BY = Text("{d} 前办结", "done by {d}")
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
                   online_only: Collection[BusinessKind], now: datetime) -> BusinessState:
    btype = BUSINESS_TYPES[kind]
    start = may_start(kind, account)
    if not start.allowed:
        assert start.reason is not None
        return BusinessState(kind, start.reason, _short_refusal(kind, account))
    if not online and kind in online_only:
        return BusinessState(kind, ONLINE_ONLY_REFUSAL.format(business=btype.label), OFFLINE)
    needs = start.warnings + ((SUPERVISOR_BUSINESS.format(business=btype.label),)
                              if btype.needs_supervisor else ())
    return BusinessState(kind, None, _done_by(kind, now), needs)


def _short_refusal(kind: BusinessKind, account: Account | None) -> Text:
    if account is None:
        return NO_ACCOUNT
    if account.status not in BUSINESS_TYPES[kind].allowed_from:
        return STATUS_LABELS[account.status]
    return ARREARS.format(owed=format_yuan(account.arrears_fen))


def _done_by(kind: BusinessKind, now: datetime) -> Text:
    limit = BUSINESS_TYPES[kind].time_limit
    if limit.at_counter:
        return AT_COUNTER
    day: date = due_at(now.astimezone(HALL_TZ), limit).date()
    return DONE_BY.format(d=f"{day:%m-%d}")
