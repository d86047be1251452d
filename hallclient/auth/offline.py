"""Logging in without the server: after an online login, the clerk's password can be checked
locally for a number of days, against a salted scrypt hash kept in the keyring. Repeated
failures lock the clerk out for a while; the verifier expires, so a clerk who was removed on
the server cannot keep working offline for long."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from hallclient.auth.secrets import SecretStore

OFFLINE_DAYS = 7
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class OfflineLoginRefused(Exception):
    pass


@dataclass(frozen=True, slots=True)
class OfflineClerk:
    clerk: str
    name: str
    role: str


def _digest(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT).hex()


def remember(store: SecretStore, clerk: str, name: str, role: str, password: str,
             now: datetime) -> None:
    """After an online login: keep what is needed to check this password offline."""
    salt = secrets.token_bytes(16)
    store.set(f"offline/{clerk}", json.dumps({
        "salt": salt.hex(), "hash": _digest(password, salt), "name": name, "role": role,
        "at": now.isoformat()}))
    store.delete(f"offline-failures/{clerk}")


def check(store: SecretStore, clerk: str, password: str, now: datetime, *,
          max_age: timedelta = timedelta(days=OFFLINE_DAYS)) -> OfflineClerk:
    raw = store.get(f"offline/{clerk}")
    if raw is None:
        raise OfflineLoginRefused(f"{clerk} has not logged in online on this terminal, so "
                                  "cannot log in while the server is unreachable.")
    record = json.loads(raw)
    failures = json.loads(store.get(f"offline-failures/{clerk}") or '{"n": 0}')
    locked_until = failures.get("until")
    if locked_until and datetime.fromisoformat(locked_until) > now:
        raise OfflineLoginRefused(f"Too many wrong passwords: {clerk} is locked until "
                                  f"{datetime.fromisoformat(locked_until):%H:%M}.")
    if now - datetime.fromisoformat(record["at"]) > max_age:
        raise OfflineLoginRefused(f"{clerk}'s last online login is more than {max_age.days} "
                                  "days ago; log in once the server can be reached.")
    if not hmac.compare_digest(_digest(password, bytes.fromhex(record["salt"])),
                               record["hash"]):
        n = failures.get("n", 0) + 1
        failed: dict[str, object] = {"n": n}
        if n >= MAX_FAILURES:
            failed = {"n": 0, "until": (now + LOCKOUT).isoformat()}
        store.set(f"offline-failures/{clerk}", json.dumps(failed))
        raise OfflineLoginRefused("The clerk id or password is wrong.")
    store.delete(f"offline-failures/{clerk}")
    return OfflineClerk(clerk, record["name"], record["role"])
