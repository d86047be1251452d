"""The receipt's QR code: receipt number, operation id and the terminal's signature.

The payload uses only QR's alphanumeric characters (upper case, digits, `:` and `-`), so it
fits a small symbol, and the mask is fixed: choosing the best of eight masks is what makes
pure-Python encoders slow (about 19 ms here against 3 ms), and any mask decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

PREFIX = "HC1"


@dataclass(frozen=True, slots=True)
class QrPayload:
    receipt_no: str
    operation_id: str  # canonical UUID text, lower case with dashes
    signature: str  # hex, lower case

    def encode(self) -> str:
        return ":".join((PREFIX, self.receipt_no, self.operation_id.replace("-", "").upper(),
                         self.signature.upper()))

    @classmethod
    def decode(cls, text: str) -> QrPayload:
        parts = text.strip().split(":")
        if len(parts) != 4 or parts[0] != PREFIX or len(parts[2]) != 32:
            raise ValueError(f"not a HallClient receipt code: {text[:60]!r}")
        raw = parts[2].lower()
        operation_id = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        return cls(parts[1], operation_id, parts[3].lower())


def qr_matrix(text: str) -> list[list[bool]]:
    """Dark (True) and light modules of the symbol, quiet zone excluded."""
    code = segno.make(text, error="m", mask=0, micro=False)
    return [[bool(module) for module in row] for row in code.matrix]
