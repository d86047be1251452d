"""The login throttle, on SQLite and on PostgreSQL: failures are counted in the database."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from hallclient.auth.login import LoginRefused, log_in
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import ServerApi
from hallserver.app import create_app
from hallserver.db import SERVER_SCHEMA
from hallserver.models import Base, LoginFailureRow
from hallserver.seed import seed
from tests.support.server import Terminal

TH = "GZ-TH-01"
CLERK = "gz-th-01-c1"


@pytest.fixture
def app(server_engine):
    seed(server_engine, accounts=10, halls=1)
    return create_app(server_engine)


def from_address(app, address):
    return TestClient(app, client=(address, 50000))


def fail(terminal, times, clerk=CLERK):
    for _ in range(times):
        assert terminal.login(clerk, "guess").status_code == 401


def failures(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(LoginFailureRow))


def pass_the_window(engine):
    with Session(engine) as s:
        s.execute(update(LoginFailureRow).values(
            failed_at=LoginFailureRow.failed_at - timedelta(minutes=15)))
        s.commit()


def test_five_failures_lock_the_clerk_out_even_with_the_right_password(app):
    with from_address(app, "10.0.0.1") as c:
        terminal = Terminal(c, TH, "T01")
        fail(terminal, 5)
        refused = terminal.login(CLERK)
        assert refused.status_code == 429
        assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
        error = refused.json()
        assert error["code"] == "too_many_failed_logins"
        assert "工号 gz-th-01-c1" in error["message"]["zh"] and "15 分钟" in error["message"]["zh"]
        assert error["message"]["en"] == (
            "too many failed logins for clerk gz-th-01-c1; try again in 15 minutes")
        # Another clerk at the same counter is not held up.
        assert terminal.login("gz-th-01-c2").status_code == 200


def test_the_lock_ends_when_the_window_has_passed_and_old_failures_are_dropped(
        app, server_engine):
    with from_address(app, "10.0.0.1") as c:
        terminal = Terminal(c, TH, "T01")
        fail(terminal, 5)
        pass_the_window(server_engine)
        assert terminal.login(CLERK).status_code == 200
        fail(terminal, 1, clerk="gz-th-01-c2")
    assert failures(server_engine) == 1  # the five outside the window are gone


def test_a_successful_login_starts_the_clerks_count_again(app):
    with from_address(app, "10.0.0.1") as c:
        terminal = Terminal(c, TH, "T01")
        fail(terminal, 4)
        assert terminal.login(CLERK).status_code == 200
        fail(terminal, 4)
        assert terminal.login(CLERK).status_code == 200


def test_twenty_failures_from_one_address_lock_it_out_for_every_clerk(app):
    with from_address(app, "10.0.0.1") as guesser, from_address(app, "10.0.0.2") as hall:
        terminal = Terminal(guesser, TH, "T01")
        for n in range(5):  # four guesses at each of five clerk ids, some of them made up
            fail(terminal, 4, clerk=f"gz-th-01-c{n}")
        refused = terminal.login(CLERK)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert "this computer" in refused.json()["message"]["en"]
        assert Terminal(hall, TH, "T02").login(CLERK).status_code == 200


def test_the_client_shows_the_lock_as_a_login_refusal(server):
    settings = Settings(server_url=server.url, hall_id=TH, terminal_id="T07",
                        installation_id="i" * 32)
    store = SecretStore(TH, "T07", EphemeralKeyring())
    api = ServerApi(server.url)
    try:
        for _ in range(5):
            with pytest.raises(LoginRefused, match="wrong"):
                log_in(api, store, settings, CLERK, "guess", datetime.now(UTC))
        with pytest.raises(LoginRefused, match=r"Too many failed logins.*15 minutes"):
            log_in(api, store, settings, CLERK, "demo-clerk", datetime.now(UTC))
    finally:
        api.close()


def test_the_migration_goes_down_and_up_again_and_matches_the_models(server_engine):
    config = SERVER_SCHEMA.config()
    with server_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert "login_failures" not in inspect(server_engine).get_table_names()
    SERVER_SCHEMA.upgrade(server_engine)
    with server_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
