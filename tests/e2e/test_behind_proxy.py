"""HallServer as deployed (deploy/): terminals reach it through a real nginx running the shipped
site configuration, which shares their requests out between two `hallserver serve` processes;
they reach PostgreSQL through a real PgBouncer running the shipped pooling configuration
(transaction pooling, SCRAM logins).

nginx sees the loopback address a client connects from (127.0.0.1, 127.0.0.2, ...: all of
127.0.0.0/8 is this machine): each stands for a hall's network."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hallcore.wire import MAX_CHANGES_WAIT
from hallserver.models import LoginFailureRow, OperationRow
from hallserver.seed import seed
from tests.support.counter import Counter, active_accounts, holder
from tests.support.proxies import (
    DEPLOY,
    NGINX_CONF,
    Deployment,
    Nginx,
    require,
    running_deployment,
    running_nginx,
    server_env,
    shipped_env,
    shipped_pgbouncer_settings,
)
from tests.support.server import Terminal, empty_tables, holder_of

pytestmark = pytest.mark.postgres

# Two instances, as the shipped upstream has them, of a worker each.
INSTANCES, WORKERS = 2, 1
# Failed logins from one address before it is locked out: low, so a test reaches it quickly.
ADDRESS_LIMIT = 3
FOUR_MIB = 4 * 1024 * 1024
T = TypeVar("T")


@pytest.fixture(scope="module")
def deployed(_postgres, tmp_path_factory) -> Iterator[Deployment]:
    empty_tables(_postgres)
    seed(_postgres, accounts=60, halls=2)
    with running_deployment(_postgres, tmp_path_factory.mktemp("deployed"), WORKERS,
                            {"HALLSERVER_LOGIN_FAILURES_PER_ADDRESS": str(ADDRESS_LIMIT)},
                            instances=INSTANCES) as deployment:
        yield deployment


@pytest.fixture
def no_failed_logins(deployed):
    """The login throttle's counts start empty, and are left so."""
    def forget() -> None:
        with Session(deployed.engine) as session, session.begin():
            session.execute(delete(LoginFailureRow))
    forget()
    yield
    forget()


def failed_addresses(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(LoginFailureRow.address)))


# --- the terminals' work, end to end ---


def test_terminals_log_in_push_and_pull_through_nginx_and_pgbouncer(deployed, tmp_path):
    hall = deployed.halls[0]

    def counter(terminal: str, clerk: str) -> Counter:
        made = Counter(tmp_path / terminal, deployed.nginx.url, hall, terminal, clerk,
                       transport=deployed.nginx.transport())
        made.login()  # a new terminal: the hall's supervisor logs in at it first
        return made

    first, second = counter("T01", f"{hall.lower()}-c1"), counter("T02", f"{hall.lower()}-c2")
    try:
        assert first.engine.sync_once().bootstrapped == 30  # the district's accounts
        assert second.engine.sync_once().bootstrapped == 30
        [account] = active_accounts(first, 1)
        made = first.record("contact_change", account.number,
                            {**holder(account), "phone": "13911112222"})
        pushed = first.engine.sync_once()
        assert (pushed.pushed, pushed.applied, pushed.pending) == (1, 1, 0)
        assert second.engine.sync_once().pulled >= 1
        assert second.account(account.number).phone == "13911112222"
    finally:
        first.close()
        second.close()
    with Session(deployed.engine) as session:
        stored = session.scalars(select(OperationRow.operation_id)
                                 .where(OperationRow.receipt_no == made.receipt_no)).all()
    assert stored == [made.operation_id]
    # The server's only way to its database was PgBouncer, which let its workers in.
    assert "login attempt: db=" in deployed.pgbouncer.log.read_text(errors="replace")


def test_requests_at_once_share_pgbouncers_connections(deployed, tmp_path):
    """Many requests at once over both instances' pools: PgBouncer lends each transaction some
    server connection; with the client's prepared statements on, a statement prepared on one
    would be run on another and fail."""
    with deployed.nginx.client() as client:
        terminal = Terminal(client, deployed.halls[1], "T01", engine=deployed.engine)
        assert terminal.login(f"{deployed.halls[1].lower()}-c1").status_code == 200

        def pull(_: int) -> int:
            return terminal.get("/changes", after=0, limit=50).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(pull, range(80)))
    assert answers == [200] * 80
    assert "prepared statement" not in deployed.pgbouncer.log.read_text(errors="replace")


def test_the_sms_worker_delivers_through_pgbouncer(deployed, tmp_path):
    """`hallserver notify` as hallserver-notify.service runs it: the same settings, the same
    database URL (PgBouncer's). Each message is queued after the one before was sent, so its
    query has run many times on one connection before the last is sent."""
    hall = deployed.halls[1]
    sms_log, worker_log = tmp_path / "sms.log", tmp_path / "notify.log"
    with worker_log.open("wb") as err:
        worker = subprocess.Popen(
            [sys.executable, "-m", "hallserver", "notify", "--sms-log", str(sms_log),
             "--interval", "0.05"], env=server_env(deployed.pgbouncer),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        with deployed.nginx.client() as client:
            terminal = Terminal(client, hall, "T07", engine=deployed.engine)
            assert terminal.login(f"{hall.lower()}-c1").status_code == 200
            accounts = [a for a in terminal.all_accounts()
                        if a["status"] == "active" and a["id_number"] and a["sms_consent"]
                        and a["phone"]][:7]
            assert len(accounts) == 7
            for account in accounts:
                op = terminal.operation("contact_change", {**holder_of(account),
                                                           "mailing_address": "天河路 1 号"},
                                        account=account)
                assert terminal.push(op)[0]["outcome"] == "applied"
                deadline = time.monotonic() + 20
                while not (sms_log.exists() and op["receipt_no"] in sms_log.read_text("utf-8")):
                    assert worker.poll() is None, worker_log.read_text(errors="replace")
                    assert time.monotonic() < deadline, "the SMS was not sent"
                    time.sleep(0.05)
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_systemd_units_verify_and_are_hardened(tmp_path):
    """systemd's own checks of deploy/systemd/*.service, installed with the server's virtualenv
    at this one's place (it checks that the program exists); no running systemd needed."""
    analyze = require("systemd-analyze")
    units = []
    for shipped in sorted((DEPLOY / "systemd").glob("*.service")):
        text = shipped.read_text(encoding="utf-8")
        assert "/opt/hallserver/venv/bin/hallserver " in text
        unit = tmp_path / shipped.name
        unit.write_text(text.replace("/opt/hallserver/venv", sys.prefix), encoding="utf-8")
        units.append(unit)
    assert [u.name for u in units] == ["hallserver-notify.service", "hallserver.service"]
    verified = subprocess.run([analyze, "verify", *units], capture_output=True, text=True,
                              timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    for unit in units:
        rated = subprocess.run([analyze, "security", "--offline=true", unit],
                               capture_output=True, text=True, timeout=60)
        exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+)", rated.stdout)
        assert exposure, rated.stdout + rated.stderr
        assert float(exposure.group(1)) <= 2.0, rated.stdout  # systemd: "OK" up to 3.9


def test_the_shipped_settings_are_hallservers_own(monkeypatch):
    """Every HALLSERVER_* name in deploy/systemd/hallserver.env, the commented ones too, is a
    setting of the server, and the server takes the values given."""
    from hallserver.settings import ENV_PREFIX, ServerSettings, load_settings

    known = {"HALLSERVER_DB"}
    for name, field in ServerSettings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias] if alias else [f"{ENV_PREFIX}{name}"])
        known |= {str(choice).upper() for choice in choices}
    shipped = shipped_env(commented=True)
    assert {n for n in shipped if n.startswith("HALLSERVER_")} <= known
    for name in [n for n in os.environ if n.startswith("HALLSERVER_")]:
        monkeypatch.delenv(name)
    for name, value in shipped_env().items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.prepared_statements is False
    assert settings.log_format == "json"
    assert settings.forwarded_allow_ips == shipped["HALLSERVER_FORWARDED_ALLOW_IPS"]


def test_the_shipped_pgbouncer_pools_per_transaction():
    settings = shipped_pgbouncer_settings()
    assert settings["pool_mode"] == "transaction"
    assert settings["auth_type"] == "scram-sha-256"


# --- two instances behind nginx ---


def test_nginx_shares_the_requests_out_between_both_instances(deployed):
    with deployed.nginx.client() as client:
        ids = {client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(6)}
    server_access_lines(deployed, ids)  # all of them logged, by one instance or the other
    answered = [{line["request_id"] for line in deployed.server_lines(instance)} & ids
                for instance in range(INSTANCES)]
    assert all(answered) and set().union(*answered) == ids


def test_a_pull_waiting_for_a_change_is_not_cut_by_nginx(deployed, tmp_path):
    """A pull may wait up to MAX_CHANGES_WAIT seconds before the server sends a byte: the
    pulls' own location waits far longer. Shown live with every other route's read timeout
    cut to 1 s: a pull held 2 s by the server still gets its answer."""
    shipped = NGINX_CONF.read_text(encoding="utf-8")
    pulls = re.search(r"location = /api/v1/changes \{[^}]*proxy_read_timeout (\d+)s;", shipped)
    assert pulls is not None and int(pulls.group(1)) >= 2 * MAX_CHANGES_WAIT
    hall = deployed.halls[0]
    with deployed.nginx.client() as client:
        terminal = Terminal(client, hall, "T09", engine=deployed.engine)
        assert terminal.login(f"{hall.lower()}-c1").status_code == 200
        cursor = terminal.get("/changes", after=0, limit=1000).json()["next_cursor"]
    upstreams = [url.removeprefix("http://") for url in deployed.server_urls]
    with running_nginx(tmp_path / "nginx", upstreams,
                       {"proxy_read_timeout 120s;": "proxy_read_timeout 1s;"}) as cut, \
            cut.client() as client:
        terminal.client = client
        held = terminal.get("/changes", after=cursor, wait=2)
        assert held.status_code == 200, held.text
        assert held.json()["accounts"] == [] and held.json()["next_cursor"] == cursor
        rid = held.headers["X-Request-ID"]
        line = logged_soon(cut.access_log.read_text, lambda text: f"request_id={rid}" in text)
    timing = re.search(rf'" 200 \d+ [0-9.]+ ([0-9.]+) \S+ request_id={rid}', line)
    assert timing is not None, line
    assert float(timing.group(1)) >= 1.0  # the server answered after the 1 s others get


# --- the client's address, as the login throttle counts it ---


def test_the_login_throttle_counts_each_halls_address(deployed, no_failed_logins):
    one, other = deployed.halls
    with deployed.nginx.client("127.0.0.2") as client:
        terminal = Terminal(client, one, "T05", engine=deployed.engine)
        for _ in range(ADDRESS_LIMIT):
            assert terminal.login(f"{one.lower()}-c2", "guess").status_code == 401
        locked = terminal.login(f"{one.lower()}-c1")  # the right password
        assert locked.status_code == 429, locked.text
        assert locked.json()["code"] == "too_many_failed_logins"
        assert "from this computer" in locked.json()["message"]["en"]
    assert failed_addresses(deployed.engine) == {"127.0.0.2"}
    with deployed.nginx.client("127.0.0.1") as client:
        elsewhere = Terminal(client, other, "T05", engine=deployed.engine)
        assert elsewhere.login(f"{other.lower()}-c1").status_code == 200


def test_a_forged_x_forwarded_for_does_not_choose_the_address(deployed, no_failed_logins):
    hall = deployed.halls[0]
    with deployed.nginx.client("127.0.0.3") as client:
        terminal = Terminal(client, hall, "T06", engine=deployed.engine)
        # Each failure claims another address: were the claim believed, none would be locked.
        for n in range(ADDRESS_LIMIT):
            client.headers["X-Forwarded-For"] = f"10.9.8.{n}"
            assert terminal.login(f"{hall.lower()}-c2", "guess").status_code == 401
        client.headers["X-Forwarded-For"] = "10.9.8.100"
        assert terminal.login(f"{hall.lower()}-c1").status_code == 429
    assert failed_addresses(deployed.engine) == {"127.0.0.3"}
    # The server itself believes the header from nginx's address (HALLSERVER_FORWARDED_ALLOW_IPS):
    # nginx overwriting it is what stands between a client and the address counted.
    with httpx.Client(base_url=deployed.server_url, timeout=15,
                      headers={"X-Forwarded-For": "10.7.7.7"}) as direct:
        terminal = Terminal(direct, hall, "T06", engine=deployed.engine)
        assert terminal.login(f"{hall.lower()}-c2", "guess").status_code == 401
    assert failed_addresses(deployed.engine) == {"127.0.0.3", "10.7.7.7"}


# --- what nginx keeps to itself, and what it adds ---


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/metrics?name=x", "/%6Detrics",
                                  "//metrics", "/api/v1/../../metrics"])
def test_metrics_are_not_served_through_nginx(deployed, path):
    with deployed.nginx.client() as client:
        refused = client.get(deployed.nginx.url + path)
    assert refused.status_code == 403
    assert "hallserver_" not in refused.text


def test_the_server_itself_serves_metrics_to_the_monitoring_on_loopback(deployed):
    served = httpx.get(f"{deployed.server_url}/metrics", timeout=15)
    assert served.status_code == 200
    assert "hallserver_http_requests" in served.text


def logged_soon(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """What `read` gives once `done` holds of it, or after 10 s: a log line is written once
    the answer has been sent, so it may come a moment after the client has it."""
    deadline = time.monotonic() + 10
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def server_access_lines(deployed, ids: set[str]) -> list[dict[str, object]]:
    """The server's access lines of the requests with these ids."""
    return logged_soon(
        lambda: [line for line in deployed.server_lines()
                 if line.get("logger") == "hallserver.access" and line.get("request_id") in ids],
        lambda lines: {line["request_id"] for line in lines} == ids)


def test_each_request_has_nginxs_id_and_the_server_logs_it(deployed):
    with deployed.nginx.client() as client:
        # A client's own id is not taken: nginx sends its own.
        answers = [client.get("/api/v1/health", headers={"X-Request-ID": "forged-by-client"})
                   for _ in range(2)]
    ids = []
    for answer in answers:
        assert answer.status_code == 200
        [rid] = answer.headers.get_list("X-Request-ID")  # one: nginx's, not two
        assert len(rid) == 32 and int(rid, 16) >= 0 and rid != "forged-by-client"
        ids.append(rid)
    assert ids[0] != ids[1]
    nginx_log = logged_soon(deployed.nginx.access_log.read_text,
                            lambda text: all(f"request_id={rid}" in text for rid in ids))
    assert all(f"request_id={rid}" in nginx_log for rid in ids)
    logged = server_access_lines(deployed, set(ids))
    assert {line["request_id"] for line in logged} == set(ids)
    assert all(str(line["path"]).endswith("/health") and line["status"] == 200
               for line in logged)


def test_plain_http_is_sent_to_https(deployed):
    answer = httpx.get(f"http://127.0.0.1:{deployed.nginx.http_port}/api/v1/health?x=1",
                       timeout=15)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://hallserver.example.org/api/v1/health?x=1"


def test_a_body_over_4_mib_is_refused_by_nginx_and_a_large_one_reaches_the_server(deployed):
    with deployed.nginx.client() as client:
        too_large = client.post("/api/v1/push", content=b"x" * (FOUR_MIB + 1),
                                headers={"Content-Type": "application/json"})
        # Above the 1 MiB kept in memory: nginx buffers it in its temporary files first.
        large = client.post("/api/v1/push", content=b"x" * (2 * 1024 * 1024),
                            headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413
    assert "nginx" in too_large.text  # refused at the door: the server never saw it
    # The server's own answer (it is not a push), logged by the server under nginx's id.
    assert large.status_code == 422 and large.json()["code"] == "invalid_request"
    rid = large.headers["X-Request-ID"]
    assert [(line["method"], line["status"]) for line in server_access_lines(deployed, {rid})
            ][:1] == [("POST", 422)]
    assert all(line.get("request_id") != too_large.headers["X-Request-ID"]
               for line in deployed.server_lines())


def _handshake(nginx: Nginx, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return str(tls.version())


def test_tls_is_1_3_and_1_2_only_with_forward_secret_aead_ciphers(deployed):
    assert _handshake(deployed.nginx, deployed.nginx.ssl_context()) == "TLSv1.3"
    modern_12 = deployed.nginx.ssl_context()
    modern_12.maximum_version = ssl.TLSVersion.TLSv1_2
    modern_12.set_ciphers("ECDHE+AESGCM")
    assert _handshake(deployed.nginx, modern_12) == "TLSv1.2"
    cbc_only = deployed.nginx.ssl_context()
    cbc_only.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc_only.set_ciphers("ECDHE-ECDSA-AES128-SHA:AES128-SHA")
    with pytest.raises(ssl.SSLError):
        _handshake(deployed.nginx, cbc_only)
