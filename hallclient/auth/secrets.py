"""Secrets in the operating system's keyring (Windows Credential Manager, Secret Service).

Never in a file: where no real keyring backend works, HallClient stops with a message saying
how to get one, and it refuses keyrings.alt's plaintext or "encrypted file" backends, which the
keyring library would otherwise pick silently.
"""

from __future__ import annotations

from contextlib import suppress

import keyring
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import KeyringError, PasswordDeleteError

SERVICE = "HallClient"
# Backends that keep secrets in a file beside the user's other files.
_FILE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


class SecretStoreUnavailable(Exception):
    """No safe keyring: the message says what to install or start."""


class EphemeralKeyring(KeyringBackend):
    """Secrets in this process's memory only, gone when it ends: for the demo, whose
    throw-away terminal must run on machines without a keyring, and for tests.

    Only ever handed to SecretStore on purpose. The keyring library considers every backend
    class defined in the process when it picks one by itself; were this one a candidate, it
    would win over the library's "fail" backend on a machine without a keyring (and be chained
    behind the Secret Service on one with it), and the terminal's key and the clerk's session
    would silently vanish at every exit instead of the store saying what is missing."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("EphemeralKeyring is used only when handed to SecretStore")

    def __str__(self) -> str:  # the library's own says the priority, which this one lacks
        return f"{__name__}.EphemeralKeyring (in memory, handed in)"

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._values.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def _check_backend(backend: KeyringBackend) -> None:
    if isinstance(backend, EphemeralKeyring):
        return  # handed in on purpose: the demo, tests
    kind = type(backend)
    if kind.__module__.startswith(_FILE_BACKENDS) or backend.priority <= 0:
        raise SecretStoreUnavailable(
            f"No secure keyring is available (found {kind.__module__}.{kind.__qualname__}). "
            "On Windows the Credential Manager is used; on Linux start a Secret Service (GNOME "
            "Keyring or KWallet) in the desktop session. HallClient does not store secrets in "
            "files."
        )


class SecretStore:
    """The secrets of one terminal installation, named by hall and terminal."""

    def __init__(self, hall_id: str, terminal_id: str,
                 backend: KeyringBackend | None = None) -> None:
        self._backend = backend or keyring.get_keyring()
        _check_backend(self._backend)
        self._prefix = f"{hall_id}/{terminal_id}"

    def _name(self, key: str) -> str:
        return f"{self._prefix}/{key}"

    def get(self, key: str) -> str | None:
        try:
            return self._backend.get_password(SERVICE, self._name(key))
        except KeyringError as exc:
            raise SecretStoreUnavailable(f"The keyring could not be read: {exc}") from exc

    def set(self, key: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, self._name(key), value)
        except KeyringError as exc:
            raise SecretStoreUnavailable(f"The keyring could not be written: {exc}") from exc

    def delete(self, key: str) -> None:
        with suppress(PasswordDeleteError):  # nothing stored: already the wanted state
            self._backend.delete_password(SERVICE, self._name(key))
