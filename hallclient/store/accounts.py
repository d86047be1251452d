"""Reading and writing cached accounts as domain objects."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.models import AccountRow, CommunityRow
from hallcore.db.account_columns import read_columns, read_community, write_columns
from hallcore.domain.accounts import Account, Community


def account_from_row(row: AccountRow) -> Account:
    return Account(**read_columns(row), community=read_community(row.community))


def save_community(session: Session, community: Community) -> None:
    session.merge(CommunityRow(
        code=community.code,
        name=community.name,
        households=community.households,
        manager_name=community.manager_name,
        manager_phone=community.manager_phone,
    ))


def save_account(session: Session, account: Account, *, server_seq: int | None = None) -> None:
    """Insert or replace the cached account (its community must be saved already)."""
    row = session.get(AccountRow, account.number)
    if row is None:
        row = AccountRow(number=account.number, server_seq=server_seq or 0)
        session.add(row)
    elif server_seq is not None:
        row.server_seq = server_seq
    write_columns(row, account)
    row.community_code = account.community.code if account.community else None


def load_account(session: Session, number: str) -> Account | None:
    row = session.get(AccountRow, number)
    return account_from_row(row) if row else None


def count_accounts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AccountRow)) or 0
