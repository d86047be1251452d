"""The receipt preview: the PDF as it will print, its language and paper to choose (drawn again
off the UI thread), a printer to choose (the list looked up off the UI thread), Print and
Close."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.config import RECEIPT_LAYOUTS
from hallclient.counter.requests import DrawnReceipt
from hallclient.failures import said
from hallclient.receipts.render import RECEIPT_LANGS, ReceiptFormat, render_pdf
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallclient.ui.printing import PrintFailed, print_pdf, printer_names
from hallcore.domain.text import Text


class ReceiptPreview(QDialog):
    printed = Signal(str)  # the printer's name
    print_failed = Signal(str)  # what went wrong, in words
    redrawn = Signal()  # drawn again in the language and paper chosen

    def __init__(self, pdf: bytes, title: str, *, parent: QWidget | None = None,
                 drawn: DrawnReceipt | None = None) -> None:
        """`drawn`: the receipt's content and format, for the clerk to draw it again in
        another language or on other paper; without it, the PDF is shown as it is."""
        super().__init__(parent)
        self.pdf = pdf
        self.title = title
        self.drawn = drawn
        self._redraws = 0  # the latest redraw's number: an older one's result is dropped
        self._drawing = False  # the latest redraw not back yet
        self._buffer = QBuffer(self)
        self.document = QPdfDocument(self)
        self._show_pdf(pdf)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.lang_label = QLabel(self)
        self.lang_choice = QComboBox(self)
        for lang in RECEIPT_LANGS:
            self.lang_choice.addItem(lang, lang)
        self.layout_label = QLabel(self)
        self.layout_choice = QComboBox(self)
        for paper in RECEIPT_LAYOUTS:
            self.layout_choice.addItem(paper, paper)
        choices = QHBoxLayout()
        for widget in (self.lang_label, self.lang_choice, self.layout_label,
                       self.layout_choice):
            choices.addWidget(widget)
            widget.setVisible(drawn is not None)
        choices.addStretch(1)
        if drawn is not None:
            self._choose(drawn.format)
        self.lang_choice.currentIndexChanged.connect(self.redraw)
        self.layout_choice.currentIndexChanged.connect(self.redraw)
        self.printers = QComboBox(self)
        # None until the printers are known: the operating system's list takes 4-12 ms with
        # CUPS, looked up off the UI thread (bench/ui_stalls.py).
        self._can_print: bool | None = None
        self._lookup_failure: Text | None = None  # why the printers are not known
        self.status = QLabel(self)
        self.print_button = QPushButton(self)
        self.print_button.setDefault(True)  # Enter prints
        self.print_button.setEnabled(False)
        self.print_button.clicked.connect(self.print_receipt)
        self.close_button = QPushButton(self)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Print), self, self.print_receipt)
        self.printer_label = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(self.printer_label)
        bar.addWidget(self.printers, 1)
        bar.addWidget(self.print_button)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addLayout(bar)
        self.resize(520, 720)
        follow_language(self, self.retranslate)
        run_in_background(self, printer_names, on_done=self._printers_known,
                          on_error=self._printers_unknown)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Receipt preview {n}").format(n=self.title))
        self.printer_label.setText(self.tr("Printer:"))
        self.lang_label.setText(self.tr("Language:"))
        langs = {"zh": self.tr("Chinese"), "en": self.tr("English"),
                 "both": self.tr("Chinese and English")}
        for i, lang in enumerate(RECEIPT_LANGS):
            self.lang_choice.setItemText(i, langs[lang])
        self.layout_label.setText(self.tr("Paper:"))
        layouts = {"80mm": self.tr("80 mm roll"), "a4": self.tr("A4")}
        for i, paper in enumerate(RECEIPT_LAYOUTS):
            self.layout_choice.setItemText(i, layouts[paper])
        self.print_button.setText(self.tr("Print (Ctrl+P)"))
        self.close_button.setText(self.tr("Close"))
        if self._lookup_failure is not None:
            self.status.setText(self.tr("The printers could not be looked up: {e}.").format(
                e=self._lookup_failure[current_language()]))
        elif self._can_print is False:
            self.status.setText(self.tr("No printer here; add one in the system"))

    def _printers_known(self, names: list[str]) -> None:
        self.printers.addItems(names)
        self._printers_settled(bool(names))

    def _printers_unknown(self, error: Exception) -> None:
        """Nothing to print to: the clerk is told why, the failure logged."""
        self._lookup_failure = said(error, "looking up the printers")
        self._printers_settled(False)

    def _printers_settled(self, can_print: bool) -> None:
        self._can_print = can_print
        if not self._drawing:  # else once drawn
            self.print_button.setEnabled(can_print)
            self.retranslate()  # says why there is nothing to print to, if so

    def _show_pdf(self, pdf: bytes) -> None:
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)

    def _choose(self, shown: ReceiptFormat) -> None:
        for choice, value in ((self.lang_choice, shown.lang),
                              (self.layout_choice, shown.layout)):
            choice.blockSignals(True)
            choice.setCurrentIndex(choice.findData(value))
            choice.blockSignals(False)

    def redraw(self) -> None:
        """The receipt drawn again in the language and paper chosen, off the UI thread; not
        printable meanwhile, so the one printed is the one chosen."""
        if self.drawn is None:
            return
        content = self.drawn.content
        wanted = ReceiptFormat(self.layout_choice.currentData(), self.lang_choice.currentData())
        self._redraws += 1
        number = self._redraws
        self._drawing = True
        self.print_button.setEnabled(False)
        self.status.setText(self.tr("Drawing the receipt…"))
        run_in_background(self, lambda: render_pdf(content, layout=wanted.layout,
                                                   lang=wanted.lang),
                          on_done=lambda pdf: self._redrawn(number, wanted, pdf),
                          on_error=lambda exc: self._not_redrawn(number, exc))

    def _redrawn(self, number: int, shown: ReceiptFormat, pdf: bytes) -> None:
        if number != self._redraws or self.drawn is None:
            return  # the clerk chose again meanwhile: that drawing follows
        self._drawing = False
        self.drawn = DrawnReceipt(self.drawn.content, shown, pdf)
        self.pdf = pdf
        self._show_pdf(pdf)
        self.print_button.setEnabled(bool(self._can_print))
        self.status.clear()
        self.retranslate()  # says again that there is no printer, if so
        self.redrawn.emit()

    def _not_redrawn(self, number: int, error: Exception) -> None:
        if number != self._redraws or self.drawn is None:
            return
        self._drawing = False
        self._choose(self.drawn.format)  # the choices say what is shown, and printed
        self.print_button.setEnabled(bool(self._can_print))
        self.status.setText(self.tr("The receipt could not be drawn in that language or on "
                                    "that paper: {e}").format(
            e=f"{type(error).__name__}: {error}"))

    def print_receipt(self) -> None:
        if not self.print_button.isEnabled():
            return
        printer = self.printers.currentText() or None
        pdf = self.pdf  # the receipt as shown now
        self.print_button.setEnabled(False)
        self.status.setText(self.tr("Printing…"))
        run_in_background(self, lambda: print_pdf(pdf, title=self.title, printer_name=printer),
                          on_done=self._printed, on_error=self._failed)

    def _printed(self, printer: str) -> None:
        self.print_button.setEnabled(True)
        self.status.setText(self.tr("Sent to {p}").format(p=printer))
        self.printed.emit(printer)

    def _failed(self, error: Exception) -> None:
        self.print_button.setEnabled(True)
        message = str(error) if isinstance(error, PrintFailed) else (
            f"{type(error).__name__}: {error}")
        self.status.setText(message)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_failed.emit(message)
