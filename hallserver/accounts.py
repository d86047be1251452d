"""Server account rows ↔ domain accounts and wire accounts, and the district sequence."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallcore.db.account_columns import read_columns, read_community
from hallcore.domain.accounts import Account, Community
from hallcore.wire import AccountWire, CommunityWire
from hallserver.models import AccountRow, CommunityRow, DistrictRow

# The district's counters, taken by Core statements on the session's connection: read from the
# UPDATE's RETURNING, never kept on a DistrictRow object, so the ORM has nothing to look for in
# the session or to flush first (in a push's session, that had cost more than the statement).
_DISTRICTS = DistrictRow.metadata.tables[DistrictRow.__tablename__]


def next_seq(session: Session, district: str, count: int = 1) -> int:
    """Take the district's next `count` change numbers; returns the last. The row stays locked
    until commit, so changes of one district commit in sequence order and a pull never skips an
    uncommitted one."""
    seq = session.connection().execute(
        update(_DISTRICTS)
        .where(_DISTRICTS.c.code == district)
        .values(last_seq=_DISTRICTS.c.last_seq + count)
        .returning(_DISTRICTS.c.last_seq)
    ).scalar_one()
    return int(seq)


def take_account_numbers(session: Session, district: str, count: int) -> list[str]:
    """The district's next `count` account numbers, in order. The row stays locked until
    commit: `give_back_account_numbers` may return the last of them unused."""
    prefix, last = session.connection().execute(
        update(_DISTRICTS)
        .where(_DISTRICTS.c.code == district)
        .values(last_account_serial=_DISTRICTS.c.last_account_serial + count)
        .returning(_DISTRICTS.c.account_prefix, _DISTRICTS.c.last_account_serial)
    ).one()
    return [f"{prefix}{serial:08d}" for serial in range(last - count + 1, last + 1)]


def give_back_account_numbers(session: Session, district: str, count: int) -> None:
    """The last `count` numbers `take_account_numbers` gave this transaction, unused: the
    next request takes them, and no number is skipped."""
    session.connection().execute(
        update(_DISTRICTS)
        .where(_DISTRICTS.c.code == district)
        .values(last_account_serial=_DISTRICTS.c.last_account_serial - count))


def to_domain(session: Session, row: AccountRow) -> Account:
    """The row as the domain's Account, its community read from the session."""
    community = session.get(CommunityRow, row.community_code) if row.community_code else None
    return Account(**read_columns(row), community=read_community(community))


def community_wire(community: Community | CommunityRow) -> CommunityWire:
    """A community, from the domain's or from its row, as sent."""
    return CommunityWire(
        code=community.code, name=community.name, households=community.households,
        manager_name=community.manager_name, manager_phone=community.manager_phone)


def to_wire(row: AccountRow, communities: dict[str, CommunityRow]) -> AccountWire:
    community = communities.get(row.community_code) if row.community_code else None
    return AccountWire(**read_columns(row),
                       community=community_wire(community) if community else None,
                       seq=row.seq)


def rows_to_wire(session: Session, rows: list[AccountRow]) -> list[AccountWire]:
    """Wire accounts for a page of rows, loading their communities in one query."""
    codes = {r.community_code for r in rows if r.community_code}
    communities = {
        c.code: c for c in session.scalars(select(CommunityRow).where(CommunityRow.code.in_(codes)))
    } if codes else {}
    return [to_wire(r, communities) for r in rows]
