"""The receipt preview window (pytest-qt), printing into the CUPS test queue."""

import subprocess

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


def test_a_preview_of_a_pdf_alone_offers_no_choices(qtbot):
    preview = ReceiptPreview(PDF, "r")
    qtbot.addWidget(preview)
    preview.show()
    assert not preview.lang_choice.isVisible() and not preview.layout_choice.isVisible()
