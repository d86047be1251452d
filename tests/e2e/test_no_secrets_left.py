"""After a full session, nothing secret is left in plaintext, nothing personal in the logs.

The session, run once for the module, every Python logger at DEBUG into one file (uvicorn's
access log included, as `hallserver serve` writes it):

- the text demo (`hallclient --demo --text`): an embedded server, two terminals logging in,
  a bootstrap, requests taken offline, the outbox pushed, a conflict, the customers' SMS. Run
  in-process, so that its in-memory keyring can be read and its directory kept to be searched;
- an operator's session of the command line on a data directory of its own (what
  HALLCLIENT_DATA_DIR points to): `hallclient setup`, a login with a wrong password, a clerk's
  and a supervisor's login, `hallclient sync --once`.

Then searched: the log, what was printed, the settings, the caches, the audit trails, the SMS
outbox and the server's database, for the ID numbers and phones of the district's accounts,
the clerks' passwords (the wrong one too), every access and refresh token the server gave and
everything the keyring was given (terminal keys, refresh tokens, the offline verifiers).
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import keyring
import pytest
import uvicorn

import hallclient.demo
from hallclient.__main__ import main
from hallclient.auth.secrets import EphemeralKeyring
from hallclient.store.accounts import save_account
from hallclient.sync.api import ServerApi
from hallclient.sync.worker import Backoff, SyncWorker
from hallcore.domain.accounts import Community
from hallserver.db import SERVER_SCHEMA, make_engine
from hallserver.embedded import EmbeddedServer
from hallserver.security import token_hash
from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD, seed
from tests.support.factories import OTHER_ID, account

ROOT = Path(__file__).resolve().parents[2]
WRONG_PASSWORD = "not-" + DEMO_CLERK_PASSWORD  # typed once by mistake: a secret all the same
# Query parameters the API takes; a new one must not carry personal data (URLs are logged).
URL_PARAMETERS = {"after", "communities", "limit", "signature", "within_hours"}
CACHE_FILE = re.compile(r"^cache\.sqlite3(-wal|-shm|\..+\.bak)?$")  # with WAL, pre-migration copies
SERVER_DB_FILE = re.compile(r"^hallserver\.sqlite3")


class RecordingKeyring(EphemeralKeyring):
    """The session's keyring: in memory, and every value it was ever given is kept, so the
    search knows every secret, including those deleted or replaced since."""

    given: ClassVar[list[str]] = []

    def set_password(self, service: str, username: str, password: str) -> None:
        RecordingKeyring.given.append(password)
        super().set_password(service, username, password)


@dataclass
class Session:
    directory: Path  # the demo's directory and the operator's data directory, under it
    log: str
    console: str
    tokens: set[str] = field(default_factory=set)

    @property
    def data_dir(self) -> Path:
        return self.directory / "operator"

    def files(self) -> list[Path]:
        return sorted(p for p in self.directory.rglob("*") if p.is_file())


@contextmanager
def _everything_logged_to(path: Path) -> Iterator[None]:
    """Every logger at DEBUG into `path`; uvicorn as `hallserver serve` runs it (info level,
    access log on), but into the root logger rather than its own handlers."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error",
                                                       "uvicorn.access", "uvicorn.asgi")]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in [root, *uvicorn_loggers]]
    for lg in uvicorn_loggers:
        lg.propagate, lg.disabled = True, False
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def _verbose_uvicorn(config: Callable[..., uvicorn.Config]) -> Callable[..., uvicorn.Config]:
    def make(app: Any, **options: Any) -> uvicorn.Config:
        options.update(log_level="debug", access_log=True, log_config=None)
        return config(app, **options)
    return make


def _recording_tokens(method: Callable[..., Any], tokens: set[str]) -> Callable[..., Any]:
    def call(self: ServerApi, *args: Any, **kwargs: Any) -> Any:
        answer = method(self, *args, **kwargs)
        tokens.update((answer.access_token, answer.refresh_token))
        return answer
    return call


def _operator_session(directory: Path, mp: pytest.MonkeyPatch) -> None:
    """`hallclient setup`, logins and `sync --once` against a server of its own."""
    (directory / "operator-server").mkdir()
    engine = make_engine(
        f"sqlite+pysqlite:///{directory / 'operator-server' / 'hallserver.sqlite3'}")
    SERVER_SCHEMA.upgrade(engine)
    seed(engine, accounts=300, halls=1)
    server = EmbeddedServer(engine)
    server.start()
    data = directory / "operator"
    mp.setenv("HALLCLIENT_DATA_DIR", str(data))
    operator_keyring = RecordingKeyring()
    mp.setattr(keyring, "get_keyring", lambda: operator_keyring)  # the OS keyring, here

    def run(*argv: str, stdin: str = "") -> int:
        mp.setattr(sys, "stdin", io.StringIO(stdin))
        return main(list(argv))

    try:
        assert run("setup", "--server", server.url, "--hall", "GZ-TH-01",
                   "--terminal", "T09") == 0
        assert run("login", "--clerk", "gz-th-01-c1", "--password-stdin",
                   stdin=WRONG_PASSWORD + "\n") == 3
        # The new terminal waits for approval: a supervisor's login here gives it.
        assert run("login", "--clerk", "gz-th-01-s1", "--password-stdin",
                   stdin=DEMO_SUPERVISOR_PASSWORD + "\n") == 0
        assert run("login", "--clerk", "gz-th-01-c1", "--password-stdin",
                   stdin=DEMO_CLERK_PASSWORD + "\n") == 0
        assert run("sync", "--once") == 0
        assert run("login", "--clerk", "gz-th-01-s1", "--password-stdin",
                   stdin=DEMO_SUPERVISOR_PASSWORD + "\n") == 0
        assert run("sync", "--once") == 0
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Session:
    directory = tmp_path_factory.mktemp("session")
    log_file = directory.parent / f"{directory.name}.log"  # outside: every file there is searched
    tokens: set[str] = set()
    console = io.StringIO()
    RecordingKeyring.given.clear()

    @contextmanager
    def kept_directory(**_options: Any) -> Iterator[str]:
        yield str(directory)  # the demo's temporary directory, kept to be searched

    with pytest.MonkeyPatch.context() as mp, _everything_logged_to(log_file), \
            redirect_stdout(console), redirect_stderr(console):
        mp.setattr(hallclient.demo, "EphemeralKeyring", RecordingKeyring)
        mp.setattr(hallclient.demo, "tempfile",
                   SimpleNamespace(TemporaryDirectory=kept_directory))
        mp.setattr(uvicorn, "Config", _verbose_uvicorn(uvicorn.Config))
        mp.setattr(ServerApi, "login", _recording_tokens(ServerApi.login, tokens))
        mp.setattr(ServerApi, "refresh", _recording_tokens(ServerApi.refresh, tokens))
        assert main(["--demo", "--text"]) == 0
        _operator_session(directory, mp)
    return Session(directory, log_file.read_text(encoding="utf-8"), console.getvalue(), tokens)


# --- what is searched for ------------------------------------------------------------------

def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return conn.execute(query).fetchall()


def _caches(session: Session) -> list[Path]:
    return [p for p in session.files() if p.name == "cache.sqlite3"]


@dataclass(frozen=True)
class Personal:
    ids: frozenset[str]
    phones: frozenset[str]
    names_and_addresses: frozenset[str]

    def numbers(self) -> set[str]:
        return set(self.ids | self.phones)

    def everything(self) -> set[str]:
        return self.numbers() | self.names_and_addresses


@pytest.fixture(scope="module")
def personal(session) -> Personal:
    """The customers of the district the terminals bootstrapped, and what the requests sent."""
    ids, phones, words = set(), set(), set()
    for cache in _caches(session):
        for id_number, phone, name, supply, mailing in _rows(
                cache, "SELECT id_number, phone, holder_name, supply_address, mailing_address "
                       "FROM accounts"):
            ids.add(id_number)
            phones.add(phone)
            words.update((name, supply, mailing))
        phones.update(p for (p,) in _rows(cache, "SELECT manager_phone FROM communities"))
        for (payload,) in _rows(cache, "SELECT payload FROM outbox"):
            for key, value in json.loads(payload).items():
                if "id_number" in key:
                    ids.add(value)
                elif "phone" in key:
                    phones.add(value)
                elif "name" in key or "address" in key:
                    words.add(value)
    personal = Personal(*(frozenset(v for v in s if isinstance(v, str) and len(v) >= 2)
                          for s in (ids, phones, words)))
    assert len(personal.ids) > 500 and len(personal.phones) > 500  # the district, bootstrapped
    assert "13922223333" in personal.phones  # the demo's offline contact change
    return personal


@pytest.fixture(scope="module")
def secret_values(session) -> set[str]:
    found = {DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD, WRONG_PASSWORD, *session.tokens}
    for value in RecordingKeyring.given:
        try:
            record = json.loads(value)
        except ValueError:
            record = None
        if isinstance(record, dict):
            # an offline verifier (its salt and scrypt hash), a sealed approval key (its salt,
            # nonce and sealed seed; its public half is public)
            found.update(v for k, v in record.items() if k != "public"
                         and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{16,}", v))
        else:
            found.add(value)
    assert len(session.tokens) >= 8  # logins and refreshes of three terminals, kept apart
    return found


def _found(needles: Iterable[str], text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        return sorted(n for n in needles if n.encode() in text)
    return sorted(n for n in needles if n in text)


# --- the logs and the console --------------------------------------------------------------

def test_the_session_was_logged_at_debug_by_client_and_server(session):
    loggers = {line.split(" ", 1)[0] for line in session.log.splitlines()}
    assert {"uvicorn.access", "httpx", "httpcore.http11"} <= loggers
    assert '"POST /api/v1/login HTTP/1.1" 401' in session.log  # the wrong password
    assert '"POST /api/v1/push HTTP/1.1" 200' in session.log


def test_the_log_holds_no_personal_data_and_no_secret(session, personal, secret_values):
    assert _found(personal.everything(), session.log) == []
    assert _found(secret_values, session.log) == []


def test_what_was_printed_holds_no_full_id_or_phone_and_no_secret(session, personal,
                                                                  secret_values):
    # The demo shows a customer's name and address, as the counter window does; IDs and
    # phones are masked there, and the command line says who logged in, never with what.
    assert "logged in as" in session.console
    assert _found(personal.numbers(), session.console) == []
    assert _found(secret_values, session.console) == []


def test_urls_carry_no_personal_data(session, personal):
    urls = re.findall(r'"[A-Z]+ (\S+) HTTP/1\.1"', session.log)  # uvicorn's access log
    urls += re.findall(r"HTTP Request: [A-Z]+ (\S+) ", session.log)  # httpx
    assert any("?" in url for url in urls)
    for url in urls:
        assert set(parse_qs(urlsplit(url).query)) <= URL_PARAMETERS, url
        assert _found(personal.numbers(), url) == [], url


# --- files left on disk --------------------------------------------------------------------

def test_settings_hold_no_secret_and_no_personal_data(session, personal, secret_values):
    settings = (session.data_dir / "settings.json").read_text(encoding="utf-8")
    assert '"terminal_id": "T09"' in settings
    assert _found(secret_values, settings) == []
    assert _found(personal.numbers(), settings) == []


def test_caches_hold_customers_but_no_secret(session, personal, secret_values):
    # The cache is the customer database: ID numbers and phones belong there, secrets do not.
    files = [p for p in session.files() if CACHE_FILE.match(p.name)]
    assert len(_caches(session)) == 3  # demo T01, T02 and the operator's T09
    for path in files:
        content = path.read_bytes()
        assert _found(secret_values, content) == [], path
    assert _found(personal.ids, b"".join(p.read_bytes() for p in files))  # the search sees


def test_audit_trails_hold_no_personal_data_and_no_secret(session, personal, secret_values):
    entries = []
    for cache in _caches(session):
        entries += _rows(cache, "SELECT clerk, action, subject, detail FROM audit")
    for server_db in session.directory.rglob("hallserver.sqlite3"):
        entries += _rows(server_db, "SELECT actor, action, subject, detail FROM audit")
    actions = {entry[1] for entry in entries}
    assert len(actions) >= 3, actions  # requests, logins, a refused login at least
    # `detail` is JSON as stored, non-ASCII escaped: read back, so that names would show.
    text = "\n".join(f"{who} {action} {subject} {json.loads(detail)!r}"
                     for who, action, subject, detail in entries)
    assert _found(personal.everything(), text) == []
    assert _found(secret_values, text) == []


def test_the_sms_outbox_holds_no_secret(session, personal, secret_values):
    # sms.log is the log-file SMS gateway's outbox, not a log: the messages it "sends" go to
    # the customers' phones, so it carries phones by design. Secrets never.
    outbox = (session.directory / "sms.log").read_bytes()
    assert _found(personal.phones, outbox)
    assert _found(secret_values, outbox) == []


def test_the_server_keeps_no_secret_of_a_terminal(session, secret_values):
    # Tokens are stored as their SHA-256, passwords as argon2 hashes, and of the terminals'
    # and supervisors' Ed25519 keys only the public halves: the database can forge nothing.
    databases = [p for p in session.files() if SERVER_DB_FILE.match(p.name)]
    content = b"".join(p.read_bytes() for p in databases)
    assert len(databases) >= 2  # the demo's server and the operator's
    seeds = {v for v in RecordingKeyring.given if re.fullmatch(r"[0-9a-f]{64}", v)}
    assert seeds  # the terminals' private keys were among what the keyring was given
    assert _found(secret_values, content) == []
    assert _found({token_hash(t) for t in session.tokens}, content)  # the search sees them


def test_no_other_file_of_the_session_holds_personal_data_or_secrets(session, personal,
                                                                     secret_values):
    others = [p for p in session.files()
              if not (CACHE_FILE.match(p.name) or SERVER_DB_FILE.match(p.name)
                      or p.name in ("sms.log", "settings.json"))]
    assert session.data_dir / "logs" / "hallclient.log" in others  # the operator's log file
    for path in others:  # lock files, log files; whatever a later version leaves behind
        content = path.read_bytes()
        assert _found(personal.everything(), content) == [], path
        assert _found(secret_values, content) == [], path


# --- the repository ------------------------------------------------------------------------

# A test fixture that must hold a key or token goes under tests/fixtures/, which is skipped.
SKIPPED = ("tests/fixtures/",)
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
LONG_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
TOKEN_LIKE = re.compile(r"(?<![\w+/=-])[\w+/-]{32,}={0,2}(?![\w+/=-])")
PASSWORD_IN_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@")
SECRET_LITERAL = re.compile(
    r"""(?i)\b(\w*(?:password|passwd|secret|token)\w*)["']?\s*[:=]\s*["']([^"'\s]{6,})["']""")
DOCUMENTED = {DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD}


def _names_a_file(word: str) -> bool:
    """A path of the checkout (hallclient/resources/i18n/hallclient_zh_CN.ts), not a token."""
    return "/" in word and any(ROOT.glob(f"{word.strip('/')}*"))


def _random_looking(word: str) -> bool:
    return all(sum(test(c) for c in word) >= 2 for test in (str.isdigit, str.isupper,
                                                              str.islower))


def leaks_in(path: str, text: str) -> list[str]:
    """What in a file of the repository looks like a key, a token or a password."""
    found = [m.group() for m in PRIVATE_KEY.finditer(text)]
    found += [m.group() for m in LONG_HEX.finditer(text)]
    found += [m.group() for m in TOKEN_LIKE.finditer(text)
              if _random_looking(m.group()) and not _names_a_file(m.group())]
    found += [m.group() for m in PASSWORD_IN_URL.finditer(text)]
    if not path.startswith("tests/"):  # tests try wrong passwords and dead tokens on purpose
        found += [f"{name} = {value}" for name, value in SECRET_LITERAL.findall(text)
                  if value not in DOCUMENTED and value.lower() != name.lower()]
    return found


def test_the_leak_search_finds_keys_tokens_and_passwords():
    pem = "-----BEGIN " + "PRIVATE KEY-----"
    for leak in (pem, "-----BEGIN EC PRIVATE" + " KEY-----", secrets.token_hex(16),
                 "Bearer " + secrets.token_urlsafe(32) + "Aa00", "url = 'postgresql://app:"
                 "pw@db/hall'", 'API_SECRET = "' + secrets.token_hex(4) + '"'):
        assert leaks_in("hallserver/settings.py", leak), leak
    clean = (f'DEMO_CLERK_PASSWORD = "{DEMO_CLERK_PASSWORD}"\nREFRESH_TOKEN = "refresh_token"\n'
             "def test_transfer_offline_is_pushed_once_and_never_twice_again(): ...\n"
             "postgresql+psycopg://postgres@127.0.0.1:5432/test\n")
    assert leaks_in("hallserver/settings.py", clean) == []


def test_the_repository_holds_no_key_token_or_password():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    leaks = {}
    for name in filter(None, listed):
        path = ROOT / name
        if name.startswith(SKIPPED) or not path.is_file():
            continue
        content = path.read_bytes()
        if b"\0" in content[:8192]:
            continue  # a font, compiled translations
        if found := leaks_in(name, content.decode("utf-8", errors="replace")):
            leaks[name] = found
    assert len(listed) > 100
    assert leaks == {}


def test_a_failed_sync_round_logs_where_but_no_customer_data(one_account_cache, caplog):
    # Storing an account whose community the cache does not hold: a database error, and
    # SQLAlchemy's message carries the statement's parameters (the customer's ID, phone).
    stranger = account(number="1000000999", id_number=OTHER_ID, phone="13700001111",
                       community=Community("GZ-TH-C9999", "无名小区", 10, "赵经理", "13800000000"))

    class FailingRound:
        cache = one_account_cache

        def sync_once(self, on_bootstrap=None):
            with one_account_cache.write() as session:
                save_account(session, stranger)

    worker = SyncWorker(FailingRound(), backoff=Backoff(base=0.01, cap=0.01))
    with caplog.at_level(logging.DEBUG):
        worker.run_round()
    assert OTHER_ID not in caplog.text
    assert "13700001111" not in caplog.text
    assert "sync round failed: IntegrityError" in caplog.text
    assert "in sync_once" in caplog.text  # where it happened, for whoever reads the log
