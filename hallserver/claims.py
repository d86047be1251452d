"""Claims: "this account is being changed at hall X".

A terminal claims an account when a clerk opens a form on it and releases it when the form is
closed (recorded or abandoned); a claim not renewed expires by itself after CLAIM_LASTS. Each
change of a claim takes the district's next claim number (districts.last_claim_seq, row-locked
like the change sequence, so the numbers become visible in commit order), which is the claims
cursor of the pulls; on PostgreSQL moving it notifies the waiting pulls (migration 0013).
Claims only inform: the server's handling of conflicting operations stays as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from hallcore.wire import AccountClaim
from hallserver.context import Caller
from hallserver.models import AccountClaimRow, AccountRow, DistrictRow, HallRow

CLAIM_LASTS = timedelta(minutes=15)
# Expired and released claims are deleted a day after they expired, by the next claim.
KEPT_AFTER_EXPIRY = timedelta(days=1)
# Claim events in one pull; the rest come with the next (the cursor says where it stopped).
MAX_CLAIMS_PAGE = 1000


class UnknownAccount(Exception):
    """No such account in the caller's district (another district's account is not told)."""


def _next_claim_seq(session: Session, district: str) -> int:
    return int(session.execute(
        update(DistrictRow).where(DistrictRow.code == district)
        .values(last_claim_seq=DistrictRow.last_claim_seq + 1)
        .returning(DistrictRow.last_claim_seq)).scalar_one())


def _check_account(session: Session, caller: Caller, number: str) -> None:
    district = session.scalar(select(AccountRow.district).where(AccountRow.number == number))
    if district != caller.district:
        raise UnknownAccount(number)


def claim(session: Session, caller: Caller, number: str, now: datetime) -> AccountClaim:
    """Claim the account for the caller's terminal, or renew its claim; the caller commits.
    A counter has one form open at a time: the terminal's claims of other accounts are
    released, so a terminal stands for one account however many it claims."""
    _check_account(session, caller, number)
    for other in session.scalars(select(AccountClaimRow).where(
            AccountClaimRow.hall_id == caller.hall_id,
            AccountClaimRow.terminal_id == caller.terminal_id,
            AccountClaimRow.account_number != number,
            AccountClaimRow.released.is_(False))):
        other.seq, other.released = _next_claim_seq(session, caller.district), True
    seq = _next_claim_seq(session, caller.district)
    row = session.get(AccountClaimRow, (number, caller.hall_id, caller.terminal_id))
    if row is None:
        row = AccountClaimRow(account_number=number, hall_id=caller.hall_id,
                              terminal_id=caller.terminal_id, district=caller.district,
                              since=now)
        session.add(row)
    elif row.released or row.expires_at <= now:
        row.since = now  # a new claim, not a renewal
    row.seq, row.expires_at, row.released = seq, now + CLAIM_LASTS, False
    session.execute(delete(AccountClaimRow).where(
        AccountClaimRow.expires_at < now - KEPT_AFTER_EXPIRY))
    session.flush()
    hall_name = session.scalars(select(HallRow.name).where(HallRow.id == caller.hall_id)).one()
    return AccountClaim(account_number=number, hall_id=caller.hall_id,
                        terminal_id=caller.terminal_id, hall_name=hall_name, since=row.since,
                        expires_at=row.expires_at)


def release(session: Session, caller: Caller, number: str) -> None:
    """The caller's terminal closed its form on the account; the caller commits."""
    _check_account(session, caller, number)
    row = session.get(AccountClaimRow, (number, caller.hall_id, caller.terminal_id))
    if row is not None and not row.released:
        row.seq, row.released = _next_claim_seq(session, caller.district), True


def claims_after(connection: Connection, district: str, after: int, cursor: int,
                 now: datetime) -> tuple[list[AccountClaim], int]:
    """The district's claims changed after `after`, and the cursor to ask after next; its
    claim cursor `cursor` was read before. A first pull (`after` 0) gets the claims standing
    only: a released or expired one means nothing to a terminal that never saw it."""
    query = (select(AccountClaimRow.account_number, AccountClaimRow.hall_id,
                    AccountClaimRow.terminal_id, HallRow.name,
                    AccountClaimRow.since, AccountClaimRow.expires_at, AccountClaimRow.released,
                    AccountClaimRow.seq)
             .join(HallRow, HallRow.id == AccountClaimRow.hall_id)
             .where(AccountClaimRow.district == district, AccountClaimRow.seq > after)
             .order_by(AccountClaimRow.seq).limit(MAX_CLAIMS_PAGE))
    if after == 0:
        query = query.where(AccountClaimRow.released.is_(False),
                            AccountClaimRow.expires_at > now)
    rows = connection.execute(query).all()
    claims = [AccountClaim(account_number=number, hall_id=hall_id, terminal_id=terminal_id,
                           hall_name=hall_name, since=since, expires_at=expires_at,
                           released=released)
              for number, hall_id, terminal_id, hall_name, since, expires_at, released, _
              in rows]
    if len(rows) == MAX_CLAIMS_PAGE:
        return claims, rows[-1].seq
    return claims, max(cursor, rows[-1].seq if rows else 0)
