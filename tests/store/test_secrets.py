from __future__ import annotations

import uuid

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from platform_support import require_real_keychain

from recotap_desktop.store.secrets import (
    ENV_VAR,
    SERVICE,
    KeychainUnavailable,
    KeyStore,
    describe_backend,
    resolve_api_key,
)
from tests.helpers.memory_keyring import MemoryKeyring

KEY = "rtp_live_0123456789abcdef"


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    set_password = get_password  # type: ignore[assignment]
    delete_password = get_password  # type: ignore[assignment]


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (matched by class name)."""


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.InitError("Failed to create the collection: D-Bus gone.")


@pytest.fixture
def fail_backend():
    """keyring's "no backend" situation, restored afterwards."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_set_get_delete(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(memory_keyring)
    store.check()
    assert store.get("Prod") is None
    store.set("Prod", KEY)
    assert memory_keyring.entries == {(SERVICE, "Prod"): KEY}
    assert store.get("Prod") == KEY
    store.set("Prod", KEY + "2")
    assert store.get("Prod") == KEY + "2"
    store.delete("Prod")
    assert store.get("Prod") is None
    store.delete("Prod")  # a missing entry is not an error
    with pytest.raises(ValueError):
        store.set("Prod", "")


def test_no_backend_gives_a_plain_explanation(fail_backend) -> None:
    store = KeyStore()
    assert store.backend_name() == "no system keychain"
    for call in (
        store.check,
        lambda: store.get("Prod"),
        lambda: store.set("Prod", KEY),
        lambda: store.delete("Prod"),
    ):
        with pytest.raises(KeychainUnavailable) as info:
            call()
        err = info.value
        assert err.reason == "none"
        assert "No system keychain is available" in err.message
        assert ENV_VAR in err.message
        assert "plain files" in err.message
        assert KEY not in err.message


def test_null_backend_is_unavailable_too() -> None:
    with pytest.raises(KeychainUnavailable) as info:
        KeyStore(keyring.backends.null.Keyring()).set("Prod", KEY)
    assert info.value.reason == "none"


def test_locked_keychain_says_so(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(LockedKeyring())
    with pytest.raises(KeychainUnavailable) as info:
        store.check()
    assert info.value.reason == "locked"
    assert "is locked" in info.value.message and ENV_VAR in info.value.message
    with pytest.raises(KeychainUnavailable):
        store.delete("Prod")  # locked is not "missing entry"


@pytest.mark.linux_only(reason="secretstorage (Secret Service) is keyring's Linux backend; "
                        "it is not installed on Windows or macOS")
def test_secretstorage_locked_exception_is_locked() -> None:
    import secretstorage.exceptions as secretstorage_exceptions

    class SSLocked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise secretstorage_exceptions.LockedException("Item is locked!")

    with pytest.raises(KeychainUnavailable) as info:
        KeyStore(SSLocked()).get("Prod")
    assert info.value.reason == "locked"


def test_broken_keychain_is_reported_not_hidden() -> None:
    with pytest.raises(KeychainUnavailable) as info:
        KeyStore(BrokenKeyring()).get("Prod")
    assert info.value.reason == "error"
    assert "could not be used" in info.value.message and ENV_VAR in info.value.message


def test_plaintext_file_backends_are_refused() -> None:
    backend = PlaintextKeyring()
    store = KeyStore(backend)
    with pytest.raises(KeychainUnavailable) as info:
        store.set("Prod", KEY)
    assert info.value.reason == "file"
    assert backend.entries == {}  # nothing written to the file-based keyring
    assert "file" in store.backend_name()


def test_backend_names_in_plain_words() -> None:
    fake_classes = {
        "keyring.backends.SecretService": ("Keyring", "GNOME Keyring / Secret Service"),
        "keyring.backends.Windows": ("WinVaultKeyring", "Windows Credential Locker"),
        "keyring.backends.macOS": ("Keyring", "macOS Keychain"),
        "somewhere.else": ("FancyVault", "FancyVault"),
    }
    for module, (name, words) in fake_classes.items():
        cls = type(name, (MemoryKeyring,), {"__module__": module, "__qualname__": name})
        assert describe_backend(cls()) == words
        assert KeyStore(cls()).backend_name() == words


def test_resolve_prefers_the_environment(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(memory_keyring)
    store.set("Prod", KEY)
    assert resolve_api_key("Prod", store, {ENV_VAR: "  rtp_env_key  "}) == ("rtp_env_key", "env")
    assert resolve_api_key("Prod", store, {}) == (KEY, "keychain")
    assert resolve_api_key("Other", store, {ENV_VAR: ""}) == (None, None)
    assert resolve_api_key(None, store, {}) == (None, None)


def test_resolve_env_works_without_keychain(fail_backend) -> None:
    assert resolve_api_key("Prod", KeyStore(), {ENV_VAR: KEY}) == (KEY, "env")
    with pytest.raises(KeychainUnavailable):
        resolve_api_key("Prod", KeyStore(), {})


def test_repr_never_shows_a_key(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(memory_keyring)
    store.set("Prod", KEY)
    assert KEY not in repr(store)


@pytest.mark.keychain
def test_real_os_keychain_round_trip() -> None:
    """Store, read and delete a key in the real OS keychain (GNOME Keyring in CI)."""
    require_real_keychain()
    store = KeyStore()

    profile = f"pytest-{uuid.uuid4().hex}"
    key = f"rtp_test_{uuid.uuid4().hex}"
    try:
        store.check()
        assert store.backend_name() not in ("", "no system keychain")
        assert store.get(profile) is None
        store.set(profile, key)
        assert store.get(profile) == key
        assert keyring.get_password(SERVICE, profile) == key  # really in the OS keychain
        assert resolve_api_key(profile, store, {}) == (key, "keychain")
    finally:
        store.delete(profile)
    assert store.get(profile) is None
    store.delete(profile)  # deleting a missing entry is fine
