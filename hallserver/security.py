"""Passwords (argon2id, the parameters stored with each hash) and opaque bearer tokens (stored
as their SHA-256 only).

Hashes of an older scheme (salted scrypt) or older parameters are still checked, and replaced
at the clerk's next successful login (`needs_rehash`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): a login costs tens of milliseconds.
_ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    return _ARGON2.hash(password)


def _scrypt_matches(password: str, stored: str) -> bool:
    try:
        _, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def password_matches(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _scrypt_matches(password, stored)
    try:
        return _ARGON2.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash that matched should be replaced: another scheme or other parameters."""
    return stored.startswith("scrypt$") or _ARGON2.check_needs_rehash(stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
