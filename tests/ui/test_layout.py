"""Nothing cut off: the counter window in both languages, with each form open, at the logical
size of a 1920x1080 screen at 150% scaling (1280x720, less a taskbar). Qt lays out in logical
pixels, so what fits here fits at 125-150% on the halls' 1080p screens."""

import pytest
from PySide6.QtCore import QPoint

from hallclient.forms import FORMS
from hallclient.receipts.content import HallInfo
from hallclient.store.accounts import load_account
from hallclient.store.operations import TerminalIdentity
from hallclient.sync.engine import BootstrapProgress
from hallclient.sync.worker import read_status
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.style import STYLE_SHEET
from hallcore.domain.text import Text
from tests.support.factories import TERMINAL_KEY, account
from tests.support.screen import SCREEN_AT_150, cut_off


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_text_is_cut_off_at_150_percent(qtbot, one_account_cache, lang):
    window = CounterWindow(CounterServices(
        one_account_cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("广州供电局天河营业厅", "Tianhe Service Hall"))), lang=lang)
    qtbot.addWidget(window)
    window.setStyleSheet(STYLE_SHEET)  # the application's, as run_app sets it
    window.resize(*SCREEN_AT_150)
    window.show()
    assert window.width() <= SCREEN_AT_150[0] and window.height() <= SCREEN_AT_150[1]
    with one_account_cache.read() as s:
        window.account = load_account(s, account().number)
    window.status_bridge.changed.emit(read_status(one_account_cache, online=False,
                                                  bootstrap=BootstrapProgress(41_000, 100_000)))
    first_input_x = {}
    for kind in FORMS:
        window.open_form(kind)
        view = window.form_views[kind]
        view.show_current(window.account)  # the account's values now, beside the fields
        view.submit()  # every required field says what is missing
        qtbot.wait(10)  # let the layouts settle
        assert cut_off(window) == [], kind
        if view.isVisible():  # a business the account cannot take (resume) opens no form
            first_input_x[kind] = next(iter(view.inputs.values())).mapTo(window, QPoint()).x()
    # Whichever form is open, its inputs start at the same place.
    assert len(first_input_x) > 1 and len(set(first_input_x.values())) == 1, first_input_x
