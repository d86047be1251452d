"""The customer's signature on the receipt: drawn in its box with its digest beside it, on
both layouts; a receipt without one says nothing of it."""

import io
import subprocess
from datetime import UTC, datetime

import pytest
from PIL import Image

from hallclient.receipts.content import HallInfo, build_receipt
from hallclient.receipts.history import reprint
from hallclient.receipts.render import render_pdf
from hallclient.store.operations import (
    RecordedOperation,
    TerminalIdentity,
    record_operation,
)
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.signing import image_sha256
from tests.support.factories import (
    OTHER_ID,
    TERMINAL_KEY,
    WEEKDAYS,
    account,
    holder_presents,
)
from tests.support.signatures import signature

HALL = HallInfo("GZ-TH-01", Text("广州供电局天河营业厅", "Tianhe Service Hall"))
TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
TRANSFER = {"new_holder_name": "林晓燕", "new_holder_id_type": "resident_id",
            "new_holder_id_number": OTHER_ID, "new_holder_phone": "13800138000"}


def transfer(cache, customer_signature):
    kept = []
    recorded = record_operation(
        cache, TERMINAL, clerk="gz-th-01-c1", kind=BusinessKind.TRANSFER,
        account_number="1000000001", raw_payload=TRANSFER, now=NOON_CST,
        customer_signature=customer_signature,
        describe=lambda rec, before, payload: kept.append(build_receipt(
            rec, before, payload, hall=HALL, terminal_id="T01", clerk="gz-th-01-c1",
            pending=True, calendar=WEEKDAYS)) or kept[0].to_json())
    return recorded, kept[0]


def images(pdf, tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    listed = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    return [line.split() for line in listed]


def text_of(pdf, tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("layout", ["a4", "80mm"])
def test_the_signature_is_drawn_with_its_digest(one_account_cache, layout, tmp_path):
    png = signature()
    _, content = transfer(one_account_cache, png)
    pdf = render_pdf(content, layout=layout, lang="both")
    # The QR code and the signature: the signature as the bilevel image it was made.
    drawn = images(pdf, tmp_path)
    assert len(drawn) == 2
    width, height = Image.open(io.BytesIO(png)).size
    assert [str(width), str(height)] in [row[3:5] for row in drawn]
    text = text_of(pdf, tmp_path)
    assert "客户签名" in text and "Customer's signature" in text
    digest = image_sha256(png)[:16]
    assert " ".join(digest[i:i + 4] for i in range(0, 16, 4)) in " ".join(text.split())


def test_a_receipt_without_a_signature_says_nothing_of_one(tmp_path):
    recorded = RecordedOperation("7f1c2a9e-0000-4000-8000-000000000001",
                                 "GZ-TH-01-T01-20261125-0001", "ab" * 64, NOON_CST,
                                 BusinessKind.SUSPEND, account(), ())
    content = build_receipt(recorded, account(), holder_presents(), hall=HALL,
                            terminal_id="T01", clerk="gz-th-01-c1", pending=True,
                            calendar=WEEKDAYS)
    pdf = render_pdf(content, lang="both")
    assert len(images(pdf, tmp_path)) == 1  # the QR code alone
    text = text_of(pdf, tmp_path)
    assert "签名" not in text and "signature" not in text.lower()


def test_a_paper_signature_line_stays_where_no_one_signed_on_the_screen(one_account_cache,
                                                                        tmp_path):
    _, content = transfer(one_account_cache, None)
    pdf = render_pdf(content, lang="both")
    assert len(images(pdf, tmp_path)) == 1
    text = text_of(pdf, tmp_path)
    assert "客户签名" in text and "SHA-256" not in text


def test_a_reprint_draws_the_signature_kept_with_the_operation(one_account_cache, tmp_path):
    png = signature()
    recorded, _ = transfer(one_account_cache, png)
    copy = reprint(one_account_cache, recorded.receipt_no, clerk="gz-th-01-c1", now=NOON_CST)
    assert copy.customer_signature == png
    assert copy.signature_digest is not None
    assert len(images(render_pdf(copy, layout="80mm"), tmp_path)) == 2
