"""The demo with a screen: the counter window over an embedded server, driven briefly."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from hallclient.ui.counter_window import CounterWindow
from hallclient.ui.demo_app import run_gui_demo
from hallclient.ui.style import STYLE_SHEET


def test_demo_window_finds_an_account_syncs_and_cuts_the_network(qapp, qtbot):
    seen = {}

    def drive():
        try:
            walk()
        finally:  # a step that failed must still end the demo, or its event loop runs on
            for window in QApplication.topLevelWidgets():
                if isinstance(window, CounterWindow):
                    window.close()

    def walk():
        window = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, CounterWindow) and w.isVisible())
        window.search.setText("1000000001")
        qtbot.keyClick(window.search, Qt.Key.Key_Return)  # the clerk opens the account
        qtbot.waitUntil(lambda: window.account is not None, timeout=10_000)
        qtbot.waitUntil(lambda: "online" in window.sync_status.label.text(), timeout=15_000)
        seen["online"] = window.sync_status.label.text()
        seen["style"] = QApplication.instance().styleSheet()  # as the installed app looks
        window.show_dashboard()  # Ctrl+D: the morning at the next counter, by business type
        qtbot.waitUntil(lambda: window.dashboard.report is not None, timeout=15_000)
        seen["operations"] = window.dashboard.report.total.operations
        cut = next(b for b in window.statusBar().findChildren(
            type(window.language_button)) if "cut the network" in b.text())
        cut.click()
        qtbot.waitUntil(lambda: "offline" in window.sync_status.label.text(), timeout=15_000)
        seen["offline"] = window.sync_status.label.text()

    QTimer.singleShot(0, drive)
    assert run_gui_demo(lang="en") == 0
    assert "pending 0" in seen["online"] and "offline" in seen["offline"]
    assert seen["style"] == STYLE_SHEET
    assert seen["operations"] > 0
