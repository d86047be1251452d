"""Printing through Qt's print support into a real CUPS queue (cups-pdf)."""

import subprocess

import pytest

from hallclient.receipts.qr import QrPayload
from hallclient.receipts.render import render_receipts
from hallclient.ui.printing import PrintFailed, print_pdf
from tests.support.printing import OUT, RECEIPTS, new_jobs


def page_size(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    line = next(line for line in info.splitlines() if line.startswith("Page size"))
    width, _, height = line.split()[2:5]
    return float(width), float(height)


def test_roll_receipts_reach_the_queue_each_at_its_own_length(cups_queue, tmp_path):
    before = set(OUT.glob("*.pdf"))
    two = [RECEIPTS[0], RECEIPTS[5]]  # a long receipt and a short one
    assert print_pdf(render_receipts(two, layout="80mm"), title="hall-receipt",
                     printer_name=cups_queue) == cups_queue
    jobs = new_jobs(before, 2)
    sizes = [page_size(p) for p in jobs]
    assert all(abs(w - 226.8) < 1.5 for w, _ in sizes)  # 80 mm
    assert sizes[0][1] != sizes[1][1]
    # What came out of the printer still carries a readable, signed QR code.
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(jobs[0]),
                    str(tmp_path / "printed")], check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "printed.png")],
                             capture_output=True, text=True).stdout.strip()
    assert QrPayload.decode(scanned) == RECEIPTS[0].qr


def test_unknown_printer_is_a_clear_error(qapp):
    with pytest.raises(PrintFailed, match="no printer 'Nonexistent'"):
        print_pdf(render_receipts(RECEIPTS[:1]), title="x", printer_name="Nonexistent")


def test_print_test_to_an_unknown_printer_says_which_exist(qapp, tmp_path, monkeypatch, capsys):
    from hallclient.__main__ import main

    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    assert main(["print-test", "--printer", "Nonexistent"]) == 2
    assert "no printer 'Nonexistent'" in capsys.readouterr().err
