"""The receipt preview window (pytest-qt), printing into the CUPS test queue."""

from PySide6.QtCore import Qt

from hallclient.receipts.render import render_receipts
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
    with qtbot.waitSignal(preview.print_failed, timeout=10_000):
        preview.print_receipt()
    assert "did not accept" in preview.status.text() and preview.print_button.isEnabled()


def test_without_printers_printing_is_disabled_with_a_reason(qtbot, monkeypatch, english):
    import hallclient.ui.receipt_preview as module

    monkeypatch.setattr(module, "printer_names", lambda: [])
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    assert not preview.print_button.isEnabled() and "No printer" in preview.status.text()
