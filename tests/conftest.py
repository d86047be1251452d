import gc
import os
import shutil
import sys

# Qt must not look for a display: set before any Qt module is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from argon2 import PasswordHasher
from hypothesis import settings

from hallserver import security
from tests.support import PRINT_QUEUE, ROOT
from tests.support.server import empty_tables, postgres_engine

# As the desktop app does (hallclient/ui/background.py): the cycle collector never runs on its
# own, where it could free a test's window from a worker thread and crash the run; each test's
# garbage is collected on the main thread when it ends — the young generation after every
# test (what the test made), every generation every 100 tests (a full pass over the whole heap
# after each test made the suite twice as slow).
gc.disable()
_tests_run = [0]

# Property tests and the API fuzzing (Hypothesis, and schemathesis on it): the normal run draws
# the same examples every time, on every machine, with no example database, so a fresh clone
# passes or fails as CI did; --fuzz-hard draws new ones, FUZZ_HARD_FACTOR times as many
# (tests/support/fuzzing.py scales the counts the tests give).
FUZZ_HARD_FACTOR = 20
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz-hard", derandomize=False, database=None, print_blob=True,
                          max_examples=settings.get_profile("default").max_examples
                          * FUZZ_HARD_FACTOR)


def pytest_addoption(parser):
    parser.addoption("--fuzz-hard", action="store_true",
                     help="property tests and API fuzzing randomized, with "
                          f"{FUZZ_HARD_FACTOR} times as many examples")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # Before the test modules are imported (their settings take what they do not name from the
    # profile), and before Hypothesis's own options (--hypothesis-verbosity...) add to it.
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("fuzz-hard" if config.getoption("fuzz_hard") else "deterministic")


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread():
    yield
    _stop_the_apps_own_collection()
    _tests_run[0] += 1
    if _tests_run[0] % 100:
        gc.collect(0)
    else:
        gc.collect(2)
        # What survived is the suite's own (modules, session fixtures): kept out of later
        # full passes, which then look at what the last 100 tests left (each pass over the
        # whole heap took seconds by the end of the run).
        gc.freeze()


def _stop_the_apps_own_collection():
    """A test that ran the app in this process left its once-a-second full collection on the
    shared QApplication: here the suite collects, and a full pass over the suite's heap every
    second slowed every later test."""
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from hallclient.ui.background import GC_TIMER_NAME

    app = QApplication.instance()
    for timer in app.findChildren(QTimer, GC_TIMER_NAME) if app is not None else []:
        timer.stop()
        timer.setParent(None)


# A login with the deployed argon2 parameters costs tens of milliseconds of CPU, and the suite
# seeds staff and logs in thousands of times: in this process passwords are hashed and checked
# with argon2's cheapest parameters, but in a test marked real_password_hashing. Servers the
# tests start as processes hash as deployed.
_CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(security, "_ARGON2", _CHEAP_ARGON2)


@pytest.fixture(scope="session")
def _postgres():
    engine = postgres_engine()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated_sqlite_server(tmp_path_factory):
    """A SQLite server database as the migrations leave it, made once: a test's own is a copy
    (migrating a new file takes a tenth of a second, and hundreds of tests need one)."""
    from hallserver.db import SERVER_SCHEMA, make_engine

    path = tmp_path_factory.mktemp("migrated") / "server.sqlite3"
    engine = make_engine(f"sqlite+pysqlite:///{path}")
    SERVER_SCHEMA.upgrade(engine)
    engine.dispose()
    return path


def _sqlite_server_engine(request, directory):
    """A migrated, empty SQLite server database in `directory`, and its engine."""
    from hallserver.db import make_engine

    path = directory / "server.sqlite3"
    shutil.copyfile(request.getfixturevalue("_migrated_sqlite_server"), path)
    return make_engine(f"sqlite+pysqlite:///{path}")


def _migrated_server(request, directory):
    """A migrated, empty server database: a SQLite file, then the PostgreSQL test database."""
    if request.param == "sqlite":
        engine = _sqlite_server_engine(request, directory)
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("_postgres")
        empty_tables(engine)
        yield engine


_BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=_BOTH_DATABASES)
def server_engine(request, tmp_path):
    """A migrated, empty server database for one test, on each database."""
    yield from _migrated_server(request, tmp_path)


@pytest.fixture(scope="module", params=_BOTH_DATABASES)
def server_engine_once(request, tmp_path_factory):
    """The same for a whole module whose tests only read what its fixtures wrote."""
    yield from _migrated_server(request, tmp_path_factory.mktemp("server"))


@pytest.fixture
def server(request, tmp_path):
    """A seeded HallServer (SQLite) on a loopback port: 2 halls, 250 accounts each."""
    from hallserver.embedded import EmbeddedServer
    from hallserver.seed import seed

    engine = _sqlite_server_engine(request, tmp_path)
    seed(engine, accounts=500, halls=2)
    live = EmbeddedServer(engine)
    live.start()
    yield live
    live.stop()
    engine.dispose()


@pytest.fixture
def counters(tmp_path, server):
    """Makes logged-in counter terminals of the `server`."""
    from tests.support.counter import HALL, Counter

    made = []

    def make(terminal="T01", clerk="gz-th-01-c1", hall=HALL):
        c = Counter(tmp_path / f"{hall}-{terminal}", server.url, hall, terminal, clerk)
        c.login()
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def _queue_ready() -> bool:
    import shutil
    import subprocess

    return bool(shutil.which("lpstat")) and subprocess.run(
        ["lpstat", "-p", PRINT_QUEUE], capture_output=True).returncode == 0


@pytest.fixture
def cups_queue(qapp):
    """The CUPS test queue, brought up again if the scheduler has gone away since ./dev test
    started it; skipped where it cannot be had, except in CI, where it must be."""
    import subprocess

    if not _queue_ready():
        setup = subprocess.run([str(ROOT / "scripts" / "test-printer"), PRINT_QUEUE],
                               capture_output=True, text=True)
        if not _queue_ready():
            why = f"no CUPS queue {PRINT_QUEUE}: {setup.stderr.strip() or setup.stdout.strip()}"
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
    return PRINT_QUEUE


@pytest.fixture
def english(qapp):
    """The windows in English (the application starts in Chinese)."""
    from hallclient.ui.i18n import use_language

    use_language("en")


@pytest.fixture
def one_account_cache(tmp_path):
    """A cache holding the test account of tests/support/factories.py (and its community)."""
    from tests.support.counter import one_account_cache_at

    cache = one_account_cache_at(tmp_path / "cache.sqlite3")
    yield cache
    cache.close()
