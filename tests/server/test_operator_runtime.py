"""The server as an operator runs it: settings from the environment and `serve`'s options, the
database pool, logs with a request id, Prometheus metrics, a health check that costs nothing,
and the client address behind a reverse proxy."""

import gc
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from hallcore.wire import API_PREFIX
from hallserver.app import create_app
from hallserver.asgi import app_from_environment
from hallserver.db import SERVER_SCHEMA, connection_limit, make_engine
from hallserver.embedded import free_port
from hallserver.glance import GLANCE_CONNECTIONS
from hallserver.logs import JsonFormatter, RequestIdFilter
from hallserver.models import LoginFailureRow, NotificationRow
from hallserver.seed import seed
from hallserver.settings import ServerSettings, SettingsError, load_settings
from tests.support.server import PG_URL, Terminal, holder_of, logged_in

TH = "GZ-TH-01"
LOOPBACK = ("127.0.0.1", 50000)
# What a test process may have set that would change what these tests see.
OUTSIDE = ("FORWARDED_ALLOW_IPS", "PROMETHEUS_MULTIPROC_DIR")


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HALLSERVER_") or name in OUTSIDE:
            monkeypatch.delenv(name)
    return monkeypatch


def server_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HALLSERVER_") and k not in OUTSIDE}
    return {**env, **extra}


# --- settings --------------------------------------------------------------------------------


def test_settings_come_from_the_environment_under_their_old_names_and_the_new(clean_env):
    for name, value in {"HALLSERVER_ACCESS_MINUTES": "7", "HALLSERVER_OFFLINE_LOGIN_DAYS": "3",
                        "HALLSERVER_LOGIN_FAILURES_PER_ADDRESS": "40",
                        "HALLSERVER_POOL_SIZE": "3", "HALLSERVER_MAX_OVERFLOW": "0",
                        "HALLSERVER_PREPARED_STATEMENTS": "off",
                        "FORWARDED_ALLOW_IPS": "10.0.0.1", "HALLSERVER_LOG_FORMAT": "JSON",
                        "HALLSERVER_LOG_LEVEL": "warning", "HALLSERVER_METRICS_ALLOW": ""
                        }.items():
        clean_env.setenv(name, value)
    settings = load_settings()
    assert settings.access_token_ttl == timedelta(minutes=7)
    assert settings.clerk_at_terminal == timedelta(days=3)
    assert settings.login_failures_per_address == 40
    assert (settings.pool_size, settings.max_overflow) == (3, 0)
    assert settings.prepared_statements is False
    assert settings.forwarded_allow_ips == "10.0.0.1"  # uvicorn's name is read too
    assert (settings.log_format, settings.log_level) == ("json", "warning")
    assert settings.metrics_allow == ""
    clean_env.setenv("HALLSERVER_FORWARDED_ALLOW_IPS", "10.0.0.2/31")
    assert load_settings().forwarded_allow_ips == "10.0.0.2/31"  # ours wins


def test_settings_default_as_documented_and_code_gives_them_by_name(clean_env):
    settings = ServerSettings()
    assert settings.access_token_ttl == timedelta(minutes=30)
    assert settings.login_failure_window == timedelta(minutes=15)
    assert (settings.pool_size, settings.max_overflow, settings.prepared_statements) == (
        5, 10, True)
    # Six workers fit PostgreSQL's default max_connections (100, 3 kept for superusers).
    assert 6 * (settings.pool_size + settings.max_overflow) <= 97
    assert (settings.log_format, settings.log_level) == ("text", "info")
    assert ServerSettings(refresh_token_ttl=timedelta(seconds=-1)).refresh_token_ttl == (
        timedelta(seconds=-1))


@pytest.mark.parametrize(("name", "value", "said"), [
    ("HALLSERVER_POOL_SIZE", "0", "greater than or equal to 1"),
    ("HALLSERVER_MAX_OVERFLOW", "many", "integer"),
    ("HALLSERVER_ACCESS_MINUTES", "half an hour", "whole number of minutes"),
    ("HALLSERVER_PREPARED_STATEMENTS", "maybe", "boolean"),
    ("HALLSERVER_LOG_FORMAT", "xml", "'text' or 'json'"),
    ("HALLSERVER_FORWARDED_ALLOW_IPS", "proxy.example", "not an IP address or network"),
    ("FORWARDED_ALLOW_IPS", "10.0.0.300", "not an IP address or network"),
    ("HALLSERVER_METRICS_ALLOW", "10.0.0.0/8, everyone", "'everyone' is not"),
])
def test_a_bad_setting_is_refused_in_one_line_that_names_it(clean_env, name, value, said):
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"{name}={value!r}: ") and said in message
    assert "\n" not in message and "pydantic" not in message


def run_hallserver(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "hallserver", *args], capture_output=True,
                          text=True, timeout=timeout, env=env or server_env())


def test_serve_refuses_a_bad_option_or_variable_in_one_line(tmp_path):
    db = f"sqlite+pysqlite:///{tmp_path / 'never.sqlite3'}"
    done = run_hallserver("serve", "--db", db, "--pool-size", "0")
    assert done.returncode == 2
    assert done.stderr == ("hallserver: HALLSERVER_POOL_SIZE='0' (--pool-size): Input should be "
                           "greater than or equal to 1\n")
    done = run_hallserver("serve", "--db", db, env=server_env(HALLSERVER_LOG_LEVEL="loud"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("hallserver: HALLSERVER_LOG_LEVEL='loud' (--log-level): ")
    # The option overrides the variable.
    done = run_hallserver("serve", "--db", db, "--forwarded-allow-ips", "nginx",
                          env=server_env(HALLSERVER_FORWARDED_ALLOW_IPS="10.0.0.1"))
    assert done.returncode == 2 and "'nginx' is not an IP address" in done.stderr
    assert not (tmp_path / "never.sqlite3").exists()  # refused before the database


@pytest.mark.postgres
def test_serve_refuses_more_connections_than_postgresql_allows(_postgres):
    limit = connection_limit(_postgres)  # 97 with PostgreSQL's defaults
    each = 20 + 10 + GLANCE_CONNECTIONS
    workers = limit // each + 1
    done = run_hallserver("serve", "--db", PG_URL, "--workers", str(workers), "--pool-size",
                          "20", "--max-overflow", "10")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert (f"{workers} worker(s) × (pool size 20 + max overflow 10 + {GLANCE_CONNECTIONS} for "
            f"plain pulls) = {workers * each} "
            f"database connections, more than the {limit} the database allows") in done.stderr
    assert "lower --pool-size, --max-overflow or --workers" in done.stderr


# --- the database pool -----------------------------------------------------------------------


def prepared_on_server(engine):
    """How many statements the server holds prepared for one connection that ran the same
    query eight times (psycopg prepares one it ran five times, unless told not to)."""
    with engine.connect() as conn:
        for n in range(8):
            conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": n})
        return conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()


@pytest.mark.postgres
def test_the_pool_settings_and_prepared_statements_reach_the_engine(_postgres, clean_env):
    engine = make_engine(PG_URL, pool_size=3, max_overflow=2, prepared_statements=False)
    default = make_engine(PG_URL)
    # Every command's engine follows the setting (`hallserver notify` behind PgBouncer).
    clean_env.setenv("HALLSERVER_PREPARED_STATEMENTS", "false")
    command = make_engine(PG_URL)
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 2)
        assert (default.pool.size(), default.pool._max_overflow) == (5, 10)
        assert prepared_on_server(engine) == 0
        assert prepared_on_server(default) >= 1
        assert prepared_on_server(command) == 0
    finally:
        for made in (engine, default, command):
            made.dispose()


@pytest.mark.postgres
def test_the_workers_app_takes_its_pool_from_the_environment(_postgres, clean_env):
    clean_env.setenv("HALLSERVER_DB", PG_URL)
    clean_env.setenv("HALLSERVER_POOL_SIZE", "4")
    clean_env.setenv("HALLSERVER_MAX_OVERFLOW", "1")
    clean_env.setenv("HALLSERVER_PREPARED_STATEMENTS", "0")
    threshold = gc.get_threshold()
    try:
        app = app_from_environment()
    finally:  # the worker's tuning of the collector, not this test process's
        gc.unfreeze()
        gc.set_threshold(*threshold)
    engine = app.state.engine
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (4, 1)
        assert prepared_on_server(engine) == 0
    finally:
        engine.dispose()


def test_the_workers_app_with_sms_delivery_still_closes_its_own_at_shutdown(sqlite_db, clean_env,
                                                                           tmp_path):
    # The delivery loop's lifespan wraps the app's: the waiting pulls are answered and the
    # listeners stopped when a worker stops, as without delivery.
    clean_env.setenv("HALLSERVER_DB", sqlite_db)
    clean_env.setenv("HALLSERVER_SMS_LOG", str(tmp_path / "sms.log"))
    threshold = gc.get_threshold()
    try:
        app = app_from_environment()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    try:
        with TestClient(app):
            assert not app.state.waiting_pulls.waits.closed
        assert app.state.waiting_pulls.waits.closed
    finally:
        app.state.engine.dispose()


# --- logs ------------------------------------------------------------------------------------


@contextmanager
def json_log(level=logging.INFO):
    """Every record (HallServer's from `level`) as `serve --log-format json` writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    # The server's records, not those of the test's HTTP client (httpx logs each URL).
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root, ours = logging.getLogger(), logging.getLogger("hallserver")
    saved = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))
    ours.setLevel(level)
    lines = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])
        lines += [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def client(server_engine):
    seed(server_engine, accounts=120, halls=1)
    with TestClient(create_app(server_engine, ServerSettings()), client=LOOPBACK) as client:
        yield client


def test_every_line_of_a_request_carries_its_id_also_from_the_routes_thread(client):
    ghost = Terminal(client, TH, "T01")
    with json_log() as lines:
        answers = [client.post(f"{API_PREFIX}/login", json=ghost.login_body("ghost-7"))
                   for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(ids)) == 6 and all(len(i) == 32 for i in ids)
    # The throttle's warning, logged in the route's worker thread, and the access line.
    [warning] = [line for line in lines if line["logger"] == "hallserver.api.throttle"]
    assert warning["request_id"] == ids[-1] and warning["level"] == "WARNING"
    assert warning["message"] == "login refused: too many failed logins for one clerk"
    access = [line for line in lines if line["logger"] == "hallserver.access"]
    assert [(a["request_id"], a["method"], a["path"], a["status"]) for a in access] == [
        (i, "POST", f"{API_PREFIX}/login", a.status_code) for i, a in zip(ids, answers,
                                                                           strict=True)]
    assert all(isinstance(a["duration_ms"], float) for a in access)
    assert all(datetime.fromisoformat(line["time"]).tzinfo for line in lines)
    assert "ghost-7" not in json.dumps(lines)


def test_a_trusted_proxys_request_id_is_kept_and_any_other_replaced(server_engine):
    app = create_app(server_engine, ServerSettings(forwarded_allow_ips="127.0.0.1"))
    health = f"{API_PREFIX}/health"
    with TestClient(app, client=LOOPBACK) as proxy:
        assert proxy.get(health, headers={"X-Request-ID": "9f86d081-nginx.1"}).headers[
            "x-request-id"] == "9f86d081-nginx.1"
        for malformed in ("two words", "x" * 65, "a;b", ""):
            answer = proxy.get(health, headers={"X-Request-ID": malformed})
            assert answer.headers["x-request-id"] != malformed
            assert len(answer.headers["x-request-id"]) == 32
    with TestClient(app, client=("203.0.113.9", 50000)) as stranger:
        answer = stranger.get(health, headers={"X-Request-ID": "9f86d081-nginx.1"})
        assert answer.headers["x-request-id"] != "9f86d081-nginx.1"


def test_the_logs_hold_no_phone_id_number_or_query_string(client, server_engine):
    th = logged_in(client, TH, "T01", "gz-th-01-c1")
    account = next(a for a in th.all_accounts() if a["status"] == "active" and a["phone"]
                   and a["id_number"] and a["sms_consent"] and not a["arrears_fen"])
    with json_log(logging.DEBUG) as lines:
        op = th.operation("suspend", holder_of(account), account=account)
        assert th.push(op)[0]["outcome"] == "applied"
        th.get(f"/receipts/{op['receipt_no']}", signature=op["receipt_signature"])
        client.get(f"{API_PREFIX}/changes", params={"phone": account["phone"]})
        th.get(f"/accounts/{account['number']}/notifications")
    logged = json.dumps(lines, ensure_ascii=False)
    assert {line["path"] for line in lines if "path" in line} == {
        f"{API_PREFIX}/push", f"{API_PREFIX}/receipts/{{receipt_no}}", f"{API_PREFIX}/changes",
        f"{API_PREFIX}/accounts/{{number}}/notifications"}
    for private in (account["phone"], account["id_number"], account["holder_name"],
                    account["number"],
                    op["receipt_no"], "phone="):
        assert private not in logged


@contextmanager
def serving(db, *options, env=None):
    """`hallserver serve` on a free port; yields its URL and a buffer that holds everything
    it logged once the server has stopped. Waited for by connecting only, so that the test's
    own requests are all it answers (the workers take those queued meanwhile once started)."""
    port = free_port()
    log = io.StringIO()
    proc = subprocess.Popen([sys.executable, "-m", "hallserver", "serve", "--db", db, "--port",
                             str(port), *options], env=env or server_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        log.write(err)


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}"
    engine = make_engine(url)
    SERVER_SCHEMA.upgrade(engine)
    engine.dispose()
    return url


def test_serve_logs_one_json_object_a_line_with_the_request_id(sqlite_db):
    # The option overrides the variable.
    env = server_env(HALLSERVER_LOG_FORMAT="text")
    with serving(sqlite_db, "--log-format", "json", env=env) as (url, log), httpx.Client(
            base_url=f"{url}{API_PREFIX}", timeout=60) as http:
        kept = http.get("/health", headers={"X-Request-ID": "proxy-1234"})
        http.get("/changes", params={"after": 0, "phone": "13800138000"})
        body = Terminal(http, TH, "T01").login_body("ghost-7")
        refused = [http.post("/login", json=body) for _ in range(6)][-1]
    assert kept.headers["x-request-id"] == "proxy-1234"  # 127.0.0.1 is trusted by default
    assert refused.status_code == 429
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line)
               for line in lines)
    assert any(line["logger"] == "uvicorn.error" and line["level"] == "INFO"
               and line["request_id"] is None for line in lines)  # the start, in JSON too
    access = [line for line in lines if line["logger"] == "hallserver.access"]
    assert [(a["method"], a["path"], a["status"]) for a in access[:2]] == [
        ("GET", f"{API_PREFIX}/health", 200), ("GET", f"{API_PREFIX}/changes", 401)]
    assert access[0]["request_id"] == "proxy-1234"
    [warning] = [line for line in lines if line["logger"] == "hallserver.api.throttle"]
    assert warning["request_id"] == refused.headers["x-request-id"]
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert "13800138000" not in log.getvalue() and "ghost-7" not in log.getvalue()


def test_serve_logs_text_lines_with_time_level_and_its_own_access_line(sqlite_db):
    with serving(sqlite_db) as (url, log):
        answer = httpx.get(f"{url}{API_PREFIX}/health")
    rid = answer.headers["x-request-id"]
    lines = log.getvalue().splitlines()
    [access] = [line for line in lines if f"[{rid}]" in line]
    day, clock, level, logger, *rest = access.split(" ")
    datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S,%f")
    assert (level, logger) == ("INFO", "hallserver.access")
    assert " ".join(rest).startswith(f"[{rid}] GET {API_PREFIX}/health 200 ")
    assert not [line for line in lines if '"GET /api/v1/health HTTP/1.1"' in line]  # uvicorn's


# --- metrics ---------------------------------------------------------------------------------


def scrape(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def moved(before, after, name, **labels):
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_count_requests_pushes_outcomes_lag_logins_and_the_sms_queue(client,
                                                                             server_engine):
    th = logged_in(client, TH, "T01", "gz-th-01-c1")
    accounts = [a for a in th.all_accounts() if a["status"] == "active" and a["id_number"]
                and not a["arrears_fen"] and a["sms_consent"] and a["phone"]]
    before = scrape(client)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    op = th.operation("suspend", holder_of(accounts[0]), account=accounts[0],
                      created_at=two_hours_ago)
    assert th.push(op)[0]["outcome"] == "applied"
    assert th.push(op)[0]["outcome"] == "duplicate"
    forged = th.operation("suspend", holder_of(accounts[1]), account=accounts[1])
    forged["receipt_signature"] = "0" * 128
    assert th.push(forged)[0]["code"] == "bad_signature"
    assert th.get("/changes", after=0).status_code == 200
    assert Terminal(client, TH, "T02").login("gz-th-01-c2", "guess").status_code == 401
    after = scrape(client)

    assert moved(before, after, "hallserver_http_requests_total", route=f"{API_PREFIX}/push",
                 method="POST", status="200") == 3
    assert moved(before, after, "hallserver_http_requests_total",
                 route=f"{API_PREFIX}/changes", method="GET", status="200") == 1
    assert moved(before, after, "hallserver_http_request_duration_seconds_count",
                 route=f"{API_PREFIX}/changes", method="GET") == 1
    assert moved(before, after, "hallserver_pushes_total") == 3
    for outcome, code in (("applied", "none"), ("duplicate", "none"),
                          ("rejected", "bad_signature")):
        assert moved(before, after, "hallserver_push_operations_total", outcome=outcome,
                     code=code) == 1
    # The lag of the operation stored, not of its duplicate nor of the one refused.
    assert moved(before, after, "hallserver_sync_lag_seconds_count") == 1
    assert 2 * 3600 <= moved(before, after, "hallserver_sync_lag_seconds_sum") < 3 * 3600
    assert moved(before, after, "hallserver_login_failures_total") == 1
    with Session(server_engine) as s:
        pending = s.scalar(select(func.count()).select_from(NotificationRow)
                           .where(NotificationRow.state == "pending"))
    assert pending and after[("hallserver_sms_queue", frozenset({("state", "pending")}))] == (
        pending)


def test_metrics_are_served_only_to_the_networks_allowed(server_engine):
    app = create_app(server_engine, ServerSettings(metrics_allow="10.1.0.0/16"))
    with TestClient(app, client=LOOPBACK) as here:
        refused = here.get("/metrics")
        assert refused.status_code == 403 and refused.json()["code"] == "metrics_forbidden"
    with TestClient(app, client=("10.1.2.3", 50000)) as prometheus:
        assert prometheus.get("/metrics").status_code == 200
    # By default the loopback and private networks; through a trusted proxy, the client it
    # forwards: a public address is refused should the proxy forward /metrics after all.
    app = create_app(server_engine, ServerSettings())
    with TestClient(app, client=LOOPBACK) as proxy:
        assert proxy.get("/metrics").status_code == 200
        assert proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}
                         ).status_code == 403
    assert "/metrics" not in TestClient(app).get("/openapi.json").json()["paths"]


def test_several_workers_add_up_their_metrics_in_the_multiprocess_directory(sqlite_db,
                                                                            tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"a previous run's")
    env = server_env(PROMETHEUS_MULTIPROC_DIR=str(shared))
    # 127.0.0.1 not trusted: the workers took the option, through the environment.
    with serving(sqlite_db, "--workers", "2", "--forwarded-allow-ips", "10.0.0.1",
                 env=env) as (url, _log):
        answers = []
        for _ in range(40):  # a connection each: the workers share them out
            answers.append(httpx.get(f"{url}{API_PREFIX}/health", timeout=60,
                                     headers={"X-Request-ID": "proxy-1234"}))
        with httpx.Client(base_url=url, timeout=60) as http:
            samples = scrape(http)
        pids = {path.stem.rsplit("_", 1)[1] for path in shared.glob("*.db")}
    assert all(a.headers["x-request-id"] != "proxy-1234" for a in answers)
    assert "1" not in pids and len(pids) == 2  # emptied at start; both workers write there
    # Whichever worker answered the scrape, it counted every worker's requests.
    assert samples[("hallserver_http_requests_total", frozenset(
        {("route", f"{API_PREFIX}/health"), ("method", "GET"), ("status", "200")}))] == 40


# --- health ----------------------------------------------------------------------------------


@contextmanager
def database_work(engine):
    """The statements run and the connections taken from the pool meanwhile."""
    seen = {"statements": 0, "checkouts": 0}

    def statement(*_args):
        seen["statements"] += 1

    def checkout(*_args):
        seen["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def test_health_asks_the_database_nothing_but_once(server_engine):
    with TestClient(create_app(server_engine, ServerSettings())) as client, database_work(
            server_engine) as work:
        assert client.get(f"{API_PREFIX}/health").json()["schema_revision"] == (
            SERVER_SCHEMA.head())
        assert work["statements"] > 0  # the schema, checked once
        work.update(statements=0, checkouts=0)
        for _ in range(20):
            assert client.get(f"{API_PREFIX}/health").status_code == 200
        assert work == {"statements": 0, "checkouts": 0}
        ready = client.get(f"{API_PREFIX}/health", params={"ready": 1})
        assert ready.json()["status"] == "ok" and work["statements"] >= 1


def test_health_refuses_a_database_of_another_schema_until_it_is_right(tmp_path):
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'empty.sqlite3'}")
    with TestClient(create_app(engine, ServerSettings())) as client:
        refused = client.get(f"{API_PREFIX}/health")
        assert refused.status_code == 503 and refused.json()["code"] == "schema_mismatch"
        SERVER_SCHEMA.upgrade(engine)
        assert client.get(f"{API_PREFIX}/health").status_code == 200
    engine.dispose()


def test_health_ready_says_when_the_database_does_not_answer(server_engine):
    app = create_app(server_engine, ServerSettings())
    nowhere = make_engine(f"postgresql+psycopg://hall@127.0.0.1:{free_port()}/hall")
    with TestClient(app) as client:
        assert client.get(f"{API_PREFIX}/health").status_code == 200
        app.state.engine = nowhere  # the database went away
        assert client.get(f"{API_PREFIX}/health").status_code == 200  # alive, from memory
        unready = client.get(f"{API_PREFIX}/health", params={"ready": "1"})
        assert unready.status_code == 503
        assert unready.json()["code"] == "database_unreachable"
    nowhere.dispose()


# --- the client address behind a reverse proxy ------------------------------------------------


def failed_login(client, clerk, forwarded_for):
    return client.post(f"{API_PREFIX}/login", json=Terminal(client, TH, "T01").login_body(clerk),
                       headers={"X-Forwarded-For": forwarded_for})


def test_the_throttle_counts_the_forwarded_address_of_a_trusted_proxy(server_engine):
    settings = ServerSettings(forwarded_allow_ips="10.9.0.1", login_failures_per_address=3)
    app = create_app(server_engine, settings)
    with TestClient(app, client=("10.9.0.1", 50000)) as proxy:
        before = scrape(proxy)
        assert [failed_login(proxy, f"ghost-{n}", "198.51.100.1").status_code
                for n in range(4)] == [401, 401, 401, 429]
        # Another hall behind the same proxy is not locked out by the first one's typos.
        assert failed_login(proxy, "ghost-9", "198.51.100.2").status_code == 401
        after = scrape(proxy)
    assert moved(before, after, "hallserver_login_failures_total") == 4
    assert moved(before, after, "hallserver_logins_throttled_total", by="address") == 1
    with Session(server_engine) as s:
        assert set(s.scalars(select(LoginFailureRow.address))) == {"198.51.100.1",
                                                                    "198.51.100.2"}
    # A peer that is not the proxy: what it claims to forward is ignored.
    with TestClient(app, client=("192.0.2.50", 50000)) as stranger:
        assert [failed_login(stranger, f"spectre-{n}", f"198.51.100.{20 + n}").status_code
                for n in range(4)] == [401, 401, 401, 429]
    with Session(server_engine) as s:
        assert s.scalar(select(func.count()).select_from(LoginFailureRow)
                        .where(LoginFailureRow.address == "192.0.2.50")) == 3
