"""run_in_background: the work runs off the UI thread and its result comes back on it, to a
widget that still lives, or to nobody."""

import threading

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QThread, QThreadPool
from PySide6.QtWidgets import QLabel

from hallclient.ui.background import run_in_background


def delivered() -> None:
    """Every background result posted so far is handed over now."""
    QThreadPool.globalInstance().waitForDone()
    QCoreApplication.sendPostedEvents()


def test_the_result_comes_back_on_the_ui_thread_to_its_widget(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    ran_on = []

    def work():
        ran_on.append(QThread.currentThread())
        return "done"

    run_in_background(label, work, on_done=label.setText, on_error=pytest.fail)
    qtbot.waitUntil(lambda: label.text() == "done")
    assert ran_on != [QThread.currentThread()]


@pytest.mark.parametrize("fails", [False, True], ids=["result", "error"])
def test_nothing_reaches_a_widget_deleted_while_its_work_runs(qtbot, fails):
    label = QLabel()
    started, finish = threading.Event(), threading.Event()
    reached = []

    def work():
        started.set()
        finish.wait(10)
        if fails:
            raise OSError("printer gone")
        return "done"

    run_in_background(label, work, on_done=lambda text: (reached.append(text),
                                                         label.setText(text)),
                      on_error=lambda exc: (reached.append(exc), label.setText(str(exc))))
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(label.destroyed):
        label.deleteLater()  # the window is closed and deleted meanwhile
    finish.set()
    delivered()
    assert not shiboken6.isValid(label) and reached == []
