"""The demo with a screen, driven by a test from inside its event loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hallclient.ui.counter_window import CounterWindow
from hallclient.ui.demo_app import run_gui_demo
from hallcore.domain.text import Lang


def run_demo_driven(walk: Callable[[CounterWindow], None], *, lang: Lang = "en") -> int:
    """Run the demo, `walk` driving its counter window; the demo ends when the walk does,
    passed or failed (a step that failed must still end it, or its event loop runs on)."""
    def drive() -> None:
        try:
            walk(next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, CounterWindow) and w.isVisible()))
        finally:
            for window in QApplication.topLevelWidgets():
                if isinstance(window, CounterWindow):
                    window.close()

    QTimer.singleShot(0, drive)
    return run_gui_demo(lang=lang)
