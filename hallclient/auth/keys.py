"""The keys a terminal keeps in the OS keyring.

- The terminal's Ed25519 key: signs every receipt and proves at each login that this
  installation is present. Made on first use; the server knows only its public half, which a
  supervisor of the hall approves before the terminal may work.
- A supervisor's approval key on this terminal: signs their sign-offs while the server cannot
  be reached. Its private half is sealed with a key derived from the supervisor's password
  (scrypt with a salt of its own, AES-GCM), so it cannot be used, nor derived from the offline
  login verifier, without that password. Its public half is registered with the server at the
  supervisor's online login or sign-off here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hallclient.auth.secrets import SecretStore
from hallcore.signing import SigningKey

TERMINAL_KEY = "terminal_signing_key"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024}


def terminal_key(store: SecretStore) -> SigningKey:
    """This installation's signing key, made on first use and kept in the keyring."""
    seed = store.get(TERMINAL_KEY)
    if seed is not None:
        return SigningKey.from_hex(seed)
    key = SigningKey.generate()
    store.set(TERMINAL_KEY, key.seed_hex)
    return key


class ApprovalKeyUnavailable(Exception):
    """No approval key of this supervisor on this terminal, or not with this password."""


def _approval_entry(supervisor: str) -> str:
    return f"approval-key/{supervisor}"


def _sealing_key(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)


def unlock_approval_key(store: SecretStore, supervisor: str, password: str) -> SigningKey:
    """The supervisor's approval key on this terminal; raises ApprovalKeyUnavailable."""
    raw = store.get(_approval_entry(supervisor))
    if raw is None:
        raise ApprovalKeyUnavailable(supervisor)
    sealed = json.loads(raw)
    try:
        seed = AESGCM(_sealing_key(password, bytes.fromhex(sealed["salt"]))).decrypt(
            bytes.fromhex(sealed["nonce"]), bytes.fromhex(sealed["sealed"]),
            supervisor.encode())
    except InvalidTag:
        raise ApprovalKeyUnavailable(supervisor) from None
    return SigningKey.from_hex(seed.decode())


@dataclass(frozen=True, slots=True)
class PreparedApprovalKey:
    """A supervisor's approval key for this terminal, ready to be registered with the server
    and kept once the server has accepted their password: a wrong password must not replace
    the key kept here, nor a sign-off the server never saw leave an unregistered one."""

    supervisor: str
    public_hex: str
    sealed: str | None  # the keyring entry to write; None: the one kept opens already


def prepare_approval_key(store: SecretStore, supervisor: str, password: str
                         ) -> PreparedApprovalKey:
    """The supervisor's approval key here when this password opens it, else a new one sealed
    with it; nothing is written (`keep_approval_key`)."""
    try:
        return PreparedApprovalKey(
            supervisor, unlock_approval_key(store, supervisor, password).public_hex, None)
    except ApprovalKeyUnavailable:
        pass
    key = SigningKey.generate()
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(password, salt)).encrypt(nonce, key.seed_hex.encode(),
                                                          supervisor.encode())
    return PreparedApprovalKey(supervisor, key.public_hex, json.dumps(
        {"salt": salt.hex(), "nonce": nonce.hex(), "sealed": sealed.hex(),
         "public": key.public_hex}))


def keep_approval_key(store: SecretStore, prepared: PreparedApprovalKey) -> None:
    """After the server accepted the supervisor's password and registered the key."""
    if prepared.sealed is not None:
        store.set(_approval_entry(prepared.supervisor), prepared.sealed)
