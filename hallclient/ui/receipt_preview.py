"""The receipt preview: the PDF as it will print, a printer to choose, Print and Close."""

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

from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import follow_language
from hallclient.ui.printing import PrintFailed, print_pdf, printer_names


class ReceiptPreview(QDialog):
    printed = Signal(str)  # the printer's name
    print_failed = Signal(str)  # what went wrong, in words

    def __init__(self, pdf: bytes, title: str, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdf = pdf
        self.title = title
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.printers = QComboBox(self)
        names = printer_names()
        self.printers.addItems(names)
        self.status = QLabel(self)
        self.print_button = QPushButton(self)
        self.print_button.setDefault(True)  # Enter prints
        self.print_button.setEnabled(bool(names))
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
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addLayout(bar)
        self.resize(520, 720)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Receipt preview {n}").format(n=self.title))
        self.printer_label.setText(self.tr("Printer:"))
        self.print_button.setText(self.tr("Print (Ctrl+P)"))
        self.close_button.setText(self.tr("Close"))
        if not self.printers.count():
            self.status.setText(self.tr("No printer here; add one in the system"))

    def print_receipt(self) -> None:
        if not self.print_button.isEnabled():
            return
        printer = self.printers.currentText() or None
        self.print_button.setEnabled(False)
        self.status.setText(self.tr("Printing…"))
        run_in_background(self, lambda: print_pdf(self.pdf, title=self.title, printer_name=printer),
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
