"""Fixtures of the server tests."""

import pytest
from fastapi.testclient import TestClient

from hallserver.app import create_app
from hallserver.seed import seed
from tests.support.factories import NEW_CONNECTION
from tests.support.server import Terminal


@pytest.fixture
def queued(server_engine):
    """Five new-connection requests (to NEW_CONNECTION's mobile), each with its 'accepted'
    notice queued."""
    seed(server_engine, accounts=10, halls=1)
    with TestClient(create_app(server_engine)) as client:
        t = Terminal(client, "GZ-TH-01", "T01")
        t.login("gz-th-01-c1")
        for _ in range(5):
            [result] = t.push(t.operation("new_connection", NEW_CONNECTION))
            assert result["outcome"] == "applied"
    return server_engine
