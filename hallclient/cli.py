"""Operator commands of the client: set the terminal up, log in, sync once."""

from __future__ import annotations

import getpass
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hallclient.auth.login import PasswordChangeRequired, online_login
from hallclient.auth.secrets import SecretStore, SecretStoreUnavailable
from hallclient.config import (
    Settings,
    SettingsError,
    cache_path,
    load_settings,
)
from hallclient.receipts.content import HallInfo
from hallclient.receipts.render import Layout, ReceiptLang, render_receipts
from hallclient.receipts.testpage import sample_receipts
from hallclient.store.cache import Cache, CacheError, open_cache
from hallclient.store.lock import CacheInUse, CacheLock
from hallclient.sync.api import (
    ServerApi,
    ServerRefused,
    ServerUnreachable,
    ServerUntrusted,
    trust,
)
from hallclient.sync.engine import Credentials, LoginNeeded, SyncEngine
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.text import Text
from hallcore.wire import TokenResponse

EXIT_OFFLINE = 1
EXIT_SETUP = 2
EXIT_LOGIN = 3


class CommandFailed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc


def _configured() -> Settings:
    settings = _settings()
    if not (settings.hall_id and settings.terminal_id and settings.installation_id):
        raise CommandFailed("This terminal is not set up yet: run `hallclient setup --server "
                            "URL --hall HALL --terminal ID` first.", EXIT_SETUP)
    return settings


def _secrets(settings: Settings) -> SecretStore:
    try:
        return SecretStore(settings.hall_id, settings.terminal_id)
    except SecretStoreUnavailable as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc


@contextmanager
def _locked_cache() -> Iterator[Cache]:
    path = cache_path()
    try:
        with CacheLock(path):
            cache = open_cache(path)
            try:
                yield cache
            finally:
                cache.close()
    except (CacheInUse, CacheError) as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc


def _api(settings: Settings) -> ServerApi:
    try:
        return ServerApi(settings.server_url, ca_file=settings.ca_file)
    except ServerUntrusted as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc


def _read_password(who: str, password_stdin: bool) -> str:
    return sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass(
        f"Password for {who}: ")


def _new_password(clerk: str, password_stdin: bool) -> str:
    """A one-time password's replacement: asked twice (two more lines with --password-stdin)."""
    print(f"{clerk} logged in with a one-time password: choose a new one (at least 8 "
          "characters, letters and digits).", file=sys.stderr)
    new = _read_password(f"{clerk} (new)", password_stdin)
    if new != _read_password(f"{clerk} (new, again)", password_stdin):
        raise CommandFailed("The two new passwords differ; nothing was changed.", EXIT_LOGIN)
    return new


def _online_login(settings: Settings, clerk: str, password_stdin: bool, *,
                  refused_then: str = "") -> TokenResponse:
    """`clerk`'s online login with these settings; a refusal is a CommandFailed whose message
    ends with `refused_then`."""
    store = _secrets(settings)  # no keyring: said before the password is asked
    password = _read_password(clerk, password_stdin)
    api = _api(settings)
    try:
        try:
            return online_login(api, store, settings, clerk, password)
        except PasswordChangeRequired:
            return online_login(api, store, settings, clerk, password,
                                _new_password(clerk, password_stdin))
    except ServerUntrusted as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc
    except ServerUnreachable as exc:
        raise CommandFailed(f"The server cannot be reached ({exc}){refused_then}.",
                            EXIT_OFFLINE) from exc
    except ServerRefused as exc:
        raise CommandFailed(f"Login refused: {exc}{refused_then}", EXIT_LOGIN) from exc
    finally:
        api.close()


def setup(server: str, hall: str, terminal: str, ca_file: str = "",
          supervisor: str | None = None, password_stdin: bool = False) -> str:
    """Save the terminal's settings; without a CA file, the system's trust store is used.

    Under the login window's rule (hallclient/auth/terminal_move.py): the first setup needs
    no supervisor (the terminal's first login then waits for a supervisor's approval); a
    change of the server, hall or terminal of a set-up terminal moves it, which needs
    `supervisor`'s online login at the new settings (it approves the terminal there), is
    refused while operations made here wait to be sent, and is audited in the cache. With
    `supervisor` at the first setup, their login approves the terminal at once."""
    from hallclient.auth.login import ClerkSession
    from hallclient.auth.terminal_move import (
        MoveRefused,
        OperationsWaiting,
        SupervisorNeeded,
        change_terminal_settings,
    )
    from hallclient.store.reassign import changed_fields

    current = _settings()
    if ca_file:
        ca_file = str(Path(ca_file).resolve())
        try:
            trust(ca_file)
        except ServerUntrusted as exc:
            raise CommandFailed(str(exc), EXIT_SETUP) from exc
    asked = replace(current, server_url=server, ca_file=ca_file, hall_id=hall,
                    terminal_id=terminal,
                    installation_id=current.installation_id or uuid.uuid4().hex)
    changed = changed_fields(current, asked)

    def supervisor_login() -> ClerkSession:
        assert supervisor is not None
        answer = _online_login(asked, supervisor, password_stdin,
                               refused_then="; nothing was changed")
        return ClerkSession(answer.clerk, answer.clerk_name, answer.role.value, online=True)

    log_in = supervisor_login if supervisor else None
    try:
        if changed:
            with _locked_cache() as cache:
                session = change_terminal_settings(cache, current, asked, log_in,
                                                   datetime.now(UTC))
        else:
            session = change_terminal_settings(None, current, asked, log_in, datetime.now(UTC))
    except SupervisorNeeded as exc:
        if supervisor is not None:  # who logged in is not a supervisor
            raise CommandFailed(f"{exc.reason}. Nothing was changed.", EXIT_LOGIN) from exc
        raise CommandFailed(
            f"Changing the {_names(changed)} of this terminal moves it: a supervisor of hall "
            f"{hall} logs in at the new settings to do it (--supervisor ID; the password is "
            "asked, or read with --password-stdin). Nothing was changed.", EXIT_SETUP) from exc
    except OperationsWaiting as exc:
        raise CommandFailed(f"{exc.reason}. Run `hallclient sync --once` first, then set the "
                            "terminal up again. Nothing was changed.", EXIT_SETUP) from exc
    except MoveRefused as exc:
        raise CommandFailed(f"{exc.reason}. Nothing was changed.", EXIT_SETUP) from exc
    trusted = f"CA file {ca_file}" if ca_file else "the system's trusted CAs"
    saved = (f"terminal {terminal} of hall {hall}, server {server} (certificate checked against "
             f"{trusted})")
    if changed:
        assert session is not None
        return (f"moved ({_moves(current, asked, changed)}) by supervisor {session.clerk}, "
                f"recorded in this terminal's audit trail: {saved}")
    if session is not None:
        return f"{saved}; approved by supervisor {session.clerk}'s login"
    if not (current.hall_id and current.terminal_id):
        return (f"{saved}. Its first login waits for a supervisor's approval: a supervisor of "
                f"hall {hall} logs in here once (`hallclient login --clerk ID`), or an "
                f"operator runs `hallserver terminals approve {hall} {terminal}`")
    return saved


_FIELD_NAMES = {"server_url": "server", "hall_id": "hall", "terminal_id": "terminal id"}


def _names(changed: tuple[str, ...]) -> str:
    return ", ".join(_FIELD_NAMES[f] for f in changed)


def _moves(saved: Settings, asked: Settings, changed: tuple[str, ...]) -> str:
    return ", ".join(f"{_FIELD_NAMES[f]} {getattr(saved, f)} → {getattr(asked, f)}"
                     for f in changed)


def login(clerk: str, password_stdin: bool) -> str:
    answer = _online_login(_configured(), clerk, password_stdin)
    return f"logged in as {answer.clerk_name} ({answer.clerk}, {answer.role}) at {answer.hall_id}"


def sync_once() -> str:
    settings = _configured()
    store = _secrets(settings)
    api = _api(settings)
    try:
        with _locked_cache() as cache:
            # The process ends with the round: the search index is built within it.
            engine = SyncEngine(cache, Credentials(api, store), search_index_in_background=False)
            try:
                return str(engine.sync_once())
            except ServerUnreachable as exc:
                raise CommandFailed(f"The server cannot be reached ({exc}); what was not sent "
                                    "waits in the outbox.", EXIT_OFFLINE) from exc
            except LoginNeeded as exc:
                raise CommandFailed(f"{exc}: run `hallclient login --clerk ID`.",
                                    EXIT_LOGIN) from exc
    finally:
        api.close()


def print_test(layout: Layout, lang: ReceiptLang, out: str | None,
               printer: str | None) -> str:
    """A sample receipt of every business type, written to `out` or printed."""
    settings = _settings()
    hall = HallInfo(settings.hall_id or "DEMO", Text("供电营业厅", "Power Supply Service Hall"))
    started = time.perf_counter()
    pdf = render_receipts(sample_receipts(hall, settings.terminal_id or "T00",
                                          datetime.now(UTC)), layout=layout, lang=lang)
    seconds = time.perf_counter() - started
    what = f"{len(BUSINESS_TYPES)} sample receipts, {len(pdf) // 1024} KB, {seconds:.2f} s"
    if out is not None:
        try:
            Path(out).write_bytes(pdf)
        except OSError as exc:
            raise CommandFailed(f"{out} cannot be written ({exc.strerror}).", EXIT_SETUP) from exc
        return f"{out}: {what}"
    from hallclient.ui.printing import PrintFailed, print_pdf

    try:
        used = print_pdf(pdf, title="HallClient print test", printer_name=printer)
    except PrintFailed as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc
    return f"sent to {used}: {what}"


def salvage(assume_yes: bool) -> str:
    """`hallclient salvage`: what a damaged cache still holds of the terminal's work, and,
    with `assume_yes` or a yes to the question, a new cache with it in place of the damaged
    one (moved aside, never deleted). A cache that is gone gets back what the outbox backups
    hold."""
    import sqlite3

    from hallclient.store import outbox_backup
    from hallclient.store import salvage as rescue
    from hallclient.store.cache import CacheCorrupt

    path = cache_path()
    try:
        with CacheLock(path):
            if not path.exists():
                if not outbox_backup.find_backups(path.parent):
                    return (f"There is no cache at {path}, and no outbox backup beside it: "
                            "nothing to salvage.")
                cache = open_cache(path)  # a new cache, given back what the backups hold
                cache.close()
                restored = cache.restored
                return (f"There was no cache at {path}: a new one holds "
                        f"{restored.waiting if restored else 0} requests waiting to be sent "
                        f"and {restored.acknowledged if restored else 0} already sent, from "
                        "the outbox backups. Run `hallclient sync --once` (or start "
                        "HallClient) to send them.")
            try:
                open_cache(path).close()
            except CacheCorrupt:
                pass
            else:
                return f"The cache {path} is not damaged: nothing to salvage."
            scan = rescue.scan_damaged(path)
            found = f"The cache file {path} is damaged. {rescue.describe_scan(scan).en}"
            if not assume_yes:
                try:
                    answer = input(f"{found}\nSalvage it into a new cache, moving the damaged "
                                 "file aside? [y/N] ")
                except EOFError:
                    answer = ""
                if answer.strip().lower() not in ("y", "yes"):
                    raise CommandFailed("Nothing was changed: the damaged cache is where it "
                                        "was.", EXIT_SETUP)
                found = ""
            result = rescue.salvage(path, scan=scan)
            return (f"{found}\n" if found else "") + (
                f"{rescue.describe(result).en} Run `hallclient sync --once` (or start "
                "HallClient) to send the waiting requests.")
    except (CacheInUse, CacheError, OSError, sqlite3.Error) as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc
