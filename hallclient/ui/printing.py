"""Printing receipts through Qt's print support to the operating system's printers (CUPS on
Linux, the Windows spooler). The PDF is the one source of a receipt's look: each page is
rendered at the printer's resolution and sent as is, at its own size (the 80 mm roll's pages
are as long as their receipts)."""

from __future__ import annotations

import time

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRect
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo


class PrintFailed(Exception):
    """The receipt did not reach the printer; the message says why and what to check."""


def ensure_gui() -> None:
    """Qt printing needs a GUI application object (the command line has none of its own)."""
    if QGuiApplication.instance() is None:
        QGuiApplication([])


def printer_names() -> list[str]:
    """The operating system's printers; slow with CUPS (4-12 ms): off the UI thread."""
    ensure_gui()
    return [p.printerName() for p in QPrinterInfo.availablePrinters()]


def _printer_info(name: str | None) -> QPrinterInfo:
    info = QPrinterInfo.printerInfo(name) if name else QPrinterInfo.defaultPrinter()
    if info.isNull():
        known = ", ".join(printer_names()) or "none"
        wanted = f"printer '{name}'" if name else "a default printer"
        raise PrintFailed(f"There is no {wanted} (printers here: {known}). Set one up in the "
                          "operating system, or choose another.")
    return info


def _load(pdf: bytes) -> tuple[QPdfDocument, QBuffer]:
    document = QPdfDocument()
    buffer = QBuffer()  # kept alive with the document, which reads from it
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() == 0:
        raise PrintFailed(f"The receipt could not be read for printing ({document.error()}).")
    return document, buffer


def _runs_of_equal_size(document: QPdfDocument) -> list[list[int]]:
    """Pages grouped into runs of one size. A print job has one paper size (CUPS takes the
    media option per job), so each run of the roll's varying lengths is a job of its own."""
    runs: list[list[int]] = []
    for page in range(document.pageCount()):
        if runs and document.pagePointSize(runs[-1][0]) == document.pagePointSize(page):
            runs[-1].append(page)
        else:
            runs.append([page])
    return runs


def print_pdf(pdf: bytes, *, title: str, printer_name: str | None = None,
              dpi: int = 300) -> str:
    """Print every page of `pdf` at its own size; returns the printer's name."""
    ensure_gui()
    document, _buffer = _load(pdf)
    info = _printer_info(printer_name)
    for pages in _runs_of_equal_size(document):
        _print_job(document, pages, info, title, dpi)
    return info.printerName()


def _print_job(document: QPdfDocument, pages: list[int], info: QPrinterInfo, title: str,
               dpi: int) -> None:
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    printer.setResolution(dpi)
    printer.setFullPage(True)
    size = QPageSize(document.pagePointSize(pages[0]), QPageSize.Unit.Point, title,
                     QPageSize.SizeMatchPolicy.ExactMatch)
    printer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait,
                                      QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed(f"The printer '{info.printerName()}' did not accept the job.")
    try:
        for n, page in enumerate(pages):
            if n and not printer.newPage():
                raise PrintFailed(f"The printer '{info.printerName()}' stopped at page {n}.")
            _draw_in_bands(painter, painter.viewport(), document, page)
    finally:
        painter.end()


BAND_PIXELS = 120_000  # a few milliseconds of PDFium, then of the print engine, a band
HANDOVER_S = 0.001  # asleep between bands: the UI thread waiting for Python's lock takes it


def _draw_in_bands(painter: QPainter, target: QRect, document: QPdfDocument, page: int) -> None:
    """The page drawn at the printer's resolution and handed to it a band at a time, pixel
    for pixel. Qt holds Python's lock while PDFium draws and while the print engine compresses
    an image: a whole A4 page drawn at once (35 ms), then handed over in bands of 256 rows
    (15 ms each), kept the UI thread from its own Python (its timers, its event filters) for
    40-100 ms at a stretch (bench/ui_stalls.py). Bands of a few milliseconds each, with a
    short sleep after each that hands the lock over, keep every wait of the UI thread short."""
    whole = target.size()
    rows = max(1, BAND_PIXELS // max(1, whole.width()))
    for top in range(0, whole.height(), rows):
        band = QRect(0, top, whole.width(), min(rows, whole.height() - top))
        options = QPdfDocumentRenderOptions()
        options.setScaledSize(whole)
        options.setScaledClipRect(band)
        image = document.render(page, band.size(), options)
        painter.drawImage(band.translated(target.topLeft()), image)
        time.sleep(HANDOVER_S)
