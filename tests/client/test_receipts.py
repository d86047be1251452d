"""Receipts as a customer gets them: text, fonts and the QR code read back from the PDF."""

import itertools
import re
import subprocess
from datetime import UTC, datetime

import pytest

from hallclient.__main__ import main
from hallclient.receipts.content import COPY, HallInfo, build_receipt
from hallclient.receipts.qr import QrPayload
from hallclient.receipts.render import render_pdf
from hallclient.receipts.testpage import sample_receipts
from hallclient.samples import SAMPLE_ACCOUNT
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.text import Text
from hallcore.signing import signature_matches
from tests.support.factories import TERMINAL_KEY, WEEKDAYS

HALL = HallInfo("GZ-TH-01", Text("广州供电局天河营业厅", "Tianhe Service Hall"))
RECEIPTS = {r.kind: r for r in sample_receipts(HALL, "T01", datetime(2026, 11, 25, 3, tzinfo=UTC))}


def pdftotext(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def qr_text(path, tmp_path):
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    done = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page.png")],
                          capture_output=True, text=True)
    assert done.returncode == 0, "no QR code found"
    return done.stdout.strip()


@pytest.mark.parametrize(("kind", "layout", "lang"), list(itertools.product(
    BusinessKind, ("a4", "80mm"), ("zh", "en", "both"))))
def test_every_receipt_renders_with_its_text_extractable(kind, layout, lang, tmp_path):
    content = RECEIPTS[kind]
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(content, layout=layout, lang=lang))
    text = pdftotext(path)
    assert content.receipt_no in text
    label = BUSINESS_TYPES[kind].label
    if lang in ("zh", "both"):
        assert "业务受理回执" in text and label.zh in text
    if lang in ("en", "both"):
        assert "Acceptance Receipt" in text and label.en in text
    # Personal data is masked: the holder's full ID number and phone never appear.
    assert SAMPLE_ACCOUNT.id_number not in text and SAMPLE_ACCOUNT.phone not in text
    assert re.search(r"4401\*{10}\d{3}[\dX]", text)
    assert path.stat().st_size < 60 * 1024


def test_fonts_are_embedded_subsets(tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(RECEIPTS[BusinessKind.TRANSFER], lang="both"))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        emb, sub = line.split()[-5:-3]
        assert (emb, sub) == ("yes", "yes"), line


def test_roll_receipt_is_80mm_wide_and_as_long_as_its_content(tmp_path):
    heights = {}
    for kind in (BusinessKind.CONTACT_CHANGE, BusinessKind.TRANSFER):
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(render_pdf(RECEIPTS[kind], layout="80mm", lang="both"))
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
        assert width == pytest.approx(80 / 25.4 * 72, abs=0.5)
        heights[kind] = height
    assert heights[BusinessKind.TRANSFER] > heights[BusinessKind.CONTACT_CHANGE]


def test_qr_code_decodes_to_the_signed_payload(tmp_path):
    content = RECEIPTS[BusinessKind.SUSPEND]
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(content, layout="80mm"))
    decoded = QrPayload.decode(qr_text(path, tmp_path))
    assert decoded == content.qr


def test_tampered_qr_payload_does_not_verify():
    # The terminal's public key alone checks a QR code.
    key = TERMINAL_KEY.public_hex
    from hallcore.signing import receipt_signature
    good = QrPayload("GZ-TH-01-T01-20261125-0001", "7f1c2a9e-0000-4000-8000-000000000001",
                     receipt_signature(TERMINAL_KEY, "GZ-TH-01-T01-20261125-0001",
                                       "7f1c2a9e-0000-4000-8000-000000000001"))
    decoded = QrPayload.decode(good.encode())
    assert signature_matches(key, decoded.receipt_no, decoded.operation_id, decoded.signature)
    forged = QrPayload.decode(good.encode().replace("-0001:", "-0002:"))
    assert not signature_matches(key, forged.receipt_no, forged.operation_id, forged.signature)
    with pytest.raises(ValueError):
        QrPayload.decode("https://example.com/phish")


def test_copy_and_sample_are_marked_in_the_title(tmp_path):
    from dataclasses import replace
    path = tmp_path / "copy.pdf"
    path.write_bytes(render_pdf(replace(RECEIPTS[BusinessKind.RESUME], marking=COPY),
                                lang="both"))
    text = pdftotext(path)
    assert "补打副本" in text and "COPY" in text
    path.write_bytes(render_pdf(RECEIPTS[BusinessKind.RESUME], lang="both"))
    assert "样张" in pdftotext(path) and "SAMPLE" in pdftotext(path)


def test_signature_line_where_the_customer_signs(tmp_path):
    for kind, content in RECEIPTS.items():
        path = tmp_path / "r.pdf"
        path.write_bytes(render_pdf(content))
        assert ("客户签名" in pdftotext(path)) is BUSINESS_TYPES[kind].customer_signs


def test_print_test_writes_a_sample_of_every_business_type(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path))
    out = tmp_path / "test-page.pdf"
    assert main(["print-test", "--layout", "80mm", "--lang", "both", "--out", str(out)]) == 0
    assert "7 sample receipts" in capsys.readouterr().out
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+7", info)


def test_receipt_qr_verifies_against_the_server_and_a_tampered_one_does_not(
        counters, tmp_path):
    from tests.support.counter import active_accounts, holder

    counter = counters()
    counter.engine.sync_once()
    [account] = active_accounts(counter, 1)
    payload = holder(account)
    recorded = counter.record("suspend", account.number, payload)
    content = build_receipt(recorded, account, payload, hall=HALL, terminal_id="T01",
                            clerk="gz-th-01-c1", pending=True, calendar=WEEKDAYS)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(content, layout="80mm"))
    scanned = QrPayload.decode(qr_text(path, tmp_path))

    verify = counter.api.verify_receipt
    assert verify(scanned.receipt_no, scanned.signature).known is False  # not pushed yet
    counter.engine.sync_once()
    answer = verify(scanned.receipt_no, scanned.signature)
    assert answer.known and answer.signature_valid and answer.outcome == "applied"
    tampered = scanned.signature[:-1] + ("0" if scanned.signature[-1] != "0" else "1")
    assert verify(scanned.receipt_no, tampered).signature_valid is False


def test_every_qr_code_decodes_from_a_coarse_scan(tmp_path):
    """Forty random payloads on the roll layout, rasterised at 100 dpi (coarser than any
    receipt printer): each must decode. One pixel a module at 26 mm failed about one in four."""
    import uuid
    from dataclasses import replace

    base = RECEIPTS[BusinessKind.SUSPEND]
    for _ in range(40):
        qr = QrPayload(base.receipt_no, str(uuid.uuid4()), uuid.uuid4().hex + uuid.uuid4().hex)
        path = tmp_path / "receipt.pdf"
        path.write_bytes(render_pdf(replace(base, qr=qr), layout="80mm"))
        subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path),
                        str(tmp_path / "page")], check=True)
        done = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page.png")],
                              capture_output=True, text=True)
        assert QrPayload.decode(done.stdout) == qr
