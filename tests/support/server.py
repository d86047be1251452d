"""A HallServer on SQLite or PostgreSQL for tests, and a terminal that talks to it."""

from __future__ import annotations

import importlib
import os
import uuid
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.receipt_numbers import format_receipt_no
from hallcore.signing import SigningKey, image_sha256, login_message, receipt_signature
from hallserver.app import create_app
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.models import Base, CalendarDayRow, CalendarYearRow
from hallserver.seed import seed
from hallserver.settings import ServerSettings
from hallserver.terminals import approve_pending
from hallserver.working_days import forget
from tests.support.signatures import signature

# The calendar the migrations seed (0010), put back where a test empties the database.
_calendar_seed = importlib.import_module("hallserver.migrations.versions.0010_working_calendar")

PG_URL = os.environ.get("HALL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLERK_PASSWORD = "demo-clerk"
SUPERVISOR_PASSWORD = "demo-super"


def postgres_engine() -> Engine:
    """The shared PostgreSQL test database, migrated; skipped where none runs (never in CI)."""
    engine = make_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    SERVER_SCHEMA.upgrade(engine)
    return engine


def seeded_client(engine: Engine, *, accounts: int, halls: int,
                  settings: ServerSettings | None = None) -> Iterator[TestClient]:
    """A fixture's body: the demo data seeded, then an in-process client of the server's app."""
    seed(engine, accounts=accounts, halls=halls)
    with TestClient(create_app(engine, settings)) as client:
        yield client


def logged_in(client: TestClient, hall: str, terminal: str, clerk: str,
              password: str = CLERK_PASSWORD) -> Terminal:
    """A terminal of `hall`, registered and logged in as `clerk`."""
    t = Terminal(client, hall, terminal)
    response = t.login(clerk, password)
    assert response.status_code == 200, response.text
    return t


def allow_old_operations(engine: Engine, days: int = 3650) -> None:
    """Give every hall an offline window of `days`: for tests that push operations made on
    days long past (the default window is 72 hours)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE halls SET offline_window_hours = :hours"),
                     {"hours": days * 24})


def empty_tables(engine: Engine) -> None:
    """The database as migrations leave it: empty, but for the calendar they seed."""
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    year_rows, day_rows = _calendar_seed.package_notices(datetime.now(UTC))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(CalendarYearRow.__table__.insert(), year_rows)
        conn.execute(CalendarDayRow.__table__.insert(), day_rows)
    forget(engine)


def approve_terminal(engine: Engine, hall: str, terminal: str) -> None:
    """What `hallserver terminals approve HALL TERMINAL` does."""
    from sqlalchemy.orm import Session

    from hallcore.db.engine import writer
    with Session(writer(engine)) as session, session.begin():
        approve_pending(session, hall, terminal, "operator", datetime.now(UTC))


@dataclass
class Terminal:
    """What a counter terminal does over the wire, kept small: log in, pull, push."""

    client: TestClient
    hall_id: str
    terminal_id: str
    key: SigningKey = field(default_factory=SigningKey.generate)
    installation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    token: str | None = None
    receipts: int = 0
    # The server's database, for approving the terminal as an operator would; by default the
    # one of the in-process app behind `client`.
    engine: Engine | None = None

    def login_body(self, clerk: str, password: str = CLERK_PASSWORD, *,
                   signed_at: datetime | None = None, **fields: Any) -> dict[str, Any]:
        signed_at = signed_at or datetime.now(UTC)
        return {
            "clerk": clerk, "password": password, "hall_id": self.hall_id,
            "terminal_id": self.terminal_id, "installation_id": self.installation_id,
            "terminal_public_key": self.key.public_hex, "signed_at": signed_at.isoformat(),
            "terminal_proof": self.key.sign(login_message(
                self.hall_id, self.terminal_id, self.installation_id, clerk, signed_at)),
            **fields}

    def login(self, clerk: str, password: str = CLERK_PASSWORD, *, approve: bool = True,
              **fields: Any) -> Any:
        """Log in; a terminal waiting for approval is approved as an operator would
        (`approve=False` leaves it waiting)."""
        body = self.login_body(clerk, password, **fields)
        response = self.client.post("/api/v1/login", json=body)
        if approve and response.status_code == 403 and response.json()["code"] in (
                "terminal_not_approved", "terminal_key_differs"):
            approve_terminal(self.engine or self.client.app.state.engine, self.hall_id,
                             self.terminal_id)
            response = self.client.post("/api/v1/login", json=self.login_body(
                clerk, password, **fields))
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    @property
    def headers(self) -> dict[str, str]:
        assert self.token, "log in first"
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params=params, headers=self.headers)

    def operation(self, business_type: str, payload: dict[str, Any], *,
                  account: dict[str, Any] | None = None, clerk: str | None = None,
                  created_at: datetime | str | None = None,
                  customer_signature: bytes | Literal["signed"] | None = "signed",
                  ) -> dict[str, Any]:
        """An operation as this terminal makes it: its own receipt number of the day it was
        made, signed with its key (and the hash of the customer's signature image, when one
        is given). `created_at` (as sent) defaults to now. `customer_signature`: by default
        the test signature where the business type needs one, none otherwise."""
        if customer_signature == "signed":
            customer_signature = signature() if BUSINESS_TYPES[
                BusinessKind(business_type)].customer_signs else None
        self.receipts += 1
        op_id = str(uuid.uuid4())
        sent = created_at or datetime.now(UTC)
        made = datetime.fromisoformat(sent) if isinstance(sent, str) else sent
        made = made if made.tzinfo else made.replace(tzinfo=UTC)
        receipt_no = format_receipt_no(self.hall_id, self.terminal_id,
                                       made.astimezone(HALL_TZ).strftime("%Y%m%d"),
                                       self.receipts)
        signed = image_sha256(customer_signature) if customer_signature is not None else None
        return {
            "operation_id": op_id, "business_type": business_type,
            "account_number": account["number"] if account else None,
            "base_version": account["version"] if account else None,
            "payload": payload,
            "created_at": sent if isinstance(sent, str) else sent.isoformat(),
            "clerk": clerk or f"{self.hall_id.lower()}-c1", "receipt_no": receipt_no,
            "receipt_signature": receipt_signature(self.key, receipt_no, op_id, signed),
            **({"customer_signature": b64encode(customer_signature).decode()}
               if customer_signature is not None else {}),
        }

    def push(self, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.client.post("/api/v1/push", json={"operations": list(operations)},
                                    headers=self.headers)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def all_accounts(self) -> list[dict[str, Any]]:
        accounts: list[dict[str, Any]] = []
        after = None
        while True:
            params = {"limit": 500, **({"after": after} if after else {})}
            page = self.get("/bootstrap", **params).json()
            accounts += page["accounts"]
            after = page["next_after"]
            if after is None:
                return accounts


def holder_of(account: dict[str, Any]) -> dict[str, Any]:
    return {"applicant_id_type": account["id_type"], "applicant_id_number": account["id_number"]}
