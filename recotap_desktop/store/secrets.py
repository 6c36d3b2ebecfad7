"""API keys in the operating system's keychain, through ``keyring``.

Entries use service ``"recotap-desktop"`` and the connection (profile) name as user
name. Where the key is stored is said plainly (:meth:`KeyStore.backend_name`).

Keychain honesty: when no system keychain is usable (keyring's ``fail``/``null``
backends, a plaintext or file-based backend from ``keyrings.alt``, a locked collection,
a D-Bus error ...) every operation raises :class:`KeychainUnavailable`, whose message
says so and explains the ``RECOTAP_API_KEY`` environment variable alternative. There is
never a fallback to a file written by this app.

The key itself is never logged, printed nor put in an exception message.

``keyring`` (and its backend discovery) is imported on the first keychain operation,
not with this module, so the app's start-up does not pay for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from recotap_desktop.errors import UserError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "ENV_VAR",
    "SERVICE",
    "KeySource",
    "KeyStore",
    "KeychainUnavailable",
    "resolve_api_key",
]

SERVICE = "recotap-desktop"
ENV_VAR = "RECOTAP_API_KEY"

KeySource = Literal["env", "keychain"]

_ENV_HINT = (
    f"You can still use recotap-desktop: set the environment variable {ENV_VAR} to your API "
    "key before starting it (or the recotap command); the key is then read from there and "
    "never saved. recotap-desktop does not store API keys in plain files."
)

# Backend classes (module prefix, class name) -> plain words.
_BACKEND_NAMES: list[tuple[str, str, str]] = [
    ("keyring.backends.SecretService", "Keyring", "GNOME Keyring / Secret Service"),
    ("keyring.backends.libsecret", "Keyring", "GNOME Keyring / Secret Service (libsecret)"),
    ("keyring.backends.Windows", "WinVaultKeyring", "Windows Credential Locker"),
    ("keyring.backends.macOS", "Keyring", "macOS Keychain"),
    ("keyring.backends.kwallet", "DBusKeyring", "KDE Wallet"),
    ("keyring.backends.kwallet", "DBusKeyringKWallet4", "KDE Wallet"),
]

_UNUSABLE_MODULES = ("keyring.backends.fail", "keyring.backends.null")
# keyrings.alt backends that keep secrets in a file (plaintext or weakly encrypted).
_FILE_BACKEND_MODULES = ("keyrings.alt.file", "keyrings.alt.Gnome", "keyrings.alt.pyfs")
_FILE_BACKEND_CLASSES = {"PlaintextKeyring", "EncryptedKeyring"}


def _keyring() -> ModuleType:
    """The ``keyring`` package, with ``keyring.errors`` and ``keyring.backend`` loaded."""
    import keyring
    import keyring.backend
    import keyring.errors

    return keyring


class KeychainUnavailable(UserError):
    """No usable system keychain. ``message`` explains and names ``RECOTAP_API_KEY``.

    ``reason`` is one of ``"none"`` (no keychain), ``"file"`` (only a file-based
    keyring is installed), ``"locked"`` and ``"error"`` (the keychain failed).
    """

    def __init__(self, message: str, *, reason: str, backend: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.backend = backend


def _class_path(backend: object) -> tuple[str, str]:
    cls = type(backend)
    return cls.__module__, cls.__qualname__


def _is_locked_error(exc: BaseException) -> bool:
    if isinstance(exc, _keyring().errors.KeyringLocked):
        return True
    try:
        from secretstorage.exceptions import LockedException
    except ImportError:  # pragma: no cover - secretstorage is absent off Linux
        return False
    return isinstance(exc, LockedException)


def _keychain_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [_keyring().errors.KeyringError, RuntimeError, OSError]
    try:
        from secretstorage.exceptions import SecretStorageException
    except ImportError:  # pragma: no cover - secretstorage is absent off Linux
        pass
    else:
        errors.append(SecretStorageException)
    try:
        from jeepney.wrappers import DBusErrorResponse
    except ImportError:  # pragma: no cover
        pass
    else:
        errors.append(DBusErrorResponse)
    return tuple(errors)


class KeyStore:
    """API keys per profile in the system keychain.

    ``backend`` defaults to keyring's active backend, looked up at each call (so a
    backend configured later, e.g. with ``keyring.set_keyring``, is honoured).
    """

    def __init__(self, backend: KeyringBackend | None = None, *,
                 before_first_use: Callable[[], None] | None = None) -> None:
        self._backend = backend
        #: Called once, before the first operation that reaches a usable keychain (the
        #: macOS explanation of the OS prompt that may follow; see platform_checks).
        self.before_first_use = before_first_use
        self._first_use_done = False
        self._first_use_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyStore(backend={self.backend_name()!r})"

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend in use."""
        if self._backend is not None:
            return self._backend
        backend: KeyringBackend = _keyring().get_keyring()
        return backend

    # ------------------------------------------------------------ description
    def backend_name(self) -> str:
        """Where keys are stored, in plain words (e.g. ``"macOS Keychain"``)."""
        return describe_backend(self.backend)

    def _unavailable_reason(self, backend: KeyringBackend) -> str | None:
        for inner in _flatten(backend):
            module, name = _class_path(inner)
            if module.startswith(_FILE_BACKEND_MODULES) or name in _FILE_BACKEND_CLASSES:
                return "file"
        usable = [
            b for b in _flatten(backend) if not _class_path(b)[0].startswith(_UNUSABLE_MODULES)
        ]
        return None if usable else "none"

    def _raise_for(
        self, reason: str, backend: KeyringBackend, exc: BaseException | None = None
    ) -> None:
        name = describe_backend(backend)
        if reason == "none":
            message = (
                "No system keychain is available on this computer (no Secret Service, "
                "Credential Locker or Keychain was found), so the API key cannot be stored "
                f"safely. {_ENV_HINT}"
            )
        elif reason == "file":
            message = (
                f"The only keychain available ({name}) keeps secrets in a file, which "
                f"recotap-desktop does not use for API keys. {_ENV_HINT}"
            )
        elif reason == "locked":
            message = (
                f"The system keychain ({name}) is locked. Unlock it (log in to your desktop "
                f"session or open your keychain/password manager) and try again. {_ENV_HINT}"
            )
        else:
            detail = type(exc).__name__ if exc is not None else "unknown error"
            message = (
                f"The system keychain ({name}) could not be used ({detail}). Check that it "
                f"is running and unlocked, then try again. {_ENV_HINT}"
            )
        raise KeychainUnavailable(message, reason=reason, backend=name) from exc

    def _usable_backend(self) -> KeyringBackend:
        backend = self.backend
        reason = self._unavailable_reason(backend)
        if reason is not None:
            self._raise_for(reason, backend)
        self._first_use()
        return backend

    def _first_use(self) -> None:
        # Other threads wait here until the hook returned: none reaches the keychain
        # (and its OS prompt) before the explanation was shown.
        if self._first_use_done or self.before_first_use is None:
            return
        with self._first_use_lock:
            if self._first_use_done:
                return
            try:
                self.before_first_use()
            finally:
                self._first_use_done = True

    def _call(self, backend: KeyringBackend, op: str, *args: str) -> Any:
        errors = _keyring().errors
        try:
            return getattr(backend, op)(*args)
        except errors.NoKeyringError as exc:
            self._raise_for("none", backend, exc)
        except _keychain_errors() as exc:
            self._raise_for("locked" if _is_locked_error(exc) else "error", backend, exc)

    # ------------------------------------------------------------ operations
    def check(self) -> None:
        """Raise :class:`KeychainUnavailable` unless the keychain can be read now.

        Reads a probe entry, so a locked keychain may show the system's unlock prompt.
        """
        backend = self._usable_backend()
        self._call(backend, "get_password", SERVICE, "__recotap-desktop-probe__")

    def get(self, profile: str) -> str | None:
        """The API key stored for ``profile``, or ``None``."""
        backend = self._usable_backend()
        value = self._call(backend, "get_password", SERVICE, profile)
        return value if isinstance(value, str) and value else None

    def set(self, profile: str, key: str) -> None:
        """Store (or replace) the API key for ``profile``."""
        if not key:
            raise ValueError("an empty API key cannot be stored")
        backend = self._usable_backend()
        self._call(backend, "set_password", SERVICE, profile, key)

    def delete(self, profile: str) -> None:
        """Remove the key of ``profile``; a missing entry is not an error."""
        backend = self._usable_backend()
        errors = _keyring().errors
        try:
            backend.delete_password(SERVICE, profile)
        except errors.PasswordDeleteError:
            # keyring's "no such password" (other failures are KeyringError/locked/...).
            return
        except errors.NoKeyringError as exc:
            self._raise_for("none", backend, exc)
        except _keychain_errors() as exc:
            self._raise_for("locked" if _is_locked_error(exc) else "error", backend, exc)


def _flatten(backend: KeyringBackend) -> list[KeyringBackend]:
    """The real backends behind keyring's chainer (or the backend itself)."""
    inner = getattr(backend, "backends", None)
    if _class_path(backend)[0] == "keyring.backends.chainer" and isinstance(inner, list | tuple):
        # An empty chain silently does nothing: treated as "no keychain" by the callers.
        base = _keyring().backend.KeyringBackend
        return [b for b in inner if isinstance(b, base)]
    return [backend]


def describe_backend(backend: KeyringBackend) -> str:
    """Plain words for a keyring backend; its class name when unknown."""
    parts = []
    for inner in _flatten(backend):
        module, name = _class_path(inner)
        words = name
        if module.startswith(_UNUSABLE_MODULES):
            words = "no system keychain"
        elif module.startswith(_FILE_BACKEND_MODULES) or name in _FILE_BACKEND_CLASSES:
            words = f"a file-based keyring ({name})"
        else:
            for prefix, cls_name, plain in _BACKEND_NAMES:
                if module.startswith(prefix) and name == cls_name:
                    words = plain
                    break
        if words not in parts:
            parts.append(words)
    return " + ".join(parts) or "no system keychain"


def resolve_api_key(
    profile: str | None,
    keystore: KeyStore,
    env: Mapping[str, str] = os.environ,
) -> tuple[str | None, KeySource | None]:
    """Find the API key to use: ``RECOTAP_API_KEY`` first, then the keychain entry.

    Returns ``(key, "env")``, ``(key, "keychain")`` or ``(None, None)``. When the
    environment variable is unset and the keychain is unusable,
    :class:`KeychainUnavailable` propagates so the caller can show its message.
    """
    from_env = env.get(ENV_VAR, "").strip()
    if from_env:
        return from_env, "env"
    if profile is None:
        return None, None
    key = keystore.get(profile)
    return (key, "keychain") if key else (None, None)
