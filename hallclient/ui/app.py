"""The composition root of the desktop client: settings → login → cache, sync → window.

The login window comes up first, on little more than Qt: the database, HTTP and receipt
libraries load behind it (the cache is locked and opened off the UI thread while the clerk
types), so a clerk waits for the window about as long as for any Qt window.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from hallclient.config import (
    Settings,
    SettingsError,
    cache_path,
    load_settings,
)
from hallclient.failures import said
from hallclient.ui.background import (
    collect_garbage_on_the_ui_thread,
    freeze_long_lived_objects,
    run_in_background,
)
from hallclient.ui.i18n import current_language, use_language
from hallclient.ui.login_window import LoginWindow
from hallclient.ui.style import apply_style
from hallcore.domain.text import Lang, Text

if TYPE_CHECKING:
    from hallclient.auth.login import ClerkSession
    from hallclient.auth.secrets import SecretStore
    from hallclient.store.cache import Cache
    from hallclient.store.lock import CacheLock
    from hallclient.store.salvage import SalvageResult
    from hallclient.sync.api import ServerApi
    from hallclient.sync.engine import Credentials
    from hallcore.wire import TerminalFacts


class TerminalSession:
    """What the login leaves for the window: the API client and the keyring store."""

    api: ServerApi | None = None
    store: SecretStore | None = None


def log_in_terminal(terminal: TerminalSession, settings: Settings, clerk: str, password: str,
                    cache: Cache | None = None, *, new_password: str | None = None
                    ) -> ClerkSession:
    """Log in with the settings the login window was given. Settings other than those saved
    (a moved terminal) are kept only after a supervisor's online login. The cache's audit
    trail gets the login or the refusal (never the password)."""
    from hallclient.auth.login import LoginRefused

    try:
        session = _log_in_terminal(terminal, settings, clerk, password, new_password, cache)
    except LoginRefused as exc:
        if cache is not None:
            _audit_login(cache, clerk, "login_refused", {"reason": exc.reason.en[:200]})
        raise
    if cache is not None:
        _audit_login(cache, session.clerk, "login", {"online": session.online,
                                                     "role": session.role})
        if session.facts is not None:
            _keep_facts(cache, session.facts)
    return session


def _keep_facts(cache: Cache, facts: TerminalFacts) -> None:
    from hallclient.sync.terminal_facts import record_facts

    with cache.write() as session:
        record_facts(session, facts, datetime.now(UTC))


def _audit_login(cache: Cache, clerk: str, action: str, detail: dict[str, object]) -> None:
    from hallclient.store.audit import append_audit

    with cache.write() as session:
        append_audit(session, at=datetime.now(UTC), clerk=clerk[:32], action=action,
                     subject=None, detail=detail)


def _log_in_terminal(terminal: TerminalSession, settings: Settings, clerk: str, password: str,
                     new_password: str | None, cache: Cache | None) -> ClerkSession:
    from hallclient.auth.login import LoginRefused, log_in
    from hallclient.auth.secrets import SecretStore
    from hallclient.auth.terminal_move import MoveRefused, change_terminal_settings
    from hallclient.sync.api import ServerApi, ServerUntrusted, in_words

    now = datetime.now(UTC)

    def logged_in() -> ClerkSession:
        # No keyring is no refusal: the window says it in a fixed sentence, the log names it.
        terminal.store = SecretStore(settings.hall_id, settings.terminal_id)
        try:
            terminal.api = ServerApi(settings.server_url, ca_file=settings.ca_file)
        except ServerUntrusted as exc:
            raise LoginRefused(in_words(exc)) from exc
        return log_in(terminal.api, terminal.store, settings, clerk, password, now,
                      new_password)

    try:
        return change_terminal_settings(cache, load_settings(), settings, logged_in, now)
    except MoveRefused as exc:
        raise LoginRefused(exc.reason) from exc


def run_app(*, lang: Lang | None = None) -> int:
    """The desktop client; in `lang`, else in the language the terminal last logged in with."""
    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    collect_garbage_on_the_ui_thread(app)
    try:
        settings = load_settings()
    except SettingsError as exc:
        # No settings to take the language from: the one asked for, else the hall's Chinese.
        use_language(lang or "zh")
        QMessageBox.critical(None, "HallClient",
                             said(exc, "reading the settings")[current_language()])
        return 2
    if not settings.installation_id:
        settings = replace(settings, installation_id=uuid.uuid4().hex)
    use_language(lang or ("en" if settings.language == "en" else "zh"))
    opening = CacheOpening(cache_path())
    try:
        while (end := run_clerk_session(app, settings, opening)) is SessionEnd.LOGGED_OUT:
            # The lock screen's "Log out": the next clerk logs in on the same terminal.
            settings = load_settings()
        return 2 if end is SessionEnd.FAILED else 0
    finally:
        opening.close()


class CacheOpening:
    """The cache, locked and opened off the UI thread once the login window is up (the
    database libraries load meanwhile); the login waits for it. A cache that cannot be opened
    (another HallClient on it, damaged, a read-only disk) is said in a message box and the
    application ends; a damaged one is first offered for salvage (`offer_salvage`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: Exception | None = None
        self._cache: Cache | None = None
        self._lock: CacheLock | None = None
        self._done = threading.Event()
        self._started = False
        self.salvaged = False  # a damaged cache's salvage was tried (once per start)

    def start(self, owner: QObject, on_error: Callable[[Exception], None]) -> None:
        """Start opening (once); `on_error` runs on the UI thread if it fails, while `owner`
        (the login window) lives."""
        if self._started:
            return
        self._started = True
        run_in_background(owner, self._open, on_done=lambda _: None, on_error=on_error)

    def _open(self) -> None:
        from hallclient.store.cache import open_cache
        from hallclient.store.lock import CacheLock

        try:
            lock = CacheLock(self.path)
            lock.acquire()
            self._lock = lock
            self._cache = open_cache(self.path)
        except Exception as exc:  # said in the message box: CacheInUse, a CacheError, ...
            self.error = exc
            raise
        finally:
            self._done.set()

    def salvage(self, owner: QObject, on_done: Callable[[SalvageResult], None],
                on_error: Callable[[Exception], None]) -> None:
        """Salvage the damaged cache (store/salvage.py; its lock is still held from the failed
        opening) and open the new one, off the UI thread; a login waits for it meanwhile."""
        self.salvaged = True
        self.error = None
        self._done.clear()
        run_in_background(owner, self._salvage, on_done=on_done, on_error=on_error)

    def _salvage(self) -> SalvageResult:
        from hallclient.store.cache import open_cache
        from hallclient.store.salvage import salvage

        try:
            result = salvage(self.path)
            self._cache = open_cache(self.path)
            return result
        except Exception as exc:
            self.error = exc
            raise
        finally:
            self._done.set()

    def wait(self) -> Cache:
        """The open cache, once it is; raises what opening it raised."""
        self._done.wait()
        if self._cache is None:
            raise self.error or RuntimeError("the cache was not opened")
        return self._cache

    def close(self) -> None:
        if self._started:
            self._done.wait()
        if self._cache is not None:
            self._cache.close()
        if self._lock is not None:
            self._lock.release()


FIRST_PAINT_FALLBACK_MS = 1_000
# A request just recorded is sent this long after, not at once: by then its receipt is drawn
# and printed, and the sync thread's work does not share the interpreter with the clerk's
# window and the printing meanwhile (bench/ui_stalls.py).
SYNC_AFTER_RECORDING_MS = 2_000


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._then = then
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._then)  # once this paint is done
        return False


def after_first_paint(window: QWidget, then: Callable[[], None], *, fallback_ms: int) -> None:
    """Run `then` on the UI thread right after `window` is first drawn, or after
    `fallback_ms`, whichever comes first (`then` must not mind a second call)."""
    _FirstPaint(window, then)
    QTimer.singleShot(fallback_ms, window, then)


class SessionEnd(Enum):
    CANCELLED = "cancelled"  # the login window was closed
    CLOSED = "closed"  # the counter window was closed
    LOGGED_OUT = "logged out"
    FAILED = "failed"  # the cache could not be opened


def run_clerk_session(app: QCoreApplication, settings: Settings, opening: CacheOpening
                      ) -> SessionEnd:
    """Login window, then the counter window until it is closed or the clerk logs out."""
    terminal = TerminalSession()
    login = LoginWindow(settings, lambda s, c, p, new: log_in_terminal(
        terminal, s, c, p, opening.wait(), new_password=new))
    sessions: list[tuple[ClerkSession, Settings]] = []
    login.logged_in.connect(lambda session, used: sessions.append((session, used)))

    def cannot_open(exc: Exception) -> None:
        if offer_salvage(exc, opening, login, on_error=cannot_open):
            return
        QMessageBox.critical(None, "HallClient",
                             said(exc, "opening the cache")[current_language()])
        login.reject()

    # Once the window is drawn, so that drawing it does not wait for the database libraries
    # (or after a second, should a platform never paint it).
    after_first_paint(login, lambda: opening.start(login, on_error=cannot_open),
                      fallback_ms=FIRST_PAINT_FALLBACK_MS)
    if not login.exec() or not sessions or terminal.api is None or terminal.store is None:
        return SessionEnd.FAILED if opening.error is not None else SessionEnd.CANCELLED
    session, used = sessions[0]
    return _counter_session(app, terminal, session, used, opening.wait())


def offer_salvage(exc: Exception, opening: CacheOpening, owner: QWidget,
                  on_error: Callable[[Exception], None]) -> bool:
    """A damaged cache: ask whether to salvage it, in the clerk's language (the question and
    the answer are worded by store/salvage.py); on yes, salvage it off the UI thread, say what
    came back and go on with the new cache. False when there is nothing to offer (another
    fault, or a salvage already tried) or the clerk said no."""
    from hallclient.store.cache import CacheCorrupt
    from hallclient.store.salvage import describe, question

    if not isinstance(exc, CacheCorrupt) or opening.salvaged:
        return False
    lang = current_language()
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    if QMessageBox.question(None, "HallClient", question(exc)[lang], yes | no, no) != yes:
        return False

    def salvaged(result: SalvageResult) -> None:
        QMessageBox.information(None, "HallClient", describe(result)[lang])

    opening.salvage(owner, on_done=salvaged, on_error=on_error)
    return True


def _counter_session(app: QCoreApplication, terminal: TerminalSession, session: ClerkSession,
                     used: Settings, cache: Cache) -> SessionEnd:
    """The counter window and its sync worker, until the window is closed or the clerk logs
    out."""
    from hallclient.auth import offline
    from hallclient.auth.approval import approve
    from hallclient.auth.login import LoginRefused, log_out, offline_refusal, terminal_identity
    from hallclient.devices.idcard import make_reader, parse_reader_setting
    from hallclient.devices.queue import QueueSystem
    from hallclient.receipts.content import HallInfo
    from hallclient.sync.claims import ClaimBoard
    from hallclient.sync.engine import Credentials, SyncEngine
    from hallclient.sync.worker import SyncWorker
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.idle_lock import IdleWatch
    from hallcore.domain.business import BusinessKind

    assert terminal.api is not None and terminal.store is not None
    api, store = terminal.api, terminal.store

    def check_password(password: str) -> None:
        try:
            offline.check(store, session.clerk, password, datetime.now(UTC),
                          max_age=timedelta(days=used.offline_login_days))
        except offline.OfflineLoginRefused as exc:
            raise LoginRefused(offline_refusal(used)) from exc

    engine = SyncEngine(cache, Credentials(api, store))
    claims = ClaimBoard(api, used.hall_id, used.terminal_id)
    worker = SyncWorker(engine, claims=claims)
    window = CounterWindow(CounterServices(
        cache, terminal_identity(used, store), session.clerk,
        HallInfo(used.hall_id, Text(f"供电营业厅 {used.hall_id}", f"Service hall {used.hall_id}")),
        online=lambda: worker.online is not False,
        online_only=frozenset(BusinessKind(k) for k in used.online_only),
        on_recorded=lambda: QTimer.singleShot(SYNC_AFTER_RECORDING_MS, worker.wake),
        check_password=check_password,
        queue=QueueSystem(used.queue_url, used.queue_counter) if used.queue_url else None,
        approve=lambda supervisor, password, needed: approve(
            engine.credentials, store, supervisor, password, datetime.now(UTC),
            operation_id=needed.operation_id, kind=needed.kind,
            account_number=needed.account_number),
        card_reader=make_reader(parse_reader_setting(used.id_reader)), claims=claims,
        **server_views(engine.credentials, used.hall_id)),
        lang=current_language())
    ended = [SessionEnd.CLOSED]
    window.logged_out.connect(lambda: ended.__setitem__(0, SessionEnd.LOGGED_OUT))
    idle = IdleWatch(used.idle_lock_minutes, parent=window)
    idle.idle.connect(window.lock)
    worker.subscribe(window.status_bridge.changed.emit)
    freeze_long_lived_objects()  # before the sync thread starts making objects
    worker.start()
    window.showMaximized()  # the clerk's one window, all day
    run_in_background(window, _load_ahead, on_done=lambda _none: None,
                      on_error=lambda _exc: None)  # the first receipt then says what failed
    app.exec()
    worker.stop()
    if ended[0] is SessionEnd.LOGGED_OUT:
        log_out(engine.credentials)
    api.close()
    return ended[0]


def _load_ahead() -> None:
    """What the clerk's first receipt and first wrong phone number would otherwise wait for:
    the receipt font, the phone numbers' place names."""
    from hallclient.receipts.render import load_font
    from hallcore.domain.contact import load_place_names

    load_font()
    load_place_names()


def server_views(credentials: Credentials, hall_id: str) -> dict[str, Any]:
    """What the counter window reads from the server, with the clerk's session: the hall's
    work items, an account's SMS, the hall's service KPIs; and a supervisor's extension of
    the terminal's offline window."""
    from hallclient.auth.approval import extend_offline_window

    api = credentials.api
    return {
        "work_items": lambda: credentials.call(partial(api.work_items, hall_id)),
        "complete_work_item": lambda item_id: credentials.call(
            partial(api.complete_work_item, item_id)),
        "notifications": lambda number: credentials.call(partial(api.notifications, number)),
        "kpi_report": lambda since, until, by: credentials.call(
            partial(api.kpi_report, since, until, by)),
        "extend_offline_window": lambda supervisor, password: extend_offline_window(
            credentials, supervisor, password),
    }
