"""SIGKILL of a real client process at random moments: nothing lost, nothing applied twice.

Each trial starts tests/support/crash_driver.py (a real client: records counter operations in its
cache, then syncs them with the real server over HTTP) and kills it with SIGKILL at a random
moment; the next trial is the restart (a run that ends before its kill is not counted). A last
sync finishes the work, then the server and the cache are compared.

HALLCLIENT_CRASH_TRIALS sets the number of kills: 50 in CI, 1000 in the long run
(docs/RELIABILITY.md):

    HALLCLIENT_CRASH_TRIALS=1000 .venv/bin/pytest -q -s tests/e2e/test_sync_crash.py
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.audit import verify_cache_audit
from hallclient.store.cache import open_cache
from hallclient.store.models import OutboxRow, ReceiptRow
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow
from tests.support.counter import cached_accounts, server_accounts

ROOT = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("HALLCLIENT_CRASH_TRIALS", "50"))
OPS_PER_RUN = 30


def client_env(tmp_path):
    return {**os.environ, "HALLCLIENT_DATA_DIR": str(tmp_path / "client"),
            "PYTHON_KEYRING_BACKEND": "tests.support.file_keyring.FileKeyring",
            "HALLCLIENT_TEST_KEYRING": str(tmp_path / "keyring.json")}


def hallclient(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "hallclient", *args], env=env, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=600)


def run_driver(env):
    """A driver run, returned once its imports are done: the moments worth a kill follow."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.crash_driver", str(OPS_PER_RUN)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n", proc.communicate()
    return proc


def phase_reached(stdout):
    """How far a driver run got: opening (the cache, before its first request is committed),
    recording, syncing or finished."""
    lines = stdout.splitlines()
    if lines[-1] == "started":
        return "opening"
    if lines[-1].startswith("recorded "):
        return "recording"
    return "syncing" if lines[-1] == "syncing" else "finished"


def receipts_shown(stdout):
    """The receipt numbers the run handed out (committed), each with its operation id."""
    return [tuple(line.split()[1:3]) for line in stdout.splitlines()
            if line.startswith("recorded ")]


def test_killed_client_loses_nothing_and_applies_nothing_twice(tmp_path, server):
    env = client_env(tmp_path)
    assert hallclient(env, "setup", "--server", server.url, "--hall", "GZ-TH-01",
                      "--terminal", "T01").returncode == 0
    # The new terminal waits for approval: a supervisor's login here gives it.
    approval = hallclient(env, "login", "--clerk", "gz-th-01-s1", "--password-stdin",
                          stdin="demo-super\n")
    assert approval.returncode == 0, approval.stderr
    login = hallclient(env, "login", "--clerk", "gz-th-01-c1", "--password-stdin",
                       stdin="demo-clerk\n")
    assert login.returncode == 0, login.stderr
    assert hallclient(env, "sync", "--once").returncode == 0
    cache_file = tmp_path / "client" / "cache.sqlite3"
    with Session(server.engine) as s:
        versions_before = {n: v for n, v in s.execute(
            select(ServerAccount.number, ServerAccount.version))}

    # How long a run takes when nothing kills it, from the end of its imports; kills then
    # fall anywhere inside a run: opening the cache, recording, syncing.
    baseline = run_driver(env)
    started = time.monotonic()
    out, err = baseline.communicate()
    assert baseline.returncode == 0, err
    window = time.monotonic() - started
    shown: dict[str, str] = dict(receipts_shown(out))
    rng = random.Random(20261125)
    killed_in: Counter[str] = Counter()
    runs = 0
    started = time.monotonic()
    while sum(killed_in.values()) < TRIALS:
        runs += 1
        proc = run_driver(env)
        # Every other kill falls in the first quarter of a run, where the cache is opened and
        # the requests recorded (syncing takes most of a run); the others anywhere in it.
        early = runs % 2 == 0
        time.sleep(rng.uniform(0, window / 4 if early else window))
        proc.send_signal(signal.SIGKILL)  # nothing happens to a run that has ended
        out, err = proc.communicate()
        out = "started\n" + out
        if proc.returncode == -signal.SIGKILL:
            killed_in[phase_reached(out)] += 1
            # Runs grow and shrink with the outbox and the machine's load: the window widens
            # slowly while kills land, and narrows when a run ends first.
            window *= 1 if early else 1.02
        else:
            assert proc.returncode == 0, err
            window *= 0.8
        for receipt_no, operation_id in receipts_shown(out):
            # A number a clerk was shown is never handed out again, by this run or a later one.
            assert shown.setdefault(receipt_no, operation_id) == operation_id, receipt_no
    final = hallclient(env, "sync", "--once")
    assert final.returncode == 0, final.stderr
    assert "pending 0" in final.stdout

    cache = open_cache(cache_file)
    with cache.read() as s:
        outbox = s.scalars(select(OutboxRow)).all()
        receipts = dict(s.execute(select(ReceiptRow.receipt_no, ReceiptRow.operation_id)).all())
        audit_break = verify_cache_audit(s)
    cached = cached_accounts(cache)
    cache.close()
    recorded = len(outbox)
    print(f"\n{TRIALS} kills in {runs} runs, {time.monotonic() - started:.0f} s; killed while "
          f"{dict(killed_in)}; {recorded} operations recorded; the last sync: "
          f"{final.stdout.strip()}")
    assert killed_in["recording"] and killed_in["syncing"]  # kills hit both phases
    assert audit_break is None
    assert {op.state for op in outbox} == {"applied"}
    # Receipt numbers: one per operation, each day's consecutive from 1, none reused, and
    # every one a clerk was shown, killed or not, is in the cache for the same operation.
    assert sorted(receipts.values()) == sorted(op.operation_id for op in outbox)
    per_day: dict[str, list[int]] = {}
    for receipt_no in receipts:
        day, number = receipt_no.rsplit("-", 2)[1:]
        per_day.setdefault(day, []).append(int(number))
    for numbers in per_day.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert shown.items() <= receipts.items()
    with Session(server.engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == recorded
        on_server_receipts = dict(s.execute(
            select(OperationRow.receipt_no, OperationRow.operation_id)).all())
    # Every operation on the server exactly once, under the receipt number the terminal gave.
    assert on_server_receipts == receipts
    on_server = server_accounts(server.engine, "GZ-TH")
    # Every operation moved its account's version on by exactly one.
    per_account = Counter(op.account_number for op in outbox)
    for number, n in per_account.items():
        assert on_server[number]["version"] == versions_before[number] + n
    assert cached == on_server
