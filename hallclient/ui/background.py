"""The one way the UI runs slow work: off the UI thread, then back on it with the result.

    run_in_background(self, lambda: print_pdf(...), on_done=show_done, on_error=show_error)

`work` runs on Qt's global thread pool; `on_done(result)` or `on_error(exception)` runs on the
UI thread (queued signal delivery), so the window never freezes on the network, the disk or
the printer, and callbacks may touch widgets. They run only while `owner` (the widget that
waits for the result) lives: a result that comes back after its window was deleted (the clerk
logged out while a receipt was drawn) is dropped, never handed to a deleted widget.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.work = work
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # handed to the UI thread, which says what went wrong
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)


def run_in_background(owner: QObject, work: Callable[[], Any], *,
                      on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None]) -> None:
    # Created on the UI thread, so its signals are delivered there. Owned by the application
    # and deleted with deleteLater, on the UI thread: the worker's last reference to the
    # Python wrapper may go anywhere, and a QObject deleted from the worker's thread crashed.
    # Not a child of `owner` for the same reason: deleted with it, it could be deleted while
    # the worker emits. Widgets are deleted on the UI thread only, so the check below, made
    # there, cannot race with the deletion.
    relay = _Relay(QCoreApplication.instance())

    def finish(callback: Callable[[Any], None], value: Any) -> None:
        relay.deleteLater()
        if shiboken6.isValid(owner):
            callback(value)

    relay.done.connect(lambda result: finish(on_done, result))
    relay.failed.connect(lambda exc: finish(on_error, exc))
    QThreadPool.globalInstance().start(_Task(work, relay))


GC_INTERVAL_MS = 1_000
GC_TIMER_NAME = "hallclient-ui-thread-gc"


def freeze_long_lived_objects() -> None:
    """Once the main window is made: the modules, classes and windows living now live as long
    as the process, so they are moved out of the collector's reach (gc.freeze), and each
    once-a-second collection walks only what was made since. Walking the whole heap blocked
    the UI thread for 60-100 ms every second (bench/ui_stalls.py)."""
    gc.collect()
    gc.freeze()


def collect_garbage_on_the_ui_thread(app: QCoreApplication) -> QTimer:
    """Python's cycle collector runs in whichever thread happens to allocate. When it frees a
    window (or any QObject with a timer) from a worker or the sync thread, Qt cannot stop that
    object's timers from there, and the next tick crashes the application. So the automatic
    collector is switched off and the UI thread collects, once a second. One timer per
    application, however often this is called (each run of the app or the demo in one
    process calls it): more would each walk the heap every second."""
    gc.disable()
    existing = app.findChild(QTimer, GC_TIMER_NAME)
    if existing is not None:
        return existing
    timer = QTimer(app)
    timer.setObjectName(GC_TIMER_NAME)
    timer.setInterval(GC_INTERVAL_MS)
    timer.timeout.connect(gc.collect)
    timer.start()
    return timer
