"""A keyring in a JSON file, shared by a test and the client processes it starts.

A test-only stand-in for the Secret Service; the product refuses file keyrings."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """Shared by the processes of one test through the file named by HALLCLIENT_TEST_KEYRING."""

    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["HALLCLIENT_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        values = self._load()
        values[f"{service}|{username}"] = password
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(values))
        os.replace(tmp, self.path)

    def delete_password(self, service: str, username: str) -> None:
        values = self._load()
        if values.pop(f"{service}|{username}", None) is None:
            raise PasswordDeleteError(username)
        self.path.write_text(json.dumps(values))
