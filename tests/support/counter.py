"""A counter terminal for sync tests: its own data directory, cache, keyring and engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient import samples
from hallclient.auth.login import online_login, terminal_identity
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.store.accounts import (
    account_from_row,
    load_account,
    save_account,
    save_community,
)
from hallclient.store.cache import Cache, open_cache
from hallclient.store.models import AccountRow
from hallclient.store.operations import RecordedOperation, record_operation
from hallclient.sync.api import ServerApi, ServerRefused
from hallclient.sync.engine import Credentials, SyncEngine
from hallcore.db.account_columns import read_columns
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow
from tests.support.factories import COMMUNITY
from tests.support.factories import account as factory_account
from tests.support.signatures import signature

HALL = "GZ-TH-01"
SUPERVISOR_PASSWORD = "demo-super"
# The server's answer to a login at a terminal whose key no supervisor approved yet.
APPROVAL_NEEDED = ("terminal_not_approved", "terminal_key_differs")


@dataclass
class Counter:
    directory: Path
    server_url: str
    hall_id: str
    terminal_id: str
    clerk: str
    keyring: EphemeralKeyring = field(default_factory=EphemeralKeyring)
    transport: httpx.BaseTransport | None = None
    timeout: float = 5.0  # seconds the terminal waits for an answer

    def __post_init__(self) -> None:
        self.settings = Settings(server_url=self.server_url, hall_id=self.hall_id,
                                 terminal_id=self.terminal_id,
                                 installation_id=uuid.uuid4().hex)
        self.secrets = SecretStore(self.hall_id, self.terminal_id, backend=self.keyring)
        self.cache: Cache = open_cache(self.directory / "cache.sqlite3")
        self.api = ServerApi(self.server_url, timeout=self.timeout, transport=self.transport)
        self.engine = SyncEngine(self.cache, Credentials(self.api, self.secrets),
                                 page_size=100, bootstrap_page=100, push_batch=50)

    def login(self, password: str = "demo-clerk") -> None:
        """The clerk's online login; a new terminal is approved first the honest way: the
        hall's supervisor logs in at it once."""
        try:
            online_login(self.api, self.secrets, self.settings, self.clerk, password)
        except ServerRefused as refused:
            if refused.error is None or refused.error.code not in APPROVAL_NEEDED:
                raise
            online_login(self.api, self.secrets, self.settings, f"{self.hall_id.lower()}-s1",
                         SUPERVISOR_PASSWORD)
            online_login(self.api, self.secrets, self.settings, self.clerk, password)

    def record(self, kind: str, number: str | None, payload: dict[str, Any],
               **options: Any) -> RecordedOperation:
        """Recorded as the counter records it: with the test signature where the business
        type needs the customer's (unless `customer_signature` is given)."""
        if BUSINESS_TYPES[BusinessKind(kind)].customer_signs:
            options.setdefault("customer_signature", signature())
        return record_operation(
            self.cache, terminal_identity(self.settings, self.secrets), clerk=self.clerk,
            kind=BusinessKind(kind), account_number=number, raw_payload=payload,
            now=datetime.now(UTC), **options)

    def account(self, number: str) -> Any:
        with self.cache.read() as session:
            return load_account(session, number)

    def close(self) -> None:
        self.api.close()
        self.cache.close()


def holder(account: Any) -> dict[str, Any]:
    return {"applicant_id_type": account.id_type, "applicant_id_number": account.id_number}


def server_ops(server):
    with Session(server.engine) as s:
        return s.scalar(select(func.count()).select_from(OperationRow))


def server_account(server, number):
    with Session(server.engine) as s:
        return s.get(ServerAccount, number)


def active_accounts(counter, n):
    with counter.cache.read() as s:
        rows = s.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0).order_by(AccountRow.number).limit(n)).all()
        return [account_from_row(r) for r in rows]


def collide(first: Counter, second: Counter) -> Any:
    """`first` suspends an account and syncs; `second` changed its phone meanwhile and syncs:
    a conflict on `second`. Returns the account as both saw it before."""
    first.engine.sync_once()
    second.engine.sync_once()
    [account] = active_accounts(first, 1)
    first.record("suspend", account.number, holder(account))
    second.record("contact_change", account.number, {**holder(account), "phone": "13911112222"})
    first.engine.sync_once()
    return account


def account_state(row: Any, seq: int) -> dict[str, Any]:
    """Every field of an account that the cache and the server share, `seq` the server's."""
    return {**read_columns(row), "community_code": row.community_code, "seq": seq}


def cached_accounts(cache: Cache) -> dict[str, dict[str, Any]]:
    with cache.read() as s:
        return {r.number: account_state(r, r.server_seq) for r in s.scalars(select(AccountRow))}


def server_accounts(engine: Any, district: str) -> dict[str, dict[str, Any]]:
    with Session(engine) as s:
        return {r.number: account_state(r, r.seq) for r in s.scalars(
            select(ServerAccount).where(ServerAccount.district == district))}


def one_account_cache_at(path: Path) -> Cache:
    """A cache at `path` holding the test account of tests/support/factories.py and its
    community."""
    cache = open_cache(path)
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, factory_account())
    return cache


def district_cache(path: Path, count: int = 200) -> Cache:
    """The counter tests' cache: 200 demo accounts of the first district."""
    return samples.district_cache(path, count, date.today())
