"""Tokens end: an expired access token is refused and the client renews it; a deactivated
clerk's session ends at once. (Refresh until logout, an expired refresh token and logout
revoking the access token are in server/test_api.py.)"""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from hallclient.auth.login import online_login
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import NotAuthenticated, ServerApi
from hallclient.sync.engine import Credentials
from hallcore.wire import API_PREFIX
from hallserver.app import create_app
from hallserver.embedded import EmbeddedServer
from hallserver.models import ClerkRow, TokenRow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD, seed
from tests.support.server import Terminal

TH, CLERK = "GZ-TH-01", "gz-th-01-c1"


def test_expired_access_token_is_refused_and_the_client_refreshes(server_engine):
    seed(server_engine, accounts=10, halls=1)
    live = EmbeddedServer(server_engine)
    live.start()
    api = ServerApi(live.url)
    store = SecretStore(TH, "T01", EphemeralKeyring())
    try:
        settings = Settings(server_url=live.url, hall_id=TH, terminal_id="T01",
                            installation_id="i" * 32)
        # A new terminal: the hall's supervisor approves it by logging in first.
        online_login(api, store, settings, "gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD)
        online_login(api, store, settings, CLERK, "demo-clerk")
        expired = api.access_token
        with Session(server_engine) as s:
            s.execute(update(TokenRow).where(TokenRow.kind == "access")
                      .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            s.commit()
        with pytest.raises(NotAuthenticated):
            api.changes(0, 10)
        assert len(Credentials(api, store).call(lambda: api.changes(0, 10)).accounts) == 10
        assert api.access_token not in (None, expired)
    finally:
        api.close()
        live.stop()


def test_a_deactivated_clerk_can_neither_refresh_nor_call(server_engine):
    seed(server_engine, accounts=10, halls=1)
    with TestClient(create_app(server_engine)) as client:
        terminal = Terminal(client, TH, "T01")
        refresh = terminal.login(CLERK).json()["refresh_token"]
        with Session(server_engine) as s:
            s.execute(update(ClerkRow).where(ClerkRow.login == CLERK).values(active=False))
            s.commit()
        renewed = client.post(f"{API_PREFIX}/refresh", json={"refresh_token": refresh})
        assert renewed.status_code == 401
        assert terminal.get("/changes").status_code == 401
