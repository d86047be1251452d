"""Receipt verification: is this receipt (number + QR signature) one the server knows?"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from hallcore.domain.business import BusinessKind
from hallcore.signing import SIGNATURE_PATTERN, image_sha256, signature_matches
from hallcore.wire import RECEIPT_NO_PATTERN, Outcome, ReceiptVerification
from hallserver.api.deps import CallerDep, SessionDep
from hallserver.models import OperationRow
from hallserver.terminals import signing_keys

router = APIRouter(tags=["receipts"])


@router.get("/receipts/{receipt_no}", response_model=ReceiptVerification,
            response_model_exclude_none=True)
def verify_receipt(
    caller: CallerDep,
    session: SessionDep,
    receipt_no: Annotated[str, Path(pattern=RECEIPT_NO_PATTERN)],
    signature: Annotated[str, Query(pattern=SIGNATURE_PATTERN)],
) -> ReceiptVerification:
    op = session.scalars(select(OperationRow).where(OperationRow.receipt_no == receipt_no)
                         ).one_or_none()
    # The customer's signature kept with the operation is part of what the receipt signed:
    # an image changed in the database since no longer verifies.
    if op is None or not any(
            signature_matches(key, receipt_no, op.operation_id, signature,
                              image_sha256(op.customer_signature)
                              if op.customer_signature is not None else None)
            for key in signing_keys(session, op.hall_id, op.terminal_id)):
        # A wrong signature is answered as an unknown number: whether a number exists is
        # told only to whoever holds its receipt.
        return ReceiptVerification(receipt_no=receipt_no, known=False, signature_valid=False)
    return ReceiptVerification(
        receipt_no=receipt_no, known=True, signature_valid=True,
        business_type=BusinessKind(op.business_type), outcome=Outcome(op.outcome),
        hall_id=op.hall_id, received_at=op.received_at)
