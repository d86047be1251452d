"""Printing runs off the UI thread, but Qt holds Python's lock while PDFium draws a page and
while the print engine takes an image: each of those calls must stay short, or the window
cannot answer meanwhile (bench/ui_stalls.py). A page therefore reaches the printer drawn and
handed over a band at a time, and is still the receipt, pixel for pixel, once put together."""

import subprocess

import pytest
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from hallclient.receipts.qr import QrPayload
from hallclient.receipts.render import render_receipts
from hallclient.ui import printing
from tests.support.printing import RECEIPTS


class Recorded:
    """The sizes PDFium drew and the print engine was handed, in pixels."""

    def __init__(self) -> None:
        self.drawn: list[tuple[int, int]] = []
        self.handed: list[tuple[int, int]] = []


@pytest.fixture
def into_a_file(qapp, tmp_path, monkeypatch):
    """Qt's own PDF output into a file, through the same code: only the printer is another.
    Every page PDFium draws and every image the engine is handed is recorded."""
    recorded = Recorded()
    target = tmp_path / "printed.pdf"

    class FilePrinter(QPrinter):
        def __init__(self, _info, mode):
            super().__init__(mode)
            self.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.setOutputFileName(str(target))

    class Document(QPdfDocument):
        def render(self, page, size, *options):
            image = super().render(page, size, *options)
            recorded.drawn.append((image.width(), image.height()))
            return image

    class Painter(QPainter):
        def drawImage(self, target_rect, image, *source):
            recorded.handed.append((target_rect.width(), target_rect.height()))
            super().drawImage(target_rect, image, *source)

    monkeypatch.setattr(printing, "QPrinter", FilePrinter)
    monkeypatch.setattr(printing, "QPdfDocument", Document)
    monkeypatch.setattr(printing, "QPainter", Painter)
    monkeypatch.setattr(printing, "_printer_info", lambda _name: QPrinterInfo())
    return recorded, target


def test_an_a4_page_is_drawn_and_handed_to_the_printer_a_band_at_a_time(into_a_file):
    recorded, _ = into_a_file
    printing.print_pdf(render_receipts(RECEIPTS[:1], layout="a4"), title="r")
    width, height = 595 * 300 / 72, 842 * 300 / 72  # A4 in points, at 300 dpi
    for done in (recorded.drawn, recorded.handed):
        assert len(done) > 1
        assert all(w * h <= printing.BAND_PIXELS for w, h in done)
        assert all(abs(w - width) < 1 for w, _ in done)  # across the page
        assert abs(sum(h for _, h in done) - height) < 1  # down the whole page, once


def test_the_page_put_together_from_its_bands_still_carries_its_qr_code(into_a_file,
                                                                         tmp_path):
    _, printed = into_a_file
    printing.print_pdf(render_receipts(RECEIPTS[:1], layout="80mm"), title="r")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(printed),
                    str(tmp_path / "printed")], check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "printed.png")],
                             capture_output=True, text=True).stdout.strip()
    assert QrPayload.decode(scanned) == RECEIPTS[0].qr
