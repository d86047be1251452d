"""Printer test pages: a sample receipt of every business type, marked as samples."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from hallclient.receipts.content import SAMPLE, HallInfo, ReceiptContent, build_receipt
from hallclient.samples import sample_account, sample_payload, sample_signature
from hallclient.store.operations import RecordedOperation
from hallcore.domain.business import BUSINESS_TYPES, apply_change, validate_payload
from hallcore.domain.deadlines import HALL_TZ, HallCalendar, WorkCalendar
from hallcore.signing import SigningKey, image_sha256, receipt_signature


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
        signed = sample_signature(kind)
        recorded = RecordedOperation(
            operation_id, receipt_no, receipt_signature(
                key, receipt_no, operation_id, image_sha256(signed) if signed else None),
            now, kind, after, (), customer_signature=signed)
        content = build_receipt(recorded, before, payload, hall=hall, terminal_id=terminal_id,
                                clerk="print-test", pending=False, calendar=calendar)
        receipts.append(replace(content, marking=SAMPLE))
    return receipts
