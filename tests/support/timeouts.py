"""A step that never comes fails its test instead of hanging it, and only its own test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer


@contextmanager
def give_up_after(seconds: float, give_up: Callable[[], None]) -> Iterator[QTimer]:
    """Run `give_up` if the block still runs after `seconds`; never once it has ended (a
    timer left armed closed a later test's login window, which then said nothing)."""
    timer = QTimer(singleShot=True, interval=int(seconds * 1000))
    timer.timeout.connect(give_up)
    timer.start()
    try:
        yield timer
    finally:
        timer.stop()
