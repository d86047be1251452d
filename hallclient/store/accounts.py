"""Reading and writing cached accounts as domain objects."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.domain.accounts import Account, AccountStatus, Community
from hallclient.domain.ids import IdDocType
from hallclient.store.models import AccountRow, CommunityRow


def _community(row: CommunityRow | None) -> Community | None:
    if row is None:
        return None
    return Community(row.code, row.name, row.households, row.manager_name, row.manager_phone)


def account_from_row(row: AccountRow) -> Account:
    return Account(
        number=row.number,
        holder_name=row.holder_name,
        id_type=IdDocType(row.id_type) if row.id_type else None,
        id_number=row.id_number,
        phone=row.phone,
        supply_address=row.supply_address,
        mailing_address=row.mailing_address,
        status=AccountStatus(row.status),
        version=row.version,
        district=row.district,
        arrears_fen=row.arrears_fen,
        sms_consent=row.sms_consent,
        community=_community(row.community),
    )


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
    row.holder_name = account.holder_name
    row.id_type = account.id_type.value if account.id_type else None
    row.id_number = account.id_number
    row.phone = account.phone
    row.supply_address = account.supply_address
    row.mailing_address = account.mailing_address
    row.status = account.status.value
    row.version = account.version
    row.district = account.district
    row.arrears_fen = account.arrears_fen
    row.sms_consent = account.sms_consent
    row.community_code = account.community.code if account.community else None


def load_account(session: Session, number: str) -> Account | None:
    row = session.get(AccountRow, number)
    return account_from_row(row) if row else None


def count_accounts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AccountRow)) or 0
