from datetime import UTC, datetime, timedelta

import pytest

from hallclient.auth.offline import (
    LOCKOUT,
    MAX_FAILURES,
    OFFLINE_DAYS,
    OfflineLoginRefused,
    check,
    remember,
)
from hallclient.auth.secrets import EphemeralKeyring, SecretStore

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.fixture
def store():
    s = SecretStore("GZ-TH-01", "T01", EphemeralKeyring())
    remember(s, "gz-th-01-c1", "陈伟", "clerk", "demo-clerk", NOW)
    return s


def test_remembered_password_logs_in_offline(store):
    clerk = check(store, "gz-th-01-c1", "demo-clerk", NOW + timedelta(hours=3))
    assert (clerk.name, clerk.role) == ("陈伟", "clerk")


def test_the_password_itself_is_not_kept(store):
    assert "demo-clerk" not in store.get("offline/gz-th-01-c1")


def test_wrong_password_and_unknown_clerk_are_refused(store):
    with pytest.raises(OfflineLoginRefused, match="wrong"):
        check(store, "gz-th-01-c1", "guess", NOW)
    with pytest.raises(OfflineLoginRefused, match="has not logged in online"):
        check(store, "gz-th-01-c2", "demo-clerk", NOW)


def test_repeated_failures_lock_the_clerk_out_for_a_while(store):
    for _ in range(MAX_FAILURES):
        with pytest.raises(OfflineLoginRefused, match="wrong"):
            check(store, "gz-th-01-c1", "guess", NOW)
    with pytest.raises(OfflineLoginRefused, match="locked"):
        check(store, "gz-th-01-c1", "demo-clerk", NOW + timedelta(minutes=1))
    assert check(store, "gz-th-01-c1", "demo-clerk", NOW + LOCKOUT + timedelta(seconds=1))


def test_verifier_expires(store):
    with pytest.raises(OfflineLoginRefused, match="more than"):
        check(store, "gz-th-01-c1", "demo-clerk", NOW + timedelta(days=OFFLINE_DAYS + 1))


def test_login_falls_back_to_offline_only_when_the_server_is_unreachable(counters, server):
    from hallclient.auth.login import LoginRefused, log_in

    counter = counters()  # logged in online once by the fixture (through online_login)
    session = log_in(counter.api, counter.secrets, counter.settings, "gz-th-01-c1",
                     "demo-clerk", NOW)
    assert session.online and session.role == "clerk"
    with pytest.raises(LoginRefused, match="wrong"):  # the server's refusal is final
        log_in(counter.api, counter.secrets, counter.settings, "gz-th-01-c1", "guess", NOW)
    server.stop()
    offline = log_in(counter.api, counter.secrets, counter.settings, "gz-th-01-c1",
                     "demo-clerk", NOW + timedelta(hours=1))
    assert not offline.online and offline.clerk == "gz-th-01-c1"
    with pytest.raises(LoginRefused, match="has not logged in online"):
        log_in(counter.api, counter.secrets, counter.settings, "gz-th-01-c2", "demo-clerk",
               NOW)


def test_log_in_offline_honours_the_terminals_offline_days(store):
    from hallclient.auth.login import LoginRefused, log_in
    from hallclient.config import Settings
    from hallclient.sync.api import ServerApi

    unreachable = ServerApi("http://127.0.0.1:9", timeout=1)  # discard port: nothing answers
    later = NOW + timedelta(days=3)
    strict = Settings(hall_id="GZ-TH-01", terminal_id="T01", installation_id="x" * 32,
                      offline_login_days=2)
    with pytest.raises(LoginRefused, match="in the last 2 days"):
        log_in(unreachable, store, strict, "gz-th-01-c1", "demo-clerk", later)
    lenient = Settings(hall_id="GZ-TH-01", terminal_id="T01", installation_id="x" * 32,
                       offline_login_days=4)
    session = log_in(unreachable, store, lenient, "gz-th-01-c1", "demo-clerk", later)
    assert not session.online
