"""Server account rows ↔ domain accounts and wire accounts, and the district sequence."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallcore.db.account_columns import read_columns, read_community
from hallcore.domain.accounts import Account
from hallcore.wire import AccountWire, CommunityWire
from hallserver.models import AccountRow, CommunityRow, DistrictRow

# The district's counters are read from the UPDATE's RETURNING, and nothing keeps them on a
# DistrictRow object: the session is not searched for one to update (in a push's session of a
# few hundred objects, that search had cost more than the statement).
_COUNTER = {"synchronize_session": False}


def next_seq(session: Session, district: str, count: int = 1) -> int:
    """Take the district's next `count` change numbers; returns the last. The row stays locked
    until commit, so changes of one district commit in sequence order and a pull never skips an
    uncommitted one."""
    seq = session.execute(
        update(DistrictRow)
        .where(DistrictRow.code == district)
        .values(last_seq=DistrictRow.last_seq + count)
        .returning(DistrictRow.last_seq), execution_options=_COUNTER
    ).scalar_one()
    return int(seq)


def next_account_number(session: Session, district: str) -> str:
    prefix, serial = session.execute(
        update(DistrictRow)
        .where(DistrictRow.code == district)
        .values(last_account_serial=DistrictRow.last_account_serial + 1)
        .returning(DistrictRow.account_prefix, DistrictRow.last_account_serial),
        execution_options=_COUNTER,
    ).one()
    return f"{prefix}{serial:08d}"


def to_domain(session: Session, row: AccountRow) -> Account:
    """The row as the domain's Account, its community read from the session."""
    community = session.get(CommunityRow, row.community_code) if row.community_code else None
    return Account(**read_columns(row), community=read_community(community))


def to_wire(row: AccountRow, communities: dict[str, CommunityRow]) -> AccountWire:
    community = communities.get(row.community_code) if row.community_code else None
    return AccountWire(
        **read_columns(row),
        community=CommunityWire(
            code=community.code, name=community.name, households=community.households,
            manager_name=community.manager_name, manager_phone=community.manager_phone,
        ) if community else None,
        seq=row.seq,
    )


def rows_to_wire(session: Session, rows: list[AccountRow]) -> list[AccountWire]:
    """Wire accounts for a page of rows, loading their communities in one query."""
    codes = {r.community_code for r in rows if r.community_code}
    communities = {
        c.code: c for c in session.scalars(select(CommunityRow).where(CommunityRow.code.in_(codes)))
    } if codes else {}
    return [to_wire(r, communities) for r in rows]
