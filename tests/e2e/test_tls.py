"""TLS by configuration: the server with a self-signed certificate made here, the client
trusting it through the CA file set up for it, and clear refusals without."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import trustme

from hallclient.__main__ import main as hallclient_main
from hallclient.auth.login import LoginRefused, log_in
from hallclient.auth.secrets import EphemeralKeyring, SecretStore
from hallclient.config import Settings
from hallclient.sync.api import ServerApi, ServerUnreachable
from hallserver.__main__ import main as hallserver_main
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer, free_port
from hallserver.seed import seed

TH = "GZ-TH-01"


@pytest.fixture
def tls_files(tmp_path):
    """A CA of the test's own, and a certificate it signed for 127.0.0.1 (key + chain)."""
    ca = trustme.CA()
    server_pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    return server_pem, ca_pem


@pytest.fixture
def database(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}"
    engine = make_engine(url)
    SERVER_SCHEMA.upgrade(engine)
    seed(engine, accounts=10, halls=1)
    yield url, engine
    engine.dispose()


@pytest.fixture
def tls_server(database, tls_files):
    server_pem, _ = tls_files
    live = EmbeddedServer(database[1], tls_cert=server_pem, tls_key=server_pem)
    live.start()
    yield live
    live.stop()


def login(api, store, password="demo-clerk", clerk="gz-th-01-c1"):
    settings = Settings(server_url="unused", hall_id=TH, terminal_id="T01",
                        installation_id="i" * 32)
    return log_in(api, store, settings, clerk, password, datetime.now(UTC))


def approved_by_a_supervisor(api, store):
    """The new terminal waits for approval: a supervisor's login at it gives it."""
    assert login(api, store, "demo-super", clerk="gz-th-01-s1").online


def test_client_with_the_ca_file_logs_in_over_tls(tls_server, tls_files):
    assert tls_server.url.startswith("https://")
    api = ServerApi(tls_server.url, ca_file=str(tls_files[1]))
    store = SecretStore(TH, "T01", EphemeralKeyring())
    try:
        approved_by_a_supervisor(api, store)
        assert login(api, store).online
    finally:
        api.close()


def test_without_the_ca_file_the_login_is_refused_for_the_certificate(tls_server, tls_files):
    store = SecretStore(TH, "T01", EphemeralKeyring())
    trusting = ServerApi(tls_server.url, ca_file=str(tls_files[1]))
    approved_by_a_supervisor(trusting, store)
    login(trusting, store)  # the clerk could now log in offline, were the server unreachable
    trusting.close()
    api = ServerApi(tls_server.url)  # the system's trust store knows nothing of the test CA
    try:
        with pytest.raises(LoginRefused) as refused:
            login(api, store)
    finally:
        api.close()
    message = str(refused.value)
    assert "certificate" in message and "--ca-file" in message and "证书" in message


def test_plain_http_to_the_tls_port_fails_saying_https(tls_server):
    api = ServerApi(tls_server.url.replace("https://", "http://"))
    try:
        with pytest.raises(ServerUnreachable, match="must start with https://"):
            api.health()
    finally:
        api.close()


def test_setup_keeps_the_ca_file_and_refuses_an_unusable_one(tmp_path, monkeypatch, capsys,
                                                              tls_files):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tls_files[1].parent)
    setup = ["setup", "--server", "https://hall.example:8600", "--hall", TH, "--terminal", "T01"]
    assert hallclient_main([*setup, "--ca-file", "ca.pem"]) == 0
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["ca_file"] == str(tls_files[1])  # absolute: the client may start elsewhere
    assert "CA file" in capsys.readouterr().out
    not_a_certificate = tmp_path / "notes.txt"
    not_a_certificate.write_text("hello")
    assert hallclient_main([*setup, "--ca-file", str(not_a_certificate)]) == 2
    assert "cannot be used" in capsys.readouterr().err
    assert json.loads((tmp_path / "settings.json").read_text()) == saved


def test_hallserver_serve_with_a_certificate_serves_https(database, tls_files):
    server_pem, ca_pem = tls_files
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallserver", "serve", "--db", database[0], "--port", str(port),
         "--tls-cert", str(server_pem), "--tls-key", str(server_pem)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api = ServerApi(f"https://127.0.0.1:{port}", ca_file=str(ca_pem), timeout=2)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                assert api.health().status == "ok"
                break
            except ServerUnreachable:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
    finally:
        api.close()
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_refuses_a_key_without_its_certificate(database, tls_files, capsys):
    db = ["--db", database[0]]
    assert hallserver_main(["serve", *db, "--tls-key", str(tls_files[0])]) == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
    assert hallserver_main(["serve", *db, "--tls-cert", str(tls_files[1]),
                            "--tls-key", str(tls_files[1])]) == 2  # a CA certificate, no key
    assert "cannot be used" in capsys.readouterr().err
