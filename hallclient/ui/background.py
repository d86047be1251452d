"""The one way the UI runs slow work: off the UI thread, then back on it with the result.

    run_in_background(lambda: print_pdf(...), on_done=show_done, on_error=show_error)

`work` runs on Qt's global thread pool; `on_done(result)` or `on_error(exception)` runs on the
UI thread (queued signal delivery), so the window never freezes on the network, the disk or
the printer, and callbacks may touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


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


_pending: set[_Relay] = set()  # relays live until their task has reported


def run_in_background(work: Callable[[], Any], *, on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None]) -> None:
    relay = _Relay()  # created on the UI thread: its signals are delivered there
    _pending.add(relay)

    def finish(callback: Callable[[Any], None], value: Any) -> None:
        _pending.discard(relay)
        callback(value)

    relay.done.connect(lambda result: finish(on_done, result))
    relay.failed.connect(lambda exc: finish(on_error, exc))
    QThreadPool.globalInstance().start(_Task(work, relay))
