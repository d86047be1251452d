"""The customer's handwritten signature: strokes to a small PNG, bound to the receipt."""

import io
import random
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from hallclient.counter.signature import (
    MAX_HEIGHT,
    MAX_WIDTH,
    NOT_SIGNED,
    TOO_SHORT,
    SignatureRefused,
    signature_png,
)
from hallclient.store.models import OutboxRow, ReceiptRow
from hallclient.store.operations import TerminalIdentity, record_operation
from hallcore.domain.business import BusinessKind
from hallcore.signing import image_sha256, receipt_signature, signature_matches
from hallcore.wire import MAX_SIGNATURE_BYTES
from tests.support.factories import TERMINAL_KEY, holder_presents
from tests.support.signatures import STROKES, other_signature, signature

TERMINAL = TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY)
NOON_CST = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
RECEIPT, OPERATION = "GZ-TH-01-T01-20261125-0001", "7f1c2a9e-0000-4000-8000-000000000001"


def test_strokes_make_a_png_cropped_to_the_ink():
    png = signature()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    # The strokes span 180 x 50 pixels of the pad; the image is that with a small margin,
    # wherever on the pad they were drawn.
    assert 180 <= image.width <= 200 and 50 <= image.height <= 70
    moved = [[(x + 300, y + 200) for x, y in stroke] for stroke in STROKES]
    assert signature_png(moved) == png
    assert image.convert("L").getextrema() == (0, 255)  # black ink on white


def test_the_same_strokes_give_the_same_bytes():
    assert signature() == signature()
    assert signature() != other_signature()


def test_a_large_signature_is_scaled_down_to_fit():
    wide = [[(x * 5.0, y * 5.0) for x, y in stroke] for stroke in STROKES]
    image = Image.open(io.BytesIO(signature_png(wide)))
    assert image.width <= MAX_WIDTH and image.height <= MAX_HEIGHT


def test_no_scribble_exceeds_the_size_limit():
    # Noise all over the pad: the least compressible image the pen can make.
    rnd = random.Random(7)
    scribble = [[(rnd.uniform(0, 1200), rnd.uniform(0, 400)) for _ in range(4000)]
                for _ in range(5)]
    assert len(signature_png(scribble)) <= MAX_SIGNATURE_BYTES


@pytest.mark.parametrize(("strokes", "reason"), [
    ([], NOT_SIGNED),
    ([[]], NOT_SIGNED),
    ([[(10.0, 10.0)]], TOO_SHORT),  # a tap
    ([[(10.0, 10.0), (40.0, 12.0)]], TOO_SHORT),  # a tick
])
def test_an_empty_or_too_short_signature_is_refused_in_both_languages(strokes, reason):
    with pytest.raises(SignatureRefused) as refused:
        signature_png(strokes)
    assert refused.value.reason == reason
    assert refused.value.reason.zh and refused.value.reason.en


def test_the_receipt_signature_covers_the_customer_signature():
    digest = image_sha256(signature())
    signed = receipt_signature(TERMINAL_KEY, RECEIPT, OPERATION, digest)
    key = TERMINAL_KEY.public_hex
    assert signature_matches(key, RECEIPT, OPERATION, signed, digest)
    # A swapped image, or the signature left out, no longer matches.
    assert not signature_matches(key, RECEIPT, OPERATION, signed, image_sha256(
        other_signature()))
    assert not signature_matches(key, RECEIPT, OPERATION, signed)


def test_a_receipt_without_a_customer_signature_verifies_as_before():
    # Signed as terminals did before customers signed on a screen.
    old = TERMINAL_KEY.sign(f"hallclient-receipt|{RECEIPT}|{OPERATION}".encode())
    assert receipt_signature(TERMINAL_KEY, RECEIPT, OPERATION) == old
    assert signature_matches(TERMINAL_KEY.public_hex, RECEIPT, OPERATION, old)


def test_a_recorded_request_signs_its_receipt_with_the_signature_hash(one_account_cache):
    png = signature()
    done = record_operation(one_account_cache, TERMINAL, clerk="gz-th-01-c1",
                            kind=BusinessKind.SUSPEND, account_number="1000000001",
                            raw_payload=holder_presents(), now=NOON_CST,
                            customer_signature=png)
    with one_account_cache.read() as s:
        op = s.scalars(select(OutboxRow)).one()
        receipt = s.scalars(select(ReceiptRow)).one()
    assert op.customer_signature == png and done.customer_signature == png
    key = TERMINAL_KEY.public_hex
    assert signature_matches(key, receipt.receipt_no, op.operation_id, receipt.signature,
                             image_sha256(png))
    assert not signature_matches(key, receipt.receipt_no, op.operation_id, receipt.signature)
