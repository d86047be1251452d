"""The demo with a screen: the counter window over an embedded server, driven briefly."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from hallclient.ui.style import STYLE_SHEET
from tests.support.demo import run_demo_driven


def test_demo_window_finds_an_account_syncs_and_cuts_the_network(qapp, qtbot):
    seen = {}

    def walk(window):
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

    assert run_demo_driven(walk) == 0
    assert "pending 0" in seen["online"] and "offline" in seen["offline"]
    assert seen["style"] == STYLE_SHEET
    assert seen["operations"] > 0
