"""The receipt preview window (pytest-qt), printing into the CUPS test queue."""

import subprocess
import threading

from PySide6.QtCore import Qt

from hallclient.counter.requests import DrawnReceipt
from hallclient.receipts.render import ReceiptFormat, render_receipts
from hallclient.ui.receipt_preview import ReceiptPreview
from tests.support.printing import OUT, RECEIPTS, new_jobs

PDF = render_receipts(RECEIPTS[:1], layout="80mm", lang="both")


def test_preview_shows_the_receipt_in_both_languages(qtbot, english):
    preview = ReceiptPreview(PDF, RECEIPTS[0].receipt_no)
    qtbot.addWidget(preview)
    preview.show()
    assert preview.document.pageCount() == 1
    assert RECEIPTS[0].receipt_no in preview.windowTitle()
    assert preview.print_button.text() == "Print (Ctrl+P)"


def test_enter_prints_without_freezing_the_window(qtbot, cups_queue):
    preview = ReceiptPreview(PDF, "hall-receipt-preview")
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitUntil(preview.print_button.isEnabled)  # the printers known
    preview.printers.setCurrentText(cups_queue)
    before = set(OUT.glob("*.pdf"))
    with qtbot.waitSignal(preview.printed, timeout=30_000) as printed:
        qtbot.keyClick(preview, Qt.Key.Key_Return)
        assert not preview.print_button.isEnabled()  # the print runs in the background
    assert printed.args == [cups_queue]
    assert "HallPDF" in preview.status.text()
    assert new_jobs(before, 1)


def test_print_failure_is_shown_not_raised(qtbot, monkeypatch):
    import hallclient.ui.receipt_preview as module

    def broken(*args, **kwargs):
        raise module.PrintFailed("The printer 'X' did not accept the job.")

    monkeypatch.setattr(module, "print_pdf", broken)
    monkeypatch.setattr(module, "printer_names", lambda: ["X"])
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    qtbot.waitUntil(preview.print_button.isEnabled)
    with qtbot.waitSignal(preview.print_failed, timeout=10_000):
        preview.print_receipt()
    assert "did not accept" in preview.status.text() and preview.print_button.isEnabled()


def test_without_printers_printing_is_disabled_with_a_reason(qtbot, monkeypatch, english):
    import hallclient.ui.receipt_preview as module

    monkeypatch.setattr(module, "printer_names", lambda: [])
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    qtbot.waitUntil(lambda: "No printer" in preview.status.text())
    assert not preview.print_button.isEnabled()


def test_the_printers_are_looked_up_off_the_ui_thread_and_print_waits_for_them(qtbot,
                                                                             monkeypatch):
    """The operating system's list is slow (CUPS: 4-12 ms); the window opens without it."""
    import hallclient.ui.receipt_preview as module

    on_the_ui_thread = []
    listed = threading.Event()

    def slow_list():
        on_the_ui_thread.append(threading.current_thread() is threading.main_thread())
        listed.wait(5)
        return ["X"]

    monkeypatch.setattr(module, "printer_names", slow_list)
    printing = []
    monkeypatch.setattr(module, "print_pdf", lambda *args, **kwargs: printing.append(args))
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    preview.show()
    preview.activateWindow()
    try:
        qtbot.waitUntil(preview.isActiveWindow)
        qtbot.keyClick(preview, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        assert not preview.print_button.isEnabled() and preview.status.text() == ""
    finally:
        listed.set()
    qtbot.waitUntil(preview.print_button.isEnabled)
    assert on_the_ui_thread == [False] and preview.printers.currentText() == "X"
    assert printing == []  # Ctrl+P before the printers were known printed nothing
    qtbot.keyClick(preview, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(printing) == 1)


def test_printers_that_cannot_be_listed_are_said_and_printing_is_disabled(qtbot, monkeypatch,
                                                                          english, caplog):
    import hallclient.ui.receipt_preview as module

    def broken():
        raise OSError("cups: bad reply for HOLDER-42")

    monkeypatch.setattr(module, "printer_names", broken)
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    qtbot.waitUntil(lambda: preview.status.text() != "")
    assert preview.status.text() == ("The printers could not be looked up: an unexpected "
                                     "error, written to the log.")
    assert not preview.print_button.isEnabled()
    assert "OSError" in caplog.text and "HOLDER-42" not in preview.status.text()


def _text(pdf, tmp_path):
    path = tmp_path / "shown.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_clerk_draws_the_receipt_in_another_language_and_layout(qtbot, tmp_path,
                                                                     monkeypatch, english):
    import hallclient.ui.receipt_preview as module

    monkeypatch.setattr(module, "printer_names", lambda: ["X"])
    content = RECEIPTS[0]
    shown = ReceiptFormat("80mm", "zh")
    pdf = render_receipts([content], layout=shown.layout, lang=shown.lang)
    preview = ReceiptPreview(pdf, content.receipt_no, drawn=DrawnReceipt(content, shown, pdf))
    qtbot.addWidget(preview)
    qtbot.waitUntil(preview.print_button.isEnabled)  # the printers known
    assert preview.lang_choice.currentData() == "zh"
    assert preview.layout_choice.currentData() == "80mm"
    assert preview.lang_choice.itemText(2) == "Chinese and English"
    with qtbot.waitSignal(preview.redrawn, timeout=10_000):
        preview.lang_choice.setCurrentIndex(preview.lang_choice.findData("en"))
        assert not preview.print_button.isEnabled()  # not the old one printed meanwhile
    assert preview.print_button.isEnabled()
    text = _text(preview.pdf, tmp_path)
    assert "Acceptance Receipt" in text and "业务受理回执" not in text
    with qtbot.waitSignal(preview.redrawn, timeout=10_000):
        preview.layout_choice.setCurrentIndex(preview.layout_choice.findData("a4"))
    size = preview.document.pagePointSize(0)
    assert (round(size.width()), round(size.height())) == (595, 842)
    assert "Acceptance Receipt" in _text(preview.pdf, tmp_path)  # the language kept


def test_printers_known_while_the_receipt_is_drawn_again_print_waits_for_the_drawing(
        qtbot, monkeypatch, english):
    import hallclient.ui.receipt_preview as module

    listed, drawn = threading.Event(), threading.Event()

    def slow_list():
        listed.wait(5)
        return ["X"]

    def slow_drawing(content, *, layout, lang):
        drawn.wait(5)
        return render_receipts([content], layout=layout, lang=lang)

    monkeypatch.setattr(module, "printer_names", slow_list)
    monkeypatch.setattr(module, "render_pdf", slow_drawing)
    content = RECEIPTS[0]
    shown = ReceiptFormat("80mm", "zh")
    preview = ReceiptPreview(PDF, content.receipt_no, drawn=DrawnReceipt(content, shown, PDF))
    qtbot.addWidget(preview)
    preview.show()
    try:
        preview.lang_choice.setFocus()
        qtbot.keyClick(preview.lang_choice, Qt.Key.Key_Down)  # English: drawn again
        assert preview.lang_choice.currentData() == "en"
        listed.set()
        qtbot.waitUntil(lambda: preview.printers.count() == 1)
        assert not preview.print_button.isEnabled()  # not the one shown before printed
        assert preview.status.text() == "Drawing the receipt…"
    finally:
        listed.set()
        drawn.set()
    qtbot.waitUntil(preview.print_button.isEnabled)
    assert preview.drawn.format.lang == "en" and preview.status.text() == ""


def test_a_preview_of_a_pdf_alone_offers_no_choices(qtbot):
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    preview.show()
    assert not preview.lang_choice.isVisible() and not preview.layout_choice.isVisible()
