"""Helpers shared by the GUI tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties

PROFILE = "Sandbox"


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend (never chosen by keyring's discovery)."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test-only backend")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("No such password!") from None
