"""Passwords (argon2id, the parameters stored with each hash) and opaque bearer tokens (stored
as their SHA-256 only).

Hashes of an older scheme (salted scrypt) or older parameters are still checked, and replaced
at the clerk's next successful login (`needs_rehash`)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hallcore.domain.text import Text

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


@functools.cache
def _unmatchable_hash() -> str:
    """A hash of a random password, made once, checked where there is no clerk's hash to
    check: a login that does not exist then takes as long to refuse as a wrong password, and
    the answer's time does not tell one from the other."""
    return _ARGON2.hash(secrets.token_urlsafe(24))


def password_matches(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` was made of; None (no such clerk) never matches,
    after the same work."""
    if stored is None:
        password_matches(password, _unmatchable_hash())
        return False
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


# One-time passwords: no characters a clerk misreads from paper (0/O/o, 1/l/I, 8/B).
_ONE_TIME_ALPHABET = "".join(c for c in string.ascii_letters + string.digits
                             if c not in "0Oo1lI8B")
ONE_TIME_PASSWORD_LENGTH = 12
MIN_PASSWORD_LENGTH = 8


def one_time_password() -> str:
    return "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(ONE_TIME_PASSWORD_LENGTH))


def password_problem(password: str, login: str) -> Text | None:
    """Why `password` may not be a clerk's own password; None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Text(f"新密码至少要 {MIN_PASSWORD_LENGTH} 个字符",
                    f"the new password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 200:
        return Text("新密码最多 200 个字符", "the new password has at most 200 characters")
    if login.casefold() in password.casefold():
        return Text("新密码不能包含工号", "the new password must not contain the clerk id")
    if password.isdigit() or password.isalpha():
        return Text("新密码要同时包含字母和数字（或其他符号）",
                    "the new password needs letters and also digits or other symbols")
    return None
