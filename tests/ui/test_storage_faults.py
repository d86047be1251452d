"""A full disk and a read-only cache: a clear message, nothing lost or half-written, and the
same request succeeds once space returns.

The disk is a real one: a small tmpfs each test mounts for itself (root only; skipped
elsewhere, failed in CI), filled to its last page by a filler file and freed by removing it.
"""

import errno
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import load_account
from hallclient.store.audit import verify_cache_audit
from hallclient.store.cache import (
    CacheFull,
    CacheReadOnly,
    head_revision,
    make_engine,
    migrate,
    open_cache,
)
from hallclient.store.lock import CacheLock
from hallclient.store.models import AccountRow, Base, OutboxRow, SyncStateRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallclient.ui.app import run_app
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallcore.domain.accounts import AccountStatus
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallserver.models import AccountRow as ServerAccount
from hallserver.models import OperationRow
from tests.support.counter import HALL, Counter, active_accounts, holder, one_account_cache_at
from tests.support.factories import TERMINAL_KEY, account, holder_presents

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NUMBER = account().number


class SmallDisk:
    """A tmpfs of the test's own: filled to its last page, freed, remounted read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def mount(self, size: str) -> subprocess.CompletedProcess:
        self.path.mkdir()
        return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                               "tmpfs", str(self.path)], capture_output=True, text=True)

    def fill(self, *caches, leave: int = 0) -> None:
        """No free page left (or `leave` bytes). The caches' WAL files are cut to nothing
        first: a WAL reused from its start after a checkpoint would take a few more
        transactions without asking the disk for a page."""
        for cache in caches:
            with cache.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 65536)  # the last write is short, the next one fails
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        if leave:
            os.truncate(self.filler, self.filler.stat().st_size - leave)
        assert os.statvfs(self.path).f_bavail * os.statvfs(self.path).f_frsize <= leave

    def free(self) -> None:
        self.filler.unlink()

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)


def _unavailable(why: str):
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def disk(tmp_path):
    """A 16 MB disk. A file still open on it at the end fails the test: the code under test
    left a connection behind."""
    if os.geteuid() != 0:
        _unavailable("mounting a small tmpfs needs root")
    d = SmallDisk(tmp_path / "disk")
    mounted = d.mount("16m")
    if mounted.returncode != 0:
        _unavailable(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    yield d
    if subprocess.run(["umount", str(d.path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "--lazy", str(d.path)], check=True)
        pytest.fail(f"a file on {d.path} was still open at the end of the test")


def record(cache, kind):
    return record_operation(cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind(kind),
                            account_number=NUMBER, raw_payload=holder_presents(),
                            now=datetime.now(UTC))


def snapshot(cache):
    """Every row of every table of the cache."""
    with cache.read() as s:
        return {t.name: s.execute(select(t).order_by(*t.primary_key.columns)).all()
                for t in Base.metadata.sorted_tables}


def sound(cache):
    with cache.read() as s:
        return (s.scalar(text("PRAGMA integrity_check")) == "ok"
                and verify_cache_audit(s) is None)


def contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_request_on_a_full_disk_is_refused_whole_and_succeeds_once_space_returns(disk):
    cache = one_account_cache_at(disk.path / "cache.sqlite3")
    try:
        record(cache, "suspend")
        before = snapshot(cache)
        disk.fill(cache)
        with pytest.raises(CacheFull) as refused:
            record(cache, "resume")
        assert str(cache.path) in refused.value.reason.en
        assert "disk" in refused.value.reason.en and "磁盘已满" in refused.value.reason.zh
        # The account's change, the outbox entry, the receipt and its number, the audit entry:
        # one transaction, none of it written.
        assert snapshot(cache) == before
        with pytest.raises(CacheFull):
            record(cache, "resume")  # still full: still nothing
        disk.free()
        done = record(cache, "resume")
        assert done.receipt_no.endswith("-0002")  # no number was used up by the failures
        with cache.read() as s:
            assert load_account(s, NUMBER).status is AccountStatus.ACTIVE
            assert len(s.scalars(select(OutboxRow)).all()) == 2
        assert sound(cache)
    finally:
        cache.close()


def test_the_clerk_reads_what_to_do_and_submits_again_once_space_returns(qtbot, disk):
    cache = one_account_cache_at(disk.path / "cache.sqlite3")
    previews = []
    window = CounterWindow(CounterServices(
        cache, TERMINAL, "gz-th-01-c1", HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")),
        show_preview=previews.append, ask_rating=lambda _window: None), lang="en")
    qtbot.addWidget(window)
    try:
        window.account = account()
        window.open_form(BusinessKind.SUSPEND)
        view = window.form_views[BusinessKind.SUSPEND]
        view.fill({"applicant_id_number": account().id_number})
        disk.fill(cache)
        with qtbot.waitSignal(window.request_finished):
            view.submit()
        assert window.message.text() == CacheFull(cache.path).reason.en
        assert view.values()["applicant_id_number"] == account().id_number  # kept for later
        assert previews == []
        disk.free()
        with qtbot.waitSignal(window.request_finished):
            view.submit()
        assert "Accepted, receipt GZ-TH-01-T01-" in window.message.text()
        qtbot.waitUntil(lambda: len(previews) == 1)
    finally:
        window.close()
        cache.close()


def test_sync_on_a_full_disk_keeps_the_outbox_and_cursor_and_lands_each_operation_once(
        disk, tmp_path, server):
    ours = Counter(disk.path / "T01", server.url, HALL, "T01", "gz-th-01-c1")
    other = Counter(tmp_path / "T02", server.url, HALL, "T02", "gz-th-01-c1")
    try:
        for c in (ours, other):
            c.login()
            c.engine.sync_once()
        accounts = active_accounts(ours, 6)
        for a in accounts[:3]:
            ours.record("suspend", a.number, holder(a))
        for a in accounts[3:]:  # changes ours has to pull
            other.record("suspend", a.number, holder(a))
        other.engine.sync_once()
        before = snapshot(ours.cache)
        disk.fill(ours.cache)

        # The server applies the pushed operations; their answers cannot be written here.
        with pytest.raises(CacheFull):
            ours.engine.sync_once()
        with pytest.raises(CacheFull):
            ours.engine.pull()  # a page of changes, and the cursor, are one transaction
        assert snapshot(ours.cache) == before
        with ours.cache.read() as s:
            assert {op.state for op in s.scalars(select(OutboxRow))} == {"pending"}

        disk.free()
        summary = ours.engine.sync_once()
        assert (summary.applied, summary.pending) == (3, 0)
        assert sound(ours.cache)
        with ours.cache.read() as s:
            assert {op.state for op in s.scalars(select(OutboxRow))} == {"applied"}
            ours_ids = set(s.scalars(select(OutboxRow.operation_id)))
            cached = {r.number: (r.version, r.status) for r in s.scalars(select(AccountRow))}
            assert s.get(SyncStateRow, 1).pull_cursor > before["sync_state"][0].pull_cursor
    finally:
        ours.close()
        other.close()
    with Session(server.engine) as s:
        stored = s.scalars(select(OperationRow.operation_id)).all()
        on_server = {r.number: (r.version, r.status) for r in s.scalars(
            select(ServerAccount).where(ServerAccount.district == "GZ-TH"))}
    assert len(stored) == 6 and ours_ids <= set(stored)
    for a in accounts:
        assert on_server[a.number] == (a.version + 1, "suspended")
    assert cached == on_server


@pytest.mark.parametrize("cache_there", [False, True], ids=["first start", "cache there"])
def test_starting_on_a_full_disk_says_so_and_starts_once_space_returns(disk, cache_there):
    path = disk.path / "cache.sqlite3"
    if cache_there:
        one_account_cache_at(path).close()
    disk.fill()
    files = contents(disk.path)
    with pytest.raises(CacheFull) as refused:
        open_cache(path)  # not "damaged": moving the file aside would strand its outbox
    assert str(path) in str(refused.value)
    if cache_there:
        assert contents(disk.path)[path.name] == files[path.name]
    disk.free()
    cache = open_cache(path)
    try:
        with cache.read() as s:
            assert (load_account(s, NUMBER) is not None) == cache_there
        assert sound(cache)
    finally:
        cache.close()


def test_an_upgrade_on_a_nearly_full_disk_leaves_the_old_cache_and_no_half_backup(disk):
    path = disk.path / "cache.sqlite3"
    engine = make_engine(path)
    migrate(engine, "0006")
    engine.dispose()
    old = path.read_bytes()
    disk.fill(leave=64 * 1024)  # room for the WAL index, not for the backup copy
    with pytest.raises(CacheFull):
        open_cache(path)
    assert path.read_bytes() == old
    assert not list(disk.path.glob("*.bak"))
    disk.free()
    cache = open_cache(path)
    try:
        assert cache.backup is not None and cache.backup.exists()
        with cache.read() as s:
            assert s.scalar(text("select version_num from alembic_version")) == head_revision()
    finally:
        cache.close()


# The client is killed after recording: its last transaction lives in the WAL beside the file.
KILLED_CLIENT = """
import os, signal, sys
from pathlib import Path
from hallclient.store.cache import open_cache
from tests.ui.test_storage_faults import record
record(open_cache(Path(sys.argv[1])), "suspend")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("left", ["no cache", "closed", "killed"])
def test_a_read_only_cache_is_named_untouched_and_opens_once_writable(disk, left):
    path = disk.path / "cache.sqlite3"
    if left != "no cache":
        one_account_cache_at(path).close()
    if left == "killed":
        killed = subprocess.run([sys.executable, "-c", KILLED_CLIENT, str(path)], cwd=ROOT,
                                capture_output=True, text=True)
        assert killed.returncode == -9, killed.stderr
        assert (disk.path / "cache.sqlite3-wal").stat().st_size > 0
    files = contents(disk.path)
    disk.remount("ro")
    try:
        with pytest.raises(CacheReadOnly) as refused:
            open_cache(path)
        assert str(path) in refused.value.reason.en and "read-only" in refused.value.reason.en
        assert "只读" in refused.value.reason.zh
        assert contents(disk.path) == files
    finally:
        disk.remount("rw")
    cache = open_cache(path)
    try:
        with cache.read() as s:
            pending = len(s.scalars(select(OutboxRow)).all())
        assert pending == (left == "killed")  # the killed client's request is still there
        assert sound(cache)
    finally:
        cache.close()


def test_the_app_on_a_read_only_data_directory_says_so_instead_of_a_traceback(
        qapp, disk, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(disk.path))
    path = disk.path / "cache.sqlite3"
    with CacheLock(path):
        one_account_cache_at(path).close()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, message: shown.append(
        message))
    disk.remount("ro")
    try:
        assert run_app(lang="en") == 2
    finally:
        disk.remount("rw")
    assert shown == [CacheReadOnly(path).reason.en]


def test_a_rating_on_a_full_disk_is_said_not_raised(qtbot, disk):
    from hallcore.wire import Rating

    cache = one_account_cache_at(disk.path / "cache.sqlite3")
    ratings = []
    window = CounterWindow(CounterServices(
        cache, TERMINAL, "gz-th-01-c1", HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe")),
        show_preview=lambda _preview: None, ask_rating=ratings.append), lang="en")
    qtbot.addWidget(window)
    try:
        window.account = account()
        window.open_form(BusinessKind.SUSPEND)
        window.form_views[BusinessKind.SUSPEND].fill({"applicant_id_number": account().id_number})
        with qtbot.waitSignal(window.request_finished):
            window.form_views[BusinessKind.SUSPEND].submit()
        assert "Accepted" in window.message.text()
        qtbot.waitUntil(lambda: not window.rate_button.isHidden())  # after the receipt
        window.ask_customer_to_rate()
        disk.fill(cache)
        ratings[0].buttons[Rating.SATISFIED].click()  # a slot: an exception would be lost
        assert window.message.text() == CacheFull(cache.path).reason.en
    finally:
        disk.free()
        window.close()
        cache.close()
