"""SIGKILL of a real client process at random moments: nothing lost, nothing applied twice.

HALLCLIENT_CRASH_TRIALS sets the number of kills (the long run: 1000)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.cache import open_cache
from hallclient.store.models import AccountRow, OutboxRow, ReceiptRow
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow

ROOT = Path(__file__).resolve().parent.parent
TRIALS = int(os.environ.get("HALLCLIENT_CRASH_TRIALS", "30"))
OPS_PER_RUN = 30


def client_env(tmp_path):
    return {**os.environ, "HALLCLIENT_DATA_DIR": str(tmp_path / "client"),
            "PYTHON_KEYRING_BACKEND": "tests.file_keyring.FileKeyring",
            "HALLCLIENT_TEST_KEYRING": str(tmp_path / "keyring.json")}


def hallclient(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "hallclient", *args], env=env, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=120)


def run_driver(env):
    return subprocess.Popen([sys.executable, "-m", "tests.crash_driver", str(OPS_PER_RUN)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_killed_client_loses_nothing_and_applies_nothing_twice(tmp_path, server):
    env = client_env(tmp_path)
    assert hallclient(env, "setup", "--server", server.url, "--hall", "GZ-TH-01",
                      "--terminal", "T01").returncode == 0
    login = hallclient(env, "login", "--clerk", "gz-th-01-c1", "--password-stdin",
                       stdin="demo-clerk\n")
    assert login.returncode == 0, login.stderr
    assert hallclient(env, "sync", "--once").returncode == 0
    cache_file = tmp_path / "client" / "cache.sqlite3"
    with Session(server.engine) as s:
        versions_before = {n: v for n, v in s.execute(
            select(ServerAccount.number, ServerAccount.version))}

    # How long a run takes when nothing kills it; kills then fall anywhere inside a run.
    started = time.monotonic()
    assert run_driver(env).wait() == 0
    run_time = time.monotonic() - started
    rng = random.Random(20261125)
    completed = 0
    for _ in range(TRIALS):
        proc = run_driver(env)
        time.sleep(rng.uniform(0.3, run_time))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:
            completed += 1
            assert proc.returncode == 0, proc.stderr.read().decode()
        proc.wait()
    final = hallclient(env, "sync", "--once")
    assert final.returncode == 0, final.stderr
    assert "pending 0" in final.stdout

    cache = open_cache(cache_file)
    with cache.read() as s:
        outbox = s.scalars(select(OutboxRow)).all()
        receipts = s.scalars(select(ReceiptRow.receipt_no).order_by(ReceiptRow.receipt_no)).all()
        cached = {r.number: (r.version, r.status) for r in s.scalars(select(AccountRow))}
    cache.close()
    recorded = len(outbox)
    print(f"{TRIALS} runs of {run_time:.1f} s, {TRIALS - completed} killed, "
          f"{recorded} operations recorded")
    assert TRIALS - completed >= TRIALS // 2  # most runs were killed part-way
    assert {op.state for op in outbox} == {"applied"}
    # Receipt numbers: one per operation, consecutive, none reused.
    assert [int(r.rsplit("-", 1)[1]) for r in receipts] == list(range(1, recorded + 1))
    with Session(server.engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == recorded
        server_ids = set(s.scalars(select(OperationRow.operation_id)))
        on_server = {r.number: (r.version, r.status) for r in s.scalars(
            select(ServerAccount).where(ServerAccount.district == "GZ-TH"))}
    assert server_ids == {op.operation_id for op in outbox}
    # Every operation moved its account's version on by exactly one.
    per_account: dict[str, int] = {}
    for op in outbox:
        per_account[op.account_number] = per_account.get(op.account_number, 0) + 1
    for number, n in per_account.items():
        assert on_server[number][0] == versions_before[number] + n
    assert cached == on_server
