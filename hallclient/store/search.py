"""Finding an account in the cache from what the customer gives: account number, ID number,
phone, or a fragment of the name or the address."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hallclient.domain.accounts import Account
from hallclient.domain.ids import normalize_id_input
from hallclient.store.accounts import account_from_row
from hallclient.store.models import AccountRow

_DIGITS = re.compile(r"\d+")
_ID_LIKE = re.compile(r"[0-9A-Z]{6,}")


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_accounts(session: Session, query: str, *, limit: int = 50) -> list[Account]:
    """Accounts matching `query`, exact identifiers first. Blank queries find nothing."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not text:
        return []
    compact = "".join(text.split()).replace("-", "")
    conditions = []
    if _DIGITS.fullmatch(compact):
        conditions += [AccountRow.number == compact, AccountRow.phone == compact,
                       AccountRow.phone.like(f"%{compact}")]
        if len(compact) >= 4:
            conditions.append(AccountRow.number.like(f"{compact}%"))
    id_number = normalize_id_input(text)
    if _ID_LIKE.fullmatch(id_number):
        conditions.append(AccountRow.id_number == id_number)
    conditions += [AccountRow.holder_name.like(_like(text), escape="\\"),
                   AccountRow.supply_address.like(_like(text), escape="\\")]
    rows = session.scalars(select(AccountRow).where(or_(*conditions))
                           .order_by(AccountRow.number).limit(limit * 2)).all()
    exact = [r for r in rows if compact in (r.number, r.phone) or r.id_number == id_number]
    rest = [r for r in rows if r not in exact]
    return [account_from_row(r) for r in (exact + rest)[:limit]]
