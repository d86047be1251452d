"""The receipt signature carried in a receipt's QR code: HMAC-SHA256 with the terminal's key.

The terminal signs at the counter (offline too); the server, which holds the key registered by
the terminal, verifies. One function serves both sides.
"""

from __future__ import annotations

import hashlib
import hmac


def receipt_signature(terminal_key: str, receipt_no: str, operation_id: str) -> str:
    message = f"{receipt_no}|{operation_id}".encode()
    return hmac.new(terminal_key.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(
    terminal_key: str, receipt_no: str, operation_id: str, signature: str
) -> bool:
    expected = receipt_signature(terminal_key, receipt_no, operation_id)
    return hmac.compare_digest(expected, signature.lower())
