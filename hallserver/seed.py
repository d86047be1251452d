"""Fill an empty central database with demo districts, halls, clerks, communities and accounts.

Deterministic for a given seed (except password salts) and streamed: accounts go in with Core
bulk inserts, a chunk per transaction, so a million rows need minutes and flat memory. Each
chunk's transaction also moves its district's `last_seq` / `last_account_serial` on, so the
committed data is consistent at every moment, even if seeding is interrupted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from hallcore.db.account_columns import stored_values
from hallcore.demodata import DISTRICTS, District, communities
from hallcore.demodata import accounts as demo_accounts
from hallcore.domain.accounts import Account, Community
from hallserver.models import AccountRow, ClerkRow, CommunityRow, DistrictRow, HallRow
from hallserver.security import hash_password

DEMO_CLERK_PASSWORD = "demo-clerk"
DEMO_SUPERVISOR_PASSWORD = "demo-super"

CHUNK_ROWS = 5_000
ACCOUNTS_PER_COMMUNITY = 300
SERVICE_PHONE = "95598"

# (login suffix, role) of the staff every hall gets.
_STAFF: tuple[tuple[str, str], ...] = (("c1", "clerk"), ("c2", "clerk"), ("s1", "supervisor"))
_CLERK_SURNAMES = "陈李黄张梁林刘吴罗何郑谢杨冯朱邓"
_CLERK_GIVEN = "伟芳敏静丽强磊洋杰娟涛明超霞志建文嘉俊浩欣怡"

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class SeedSummary:
    districts: int
    halls: int
    clerks: int
    communities: int
    accounts: int
    seconds: float


def seed(
    engine: Engine,
    *,
    accounts: int,
    halls: int,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> SeedSummary:
    """Seed `accounts` accounts and `halls` halls (3 staff each) into an empty database.

    Raises ValueError, before writing anything, for bad counts or a database that already
    holds accounts or districts. `progress(n)` gets the running account count after each chunk.
    """
    started = time.perf_counter()
    _check_counts(accounts, halls)
    with engine.connect() as conn:
        _refuse_if_seeded(conn)
    districts = DISTRICTS[: min(halls, len(DISTRICTS))]
    shares = _split(accounts, len(districts))
    with engine.begin() as conn:
        _insert_districts(conn, districts)
        hall_ids = _insert_halls(conn, districts, halls)
        clerk_count = _insert_clerks(conn, hall_ids, seed)
        by_district = {d.code: _insert_communities(conn, d, n, seed)
                       for d, n in zip(districts, shares, strict=True)}
    done = 0
    for district, share in zip(districts, shares, strict=True):
        done = _insert_accounts(engine, district, share, by_district[district.code], seed,
                                done, progress)
    return SeedSummary(
        districts=len(districts),
        halls=len(hall_ids),
        clerks=clerk_count,
        communities=sum(len(c) for c in by_district.values()),
        accounts=done,
        seconds=time.perf_counter() - started,
    )


def _check_counts(accounts: int, halls: int) -> None:
    if accounts < 0:
        raise ValueError(f"The number of accounts cannot be negative (got {accounts}).")
    if halls < 1:
        raise ValueError(f"At least one hall is needed (got {halls}).")


def _refuse_if_seeded(conn: Connection) -> None:
    held = conn.execute(select(func.count()).select_from(AccountRow)).scalar_one()
    if held:
        raise ValueError(
            f"The database already holds {held} accounts; seeding is only for an empty "
            "database, so nothing has been changed.")
    if conn.execute(select(func.count()).select_from(DistrictRow)).scalar_one():
        raise ValueError(
            "The database already holds districts; seeding is only for an empty database, "
            "so nothing has been changed.")


def _split(total: int, parts: int) -> list[int]:
    """`total` spread evenly over `parts`, the remainder going to the first ones."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _prefix(district: District) -> str:
    return f"{DISTRICTS.index(district) + 10:02d}"


def _insert_districts(conn: Connection, districts: Iterable[District]) -> None:
    conn.execute(insert(DistrictRow), [
        {"code": d.code, "name": d.city + d.name, "account_prefix": _prefix(d),
         "last_seq": 0, "last_account_serial": 0}
        for d in districts
    ])


def _insert_halls(conn: Connection, districts: tuple[District, ...], halls: int) -> list[str]:
    """`halls` halls, round-robin over the districts; returns their ids in creation order."""
    rows = []
    for i in range(halls):
        district, number = districts[i % len(districts)], i // len(districts) + 1
        rows.append({"id": f"{district.code}-{number:02d}",
                     "name": f"{district.name}第{number}营业厅",
                     "district": district.code, "service_phone": SERVICE_PHONE})
    conn.execute(insert(HallRow), rows)
    return [row["id"] for row in rows]


def _clerk_name(rng: random.Random) -> str:
    return rng.choice(_CLERK_SURNAMES) + "".join(rng.choices(_CLERK_GIVEN, k=rng.choice((1, 2))))


def _insert_clerks(conn: Connection, hall_ids: list[str], seed: int) -> int:
    # scrypt is deliberately slow (~50 ms a hash), so each demo password is hashed once and the
    # hash reused for every clerk of that role. That shares one salt across many accounts, which
    # would let one cracked hash open them all — acceptable only because these passwords are
    # public demo passwords anyway; real clerks must each get their own hash_password() call.
    hashes = {"clerk": hash_password(DEMO_CLERK_PASSWORD),
              "supervisor": hash_password(DEMO_SUPERVISOR_PASSWORD)}
    rng = random.Random(f"{seed}-clerks")
    rows = [
        {"login": f"{hall_id.lower()}-{suffix}", "name": _clerk_name(rng), "hall_id": hall_id,
         "role": role, "password_hash": hashes[role], "active": True}
        for hall_id in hall_ids
        for suffix, role in _STAFF
    ]
    conn.execute(insert(ClerkRow), rows)
    return len(rows)


def _insert_communities(
    conn: Connection, district: District, account_count: int, seed: int
) -> list[Community]:
    count = max(1, account_count // ACCOUNTS_PER_COMMUNITY)
    made = list(communities(district, count, seed))
    conn.execute(insert(CommunityRow), [
        {"code": c.code, "district": district.code, "name": c.name, "households": c.households,
         "manager_name": c.manager_name, "manager_phone": c.manager_phone}
        for c in made
    ])
    return made


def _account_row(account: Account, seq: int) -> dict[str, Any]:
    return {**stored_values(account),
            "community_code": account.community.code if account.community else None,
            "seq": seq}


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _insert_accounts(
    engine: Engine,
    district: District,
    count: int,
    district_communities: list[Community],
    seed: int,
    done: int,
    progress: ProgressFn | None,
) -> int:
    """Stream one district's accounts in, serials and seqs 1..count; returns the running total.

    Serial and seq coincide, so `last_seq` and `last_account_serial` both end at `count` and
    the server's next new account number is serial count + 1.
    """
    generated = demo_accounts(district, count, district_communities, seed=seed, first_serial=1)
    rows = (_account_row(account, seq) for seq, account in enumerate(generated, start=1))
    for chunk in _chunks(rows, CHUNK_ROWS):
        last = chunk[-1]["seq"]
        with engine.begin() as conn:
            conn.execute(insert(AccountRow), chunk)
            conn.execute(update(DistrictRow).where(DistrictRow.code == district.code)
                         .values(last_seq=last, last_account_serial=last))
        done += len(chunk)
        if progress is not None:
            progress(done)
    return done
