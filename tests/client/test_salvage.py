"""Salvage of a damaged cache: the operations it still holds come back into a new cache exactly
as they were, the damaged file is untouched until the salvage is accepted and kept aside after,
and receipt numbers are never issued twice.

The damage is real: a header overwritten, pages in the middle overwritten with garbage, the
outbox's own top page destroyed, the file cut short.
"""

import hashlib
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hallclient.__main__ import main
from hallclient.store import salvage as salvage_module
from hallclient.store.accounts import save_account, save_community
from hallclient.store.cache import CacheCorrupt, open_cache
from hallclient.store.feedback import record_feedback
from hallclient.store.models import TaskRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.store.outbox_backup import backup_outbox
from hallclient.store.salvage import count_waiting, describe, question, salvage, scan_damaged
from hallcore.demodata import DISTRICTS, accounts
from hallcore.domain.business import BusinessKind
from hallcore.wire import Rating
from tests.support.factories import COMMUNITY, TERMINAL_KEY, account, holder_presents

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
OPERATIONS = 40
ACKNOWLEDGED = 6  # the first ones: the server answered them
PAGE = 4096
WORK = ("outbox", "receipts", "receipt_counters", "feedback", "tasks")


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record(cache, i, now=None):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1",
                            kind=BusinessKind.CONTACT_CHANGE, account_number="1000000001",
                            raw_payload={**holder_presents(), "phone": f"139{i:08d}"},
                            now=now or NOON_CST + timedelta(minutes=i))


def build(path, *, accounts_first=False, backups=False):
    """A cache with OPERATIONS requests (the first ACKNOWLEDGED answered by the server, one a
    conflict with its task, two rated, one carrying a supervisor's approval token) and 1500
    accounts, recorded before the accounts or after them."""
    cache = open_cache(path)
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())

    def load_accounts():
        with cache.write() as s:
            for acct in accounts(DISTRICTS[0], 1500, []):
                if acct.number != account().number:
                    save_account(s, acct)

    if accounts_first:
        load_accounts()
    done = []
    for i in range(OPERATIONS):
        done.append(record(cache, i))
        if backups:
            backup_outbox(cache, now=NOON_CST + timedelta(minutes=i, seconds=30))
    with cache.write() as s:
        conn = s.connection()
        for op in done[:ACKNOWLEDGED]:
            conn.exec_driver_sql("UPDATE outbox SET state = 'applied', attempts = 1, "
                                 "result = '{\"outcome\": \"applied\"}' WHERE operation_id = ?",
                                 (op.operation_id,))
        conn.exec_driver_sql("UPDATE outbox SET state = 'conflict' WHERE operation_id = ?",
                             (done[ACKNOWLEDGED].operation_id,))
        conn.exec_driver_sql("UPDATE outbox SET approval_token = 'approval-token-7' "
                             "WHERE operation_id = ?", (done[7].operation_id,))
        s.add(TaskRow(operation_id=done[ACKNOWLEDGED].operation_id, kind="conflict",
                      created_at=NOON_CST, account_number="1000000001",
                      business_type="contact_change", server_reason_zh="冲突",
                      server_reason_en="conflict"))
    # The best and the worst of the five levels (a salvage once knew only three).
    for op, rating in zip(done[:2], (Rating.VERY_SATISFIED, Rating.VERY_DISSATISFIED),
                          strict=True):
        record_feedback(cache, op.operation_id, rating, "办得快", NOON_CST)
    if not accounts_first:
        load_accounts()
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return done


def work_rows(path):
    """Every row of the terminal's own work, as stored."""
    with sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return {table: sorted(tuple(dict(r).items()) for r in conn.execute(
            f"SELECT * FROM {table}")) for table in WORK}


def table_pages(path, table):
    """The root page of `table` and whether it is an interior page (the table spans more)."""
    with sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True) as conn:
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                               (table,)).fetchone()
    data = path.read_bytes()
    return root, data[(root - 1) * PAGE] == 0x05


def garble(path, pages):
    data = bytearray(path.read_bytes())
    for page in pages:
        data[(page - 1) * PAGE + 8:page * PAGE] = b"\xff" * (PAGE - 8)
    path.write_bytes(bytes(data))


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def assert_salvaged_as_before(path, before, result):
    """The new cache holds every operation exactly as the damaged one did (ids, payloads,
    states, approval tokens), with its receipt (number, signature, content), ratings, task."""
    after = work_rows(path)
    for table in ("outbox", "receipts", "feedback"):
        assert after[table] == before[table], table
    assert [dict(t)["operation_id"] for t in after["tasks"]] == [
        dict(t)["operation_id"] for t in before["tasks"]]
    assert after["receipt_counters"] == before["receipt_counters"]
    assert result.waiting == OPERATIONS - ACKNOWLEDGED - 1
    assert result.acknowledged == ACKNOWLEDGED + 1
    assert result.unreadable == ()


def assert_numbers_go_on(path):
    """The next request in the new cache (its account downloaded again) gets the next number."""
    cache = open_cache(path)
    try:
        with cache.write() as s:
            save_community(s, COMMUNITY)
            s.flush()
            save_account(s, account())
        again = record(cache, 99, now=NOON_CST + timedelta(hours=2))
    finally:
        cache.close()
    assert again.receipt_no == f"GZ-TH-01-T01-20261125-{OPERATIONS + 1:04d}"


def test_a_damaged_header_is_salvaged_with_every_operation_as_it_was(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    with path.open("r+b") as f:
        f.write(b"\xde\xad\xbe\xef" * 25)  # the magic string and the header's fields
    damaged = digest(path)
    with pytest.raises(CacheCorrupt, match="not a SQLite database") as err:
        open_cache(path)
    waiting = OPERATIONS - ACKNOWLEDGED - 1
    assert err.value.waiting == waiting
    assert f"still holds {waiting} requests waiting to be sent" in err.value.reason.en
    assert f"其中还有 {waiting} 笔业务等待上传" in err.value.reason.zh
    assert "hallclient salvage" in err.value.reason.en and "抢救" in err.value.reason.zh
    assert f"{waiting} 笔业务等待上传" in question(err.value).zh
    assert digest(path) == damaged  # counting changed nothing

    result = salvage(path, now=datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC))

    assert_salvaged_as_before(path, before, result)
    assert result.damaged == data_dir / "cache.sqlite3.damaged-20261126-010203"
    assert digest(result.damaged) == damaged  # moved aside, unchanged
    assert "cache.sqlite3.damaged-20261126-010203" in describe(result).en
    assert_numbers_go_on(path)


def test_a_rating_record_is_recognised_at_every_level_the_wire_knows():
    """The page scanner takes a record for a rating only by its value: a level it did not
    know would be dropped from a damaged page (the five-level scheme once was)."""
    assert {rating.value for rating in Rating} == salvage_module.RATINGS


def test_garbage_pages_in_the_middle_lose_no_operation(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    pages = path.stat().st_size // PAGE
    garble(path, range(pages // 3, pages - 1, 5))  # among the accounts, recorded last
    damaged = digest(path)
    with pytest.raises(CacheCorrupt) as err:
        open_cache(path)
    assert err.value.waiting == OPERATIONS - ACKNOWLEDGED - 1

    scan = scan_damaged(path)
    assert (scan.waiting, scan.acknowledged) == (OPERATIONS - ACKNOWLEDGED - 1, ACKNOWLEDGED + 1)
    assert digest(path) == damaged
    result = salvage(path, scan=scan)

    assert_salvaged_as_before(path, before, result)
    assert digest(result.damaged) == damaged
    assert_numbers_go_on(path)


def test_a_destroyed_top_page_of_the_outbox_loses_no_operation(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    root, interior = table_pages(path, "outbox")
    assert interior  # the outbox's rows are on pages below it, which nothing leads to now
    garble(path, [root])
    with pytest.raises(CacheCorrupt):
        open_cache(path)

    scan = scan_damaged(path)
    assert "pages" in scan.methods
    result = salvage(path, scan=scan)

    assert_salvaged_as_before(path, before, result)
    assert_numbers_go_on(path)


def test_a_cut_file_loses_no_operation(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 40 * PAGE - 1000)  # the accounts written last, and half a page
    with pytest.raises(CacheCorrupt):
        open_cache(path)

    result = salvage(path)

    assert_salvaged_as_before(path, before, result)
    assert_numbers_go_on(path)


def test_lost_operations_are_named_and_come_back_from_the_newest_backup(data_dir, tmp_path):
    path = data_dir / "cache.sqlite3"
    done = build(path, accounts_first=True, backups=True)  # the last operations at the end
    before = work_rows(path)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size - 3 * PAGE)
    damaged = digest(path)

    # Without the backups, the operations on the pages cut off are named by receipt number.
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "cache.sqlite3").write_bytes(path.read_bytes())
    scan = scan_damaged(alone / "cache.sqlite3")
    lost = {u.receipt_no for u in scan.unreadable}
    assert lost and lost <= {op.receipt_no for op in done}
    assert {op.receipt_no for op in done[-len(lost):]} == lost
    assert scan.waiting == OPERATIONS - ACKNOWLEDGED - 1 - len(lost)

    result = salvage(path)  # with the backups beside it

    assert result.unreadable == ()
    assert result.from_backups == len(lost)
    assert_salvaged_as_before(path, before, result)
    assert digest(result.damaged) == damaged
    assert_numbers_go_on(path)


def test_a_lost_receipt_counter_does_not_let_numbers_be_issued_again(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM receipt_counters")
    with path.open("r+b") as f:
        f.write(b"\0" * 16)
    salvage(path)
    assert_numbers_go_on(path)


def test_accounts_are_not_salvaged(data_dir):
    path = data_dir / "cache.sqlite3"
    build(path)
    with path.open("r+b") as f:
        f.write(b"\0" * 16)
    salvage(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
        assert conn.execute("SELECT bootstrap_done FROM sync_state").fetchall() == []


def test_the_damaged_file_is_untouched_until_the_salvage_is_accepted(
        data_dir, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(data_dir))
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    garble(path, [table_pages(path, "outbox")[0]])
    damaged = digest(path)
    for _ in range(2):
        with pytest.raises(CacheCorrupt):
            open_cache(path)
    count_waiting(path)
    scan_damaged(path)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["salvage"]) == 2
    assert "Nothing was changed" in capsys.readouterr().err
    assert digest(path) == damaged
    assert not list(data_dir.glob("*.damaged-*"))

    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "y")
    assert main(["salvage"]) == 0
    said = capsys.readouterr().out
    waiting = OPERATIONS - ACKNOWLEDGED - 1
    assert f"{waiting} requests waiting to be sent" in asked[0]
    assert f"Salvaged {waiting} requests waiting to be sent" in said
    [aside] = data_dir.glob("cache.sqlite3.damaged-*[0-9]")
    assert digest(aside) == damaged
    assert work_rows(path)["outbox"] == before["outbox"]


def test_salvage_without_asking_and_on_a_sound_cache(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(data_dir))
    path = data_dir / "cache.sqlite3"
    build(path)
    sound = digest(path)
    assert main(["salvage", "--yes"]) == 0
    assert "not damaged" in capsys.readouterr().out
    assert digest(path) == sound

    with path.open("r+b") as f:
        f.write(b"\0" * 16)
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked"))
    assert main(["salvage", "--yes"]) == 0
    assert "Salvaged 33 requests waiting to be sent and 7 already sent" in (
        capsys.readouterr().out)
    open_cache(path).close()  # a sound cache again


def test_a_file_with_nothing_left_to_read_is_moved_aside_for_a_new_cache(data_dir):
    path = data_dir / "cache.sqlite3"
    path.write_bytes(b"\x00garbage, not a database\x00" * 1000)
    with pytest.raises(CacheCorrupt) as err:
        open_cache(path)
    assert err.value.waiting is None
    assert "may still be inside" in err.value.reason.en
    assert "其中可能还有等待上传的业务" in err.value.reason.zh
    result = salvage(path)
    assert (result.waiting, result.acknowledged) == (0, 0)
    assert result.damaged.read_bytes() == b"\x00garbage, not a database\x00" * 1000
    open_cache(path).close()


def test_a_small_cache_with_its_whole_first_page_header_garbled_is_read(data_dir):
    path = data_dir / "cache.sqlite3"
    cache = open_cache(path)
    with cache.write() as s:
        save_community(s, COMMUNITY)
        s.flush()
        save_account(s, account())
    done = [record(cache, i) for i in range(3)]
    cache.close()
    with path.open("r+b") as f:
        f.write(bytes(range(100)))  # the page size among the garbage: it is guessed
    with pytest.raises(CacheCorrupt) as err:
        open_cache(path)
    assert err.value.waiting == 3
    result = salvage(path)
    assert result.waiting == 3
    assert {dict(r)["operation_id"] for r in work_rows(path)["outbox"]} == {
        op.operation_id for op in done}


FAKE_SHELL = '''#!PYTHON
"""SQLite's shell as far as salvage uses it: `.recover` prints the work tables of an intact
copy (a recovery that finds everything), then exits with FAKE_RECOVER_EXIT; given a database
and a script on its standard input, it runs the script."""
import os, sqlite3, sys

def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return f"X'{v.hex()}'" if isinstance(v, bytes) else repr(v)

if len(sys.argv) > 2 and sys.argv[2].startswith(".recover"):
    intact = sqlite3.connect(os.environ["FAKE_RECOVER_FROM"])
    for t in ("outbox", "receipts", "receipt_counters", "feedback", "tasks"):
        print(intact.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
              + ";")
        for row in intact.execute(f"SELECT * FROM {t}"):
            print(f"INSERT INTO {t} VALUES ({', '.join(map(literal, row))});")
    sys.exit(int(os.environ["FAKE_RECOVER_EXIT"]))
with sqlite3.connect(sys.argv[1]) as conn:
    conn.executescript(sys.stdin.read())
'''


def first_child(path, table):
    """The offset in the file of the pointer to the first page below `table`'s top page (an
    interior page), and that page."""
    root, interior = table_pages(path, table)
    assert interior
    page = path.read_bytes()[(root - 1) * PAGE:root * PAGE]
    cell = int.from_bytes(page[12:14], "big")
    return (root - 1) * PAGE + cell, int.from_bytes(page[cell:cell + 4], "big")


def first_leaf(path, table):
    """The first page below `table`'s top page: a leaf holding some of its rows."""
    _, leaf = first_child(path, table)
    assert path.read_bytes()[(leaf - 1) * PAGE] == 0x0D  # a table leaf, not one more level
    return leaf


def test_a_damaged_outbox_that_reads_without_an_error_is_not_taken_as_whole(data_dir):
    """The outbox's top page leads to another table's page instead of its first leaf: SQLite
    reads the outbox without an error (that page's row for an operation, the leaf's rows not
    at all), its own check does not pass it. The leaf's operations come back from the pages,
    and the row made up of the other table's is not taken for an operation."""
    path = data_dir / "cache.sqlite3"
    build(path)
    before = work_rows(path)
    pointer, leaf = first_child(path, "outbox")
    other, interior = table_pages(path, "receipt_counters")
    assert not interior and leaf != other
    with path.open("r+b") as f:
        f.seek(pointer)
        f.write(other.to_bytes(4, "big"))
    with sqlite3.connect(path) as conn:  # the precondition: no error, and rows missing
        assert len(conn.execute("SELECT rowid, * FROM outbox ORDER BY rowid").fetchall()) < (
            OPERATIONS)
    with pytest.raises(CacheCorrupt):
        open_cache(path)

    scan = scan_damaged(path)
    assert scan.methods[-1] == "pages"
    assert (scan.waiting, scan.acknowledged) == (OPERATIONS - ACKNOWLEDGED - 1, ACKNOWLEDGED + 1)
    assert scan.unreadable == []
    result = salvage(path, scan=scan)

    assert_salvaged_as_before(path, before, result)
    assert_numbers_go_on(path)


@pytest.mark.parametrize("shell_exit", [0, 1])
def test_sqlite_shell_recovery_is_used_only_when_it_succeeds(data_dir, tmp_path, monkeypatch,
                                                              shell_exit):
    path = data_dir / "cache.sqlite3"
    build(path)
    intact = tmp_path / "intact.sqlite3"
    intact.write_bytes(path.read_bytes())
    garble(path, [first_leaf(path, "outbox")])  # its operations: on no page any more
    shell = tmp_path / "bin" / "sqlite3"
    shell.parent.mkdir()
    shell.write_text(FAKE_SHELL.replace("PYTHON", sys.executable, 1))
    shell.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shell.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_RECOVER_FROM", str(intact))
    monkeypatch.setenv("FAKE_RECOVER_EXIT", str(shell_exit))

    scan = scan_damaged(path)

    assert "pages" in scan.methods  # the damaged leaf was noticed, however SQLite read it
    if shell_exit == 0:
        assert "recover" in scan.methods and scan.unreadable == []
        assert scan.waiting == OPERATIONS - ACKNOWLEDGED - 1
    else:  # a recovery that failed: not even what it printed before is used
        assert "recover" not in scan.methods and scan.unreadable
        assert scan.waiting < OPERATIONS - ACKNOWLEDGED - 1
