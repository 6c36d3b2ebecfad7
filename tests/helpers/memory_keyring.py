"""An in-memory keyring backend for the store and GUI tests."""

from __future__ import annotations

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory, for tests only.

    Its priority raises, so keyring's own discovery never picks it up (the real keychain
    test must talk to the real OS keychain).
    """

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
