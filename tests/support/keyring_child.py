"""The client process of tests/client/test_secret_service.py: a SecretStore on whatever backend the
keyring library picks by itself in the environment (and D-Bus session) it was started in.

    keyring_child.py open            only open the store
    keyring_child.py store  < JSON   store {key: secret}, read each back
    keyring_child.py reread < JSON   read each back, delete it, read it again

Prints one JSON report: the backend chosen, and what was read, or the store's refusal.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import keyring

from hallclient.auth.secrets import SecretStore, SecretStoreUnavailable

HALL, TERMINAL = "GZ-TH-01", "T01"


def run(mode: str) -> dict[str, Any]:
    backend = keyring.get_keyring()
    report: dict[str, Any] = {
        "backend": f"{type(backend).__module__}.{type(backend).__qualname__}"}
    try:
        store = SecretStore(HALL, TERMINAL)  # no backend given: the library's own choice
    except SecretStoreUnavailable as exc:
        report["refused"] = str(exc)
        return report
    if mode == "open":
        return report
    secrets: dict[str, str] = json.loads(sys.stdin.read())
    if mode == "store":
        for key, value in secrets.items():
            store.set(key, value)
    report["read"] = {key: store.get(key) for key in secrets}
    if mode == "reread":
        for key in secrets:
            store.delete(key)
        report["after_delete"] = {key: store.get(key) for key in secrets}
    return report


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1])))
