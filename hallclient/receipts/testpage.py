"""Printer test pages: a sample receipt of every business type, marked as samples."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from hallclient.counter.signature import Stroke, signature_png
from hallclient.receipts.content import SAMPLE, HallInfo, ReceiptContent, build_receipt
from hallclient.samples import sample_account, sample_payload
from hallclient.store.operations import RecordedOperation
from hallcore.domain.business import BUSINESS_TYPES, apply_change, validate_payload
from hallcore.domain.deadlines import HALL_TZ, HallCalendar, WorkCalendar
from hallcore.signing import SigningKey, image_sha256, receipt_signature

# Where the customer signs, a sample's signature box holds these strokes (a wave and a loop),
# as a customer's signature from the customer's screen would be drawn there.
SAMPLE_SIGNATURE: tuple[Stroke, ...] = (
    ((10.0, 50.0), (40.0, 20.0), (70.0, 55.0), (100.0, 20.0), (130.0, 55.0), (160.0, 25.0)),
    ((190.0, 40.0), (215.0, 15.0), (240.0, 40.0), (215.0, 65.0), (190.0, 40.0)),
)


def sample_receipts(hall: HallInfo, terminal_id: str, now: datetime) -> list[ReceiptContent]:
    # Signed with a key made for this page only: a sample's QR code never verifies.
    key = SigningKey.generate()
    day = now.astimezone(HALL_TZ).strftime("%Y%m%d")
    # A sample's dates skip weekends alone, without the note an estimate prints.
    calendar = HallCalendar(WorkCalendar(frozenset(range(now.year - 1, now.year + 2))))
    receipts = []
    for n, (kind, btype) in enumerate(BUSINESS_TYPES.items(), start=1):
        before = None if btype.opens_account else sample_account(kind)
        payload = validate_payload(kind, sample_payload(
            kind, sample_account(kind), now.astimezone(HALL_TZ).date()))
        after = None if before is None else apply_change(kind, before, payload)
        operation_id = str(uuid.uuid4())
        receipt_no = f"{hall.hall_id}-{terminal_id}-{day}-{9000 + n}"
        signed = signature_png(SAMPLE_SIGNATURE) if btype.customer_signs else None
        recorded = RecordedOperation(
            operation_id, receipt_no, receipt_signature(
                key, receipt_no, operation_id, image_sha256(signed) if signed else None),
            now, kind, after, (), customer_signature=signed)
        content = build_receipt(recorded, before, payload, hall=hall, terminal_id=terminal_id,
                                clerk="print-test", pending=False, calendar=calendar)
        receipts.append(replace(content, marking=SAMPLE))
    return receipts
