"""Ed25519 signatures: receipts, terminals' logins and supervisors' offline sign-offs.

A terminal keeps its private key in the OS keyring; the server stores only public keys. A read
of the server's database therefore cannot forge a receipt, and a receipt's QR code can be
checked by anyone who has the terminal's public key. Each kind of message starts with its own
label, so a signature made for one purpose never passes for another.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

PUBLIC_KEY_PATTERN = r"^[0-9a-f]{64}$"  # 32 bytes, lowercase hex
SIGNATURE_PATTERN = r"^[0-9a-f]{128}$"  # 64 bytes, lowercase hex


class SigningKey:
    """An Ed25519 private key; kept as the hex of its 32-byte seed."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_hex(cls, seed: str) -> SigningKey:
        """Raises ValueError when `seed` is not the hex of a 32-byte seed."""
        raw = bytes.fromhex(seed)
        if len(raw) != 32:
            raise ValueError("an Ed25519 key is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def seed_hex(self) -> str:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                           NoEncryption()).hex()

    @property
    def public_hex(self) -> str:
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (hex) is the signature of `message` by `public_key` (hex); False
    for anything malformed."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return True


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def image_sha256(image: bytes) -> str:
    """The SHA-256 (hex) of the customer's signature image, as receipt signatures bind it."""
    return hashlib.sha256(image).hexdigest()


def receipt_message(receipt_no: str, operation_id: str,
                    customer_signature_sha256: str | None = None) -> bytes:
    """What a receipt's signature covers: what its QR code carries, and the SHA-256 (hex) of
    the customer's handwritten signature when they signed, so that a signature image swapped
    afterwards no longer matches. Without one, the message of the receipts made before
    customers signed on a screen: those still verify."""
    message = f"hallclient-receipt|{receipt_no}|{operation_id}"
    if customer_signature_sha256 is not None:
        message += f"|{customer_signature_sha256}"
    return message.encode()


def login_message(hall_id: str, terminal_id: str, installation_id: str, clerk: str,
                  signed_at: datetime) -> bytes:
    """What a terminal signs at a login: that this installation's key is present at the
    counter, for this clerk, at this time."""
    return (f"hallclient-login|{hall_id}|{terminal_id}|{installation_id}|{clerk}|"
            f"{_utc(signed_at)}").encode()


def approval_message(operation_id: str, account_number: str | None, business_type: str,
                     supervisor: str, created_at: datetime) -> bytes:
    """What a supervisor's offline sign-off covers: this operation, of this account and
    business type, recorded at this time."""
    return (f"hallclient-approval|{operation_id}|{account_number or ''}|{business_type}|"
            f"{supervisor}|{_utc(created_at)}").encode()


def receipt_signature(key: SigningKey, receipt_no: str, operation_id: str,
                      customer_signature_sha256: str | None = None) -> str:
    return key.sign(receipt_message(receipt_no, operation_id, customer_signature_sha256))


def signature_matches(public_key: str, receipt_no: str, operation_id: str, signature: str,
                      customer_signature_sha256: str | None = None) -> bool:
    return verify(public_key, receipt_message(receipt_no, operation_id,
                                              customer_signature_sha256), signature.lower())
