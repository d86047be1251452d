"""What the search shows of each account found, as plain text: enough to tell the accounts
apart and no more of the holder's personal data."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hallcore.domain.accounts import STATUS_LABELS, Account
from hallcore.domain.ids import normalize_id_input
from hallcore.domain.text import Lang

ID_TAIL = 4  # characters of the ID number shown
_HIDDEN = "*" * 4  # the rest, of whatever length: its length is not shown either


def id_tail(id_number: str | None) -> str:
    """ "440301199001011234" -> "****1234"; a number of four characters or fewer is hidden
    whole, as its tail would be all of it."""
    if not id_number:
        return ""
    if len(id_number) <= ID_TAIL:
        return "*" * len(id_number)
    return _HIDDEN + id_number[-ID_TAIL:]


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One account found, a value per column of the results."""

    number: str
    holder: str
    status: str
    id_tail: str
    address: str

    def cells(self) -> tuple[str, str, str, str, str]:
        return self.number, self.holder, self.status, self.id_tail, self.address


def result_row(account: Account, lang: Lang) -> ResultRow:
    return ResultRow(account.number, account.holder_name, STATUS_LABELS[account.status][lang],
                     id_tail(account.id_number), account.supply_address)


def _compact(text: str) -> str:
    typed = unicodedata.normalize("NFKC", text)
    return "".join(typed.split()).replace("-", "")


def is_exact_match(query: str, account: Account) -> bool:
    """The clerk typed (or a reader scanned) this account's own number, phone or ID number
    whole, not the first digits of someone else's."""
    compact = _compact(query)
    if not compact:
        return False
    if compact == account.number or (account.phone and compact == _compact(account.phone)):
        return True
    return account.id_number is not None and normalize_id_input(query) == account.id_number
