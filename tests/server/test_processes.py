"""Two real `hallserver serve` processes on one PostgreSQL database."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hallserver.embedded import free_port
from hallserver.seed import seed
from tests.support.server import PG_URL, Terminal, empty_tables, holder_of

pytestmark = pytest.mark.postgres


def start_server(port, sms_log):
    env = {**os.environ, "HALLSERVER_DB": PG_URL}
    return subprocess.Popen(
        [sys.executable, "-m", "hallserver", "serve", "--db", PG_URL, "--port", str(port),
         "--sms-log", str(sms_log)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_healthy(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"server at {url} did not come up")


@pytest.fixture
def two_servers(_postgres, tmp_path):
    empty_tables(_postgres)
    seed(_postgres, accounts=60, halls=1)
    sms_log = tmp_path / "sms.log"
    ports = [free_port(), free_port()]
    procs = [start_server(p, sms_log) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy(url, proc)
        clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
        yield clients, sms_log, _postgres
        for c in clients:
            c.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


def test_one_operation_through_two_servers_lands_once(two_servers):
    (a, b), sms_log, engine = two_servers
    terminal = Terminal(a, "GZ-TH-01", "T01", engine=engine)
    assert terminal.login("gz-th-01-c1").status_code == 200
    via_b = Terminal(b, "GZ-TH-01", "T01", key=terminal.key,
                     installation_id=terminal.installation_id, token=terminal.token)
    account = next(x for x in terminal.all_accounts()
                   if x["status"] == "active" and x["id_number"] and not x["arrears_fen"]
                   and x["sms_consent"] and x["phone"])
    op = terminal.operation("suspend", holder_of(account), account=account)
    senders = [terminal, via_b] * 6
    with ThreadPoolExecutor(len(senders)) as pool:
        results = list(pool.map(lambda t: t.push(op)[0], senders))
    assert sorted(r["outcome"] for r in results) == ["applied"] + ["duplicate"] * 11
    # Both processes deliver notifications; the customer gets the message once.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not sms_log.exists():
        time.sleep(0.2)
    time.sleep(6)  # a further delivery round of each process
    lines = [json.loads(line) for line in sms_log.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and op["receipt_no"] in lines[0]["text"]

