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

from hallclient.auth.login import online_login
from hallclient.auth.secrets import SecretStore, SecretStoreUnavailable
from hallclient.config import (
    Settings,
    SettingsError,
    cache_path,
    load_settings,
    save_settings,
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


def setup(server: str, hall: str, terminal: str, ca_file: str = "") -> str:
    """Save the terminal's settings; without a CA file, the system's trust store is used."""
    current = _settings()
    if ca_file:
        ca_file = str(Path(ca_file).resolve())
        try:
            trust(ca_file)
        except ServerUntrusted as exc:
            raise CommandFailed(str(exc), EXIT_SETUP) from exc
    changed = (current.hall_id, current.terminal_id) != (hall, terminal)
    installation = uuid.uuid4().hex if changed or not current.installation_id else (
        current.installation_id)
    save_settings(replace(current, server_url=server, ca_file=ca_file, hall_id=hall,
                          terminal_id=terminal, installation_id=installation))
    trusted = f"CA file {ca_file}" if ca_file else "the system's trusted CAs"
    return (f"terminal {terminal} of hall {hall}, server {server} (certificate checked against "
            f"{trusted})")


def login(clerk: str, password_stdin: bool) -> str:
    settings = _configured()
    store = _secrets(settings)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass(
        f"Password for {clerk}: ")
    api = _api(settings)
    try:
        answer = online_login(api, store, settings, clerk, password)
    except ServerUntrusted as exc:
        raise CommandFailed(str(exc), EXIT_SETUP) from exc
    except ServerUnreachable as exc:
        raise CommandFailed(f"The server cannot be reached ({exc}).", EXIT_OFFLINE) from exc
    except ServerRefused as exc:
        raise CommandFailed(f"Login refused: {exc}", EXIT_LOGIN) from exc
    finally:
        api.close()
    return f"logged in as {answer.clerk_name} ({answer.clerk}, {answer.role}) at {answer.hall_id}"


def sync_once() -> str:
    settings = _configured()
    store = _secrets(settings)
    api = _api(settings)
    try:
        with _locked_cache() as cache:
            engine = SyncEngine(cache, Credentials(api, store))
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
