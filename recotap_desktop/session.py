"""One session, both faces (DESIGN.md): turning a connection profile into a connection,
finding its API key, the settings and the custom fields a kind needs, in one Qt-free
place that ``recotap`` (:class:`recotap_desktop.cli.context.Context`) and the app
(:class:`recotap_desktop.ui.services.Services`) both delegate to.

The rule, the same for the command line and the window (:meth:`Session.address`):

* base URL: ``--base-url`` (command line), else ``RECOTAP_BASE_URL``, else the
  profile's, else the edition's default;
* edition: ``--edition``, else the profile's, else crm;
* plain http to a host that is not loopback: ``--allow-insecure-http`` or the profile's
  own choice.

Where the API key comes from, in order (:meth:`Session.key_for`):

1. the demo key of ``--demo`` (memory only, never written anywhere),
2. ``RECOTAP_API_KEY`` in the environment,
3. a key typed in this session while no keychain was usable (memory only),
4. the OS keychain entry of the profile (:class:`~recotap_desktop.store.secrets.KeyStore`).

The demo connection (the app's in-process sandbox) is the one exception to the
environment: its address and its key are the sandbox's whatever ``RECOTAP_BASE_URL``
and ``RECOTAP_API_KEY`` say, so the demo never sends anything elsewhere.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from recotap_desktop.domain.editions import Edition
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import load_custom_fields
from recotap_desktop.engine.run_target import RunTarget
from recotap_desktop.errors import EXIT_API, UserError
from recotap_desktop.records import needs_custom_fields
from recotap_desktop.store.paths import AppPaths
from recotap_desktop.store.secrets import ENV_VAR, KeyStore
from recotap_desktop.store.settings import Profile, Settings

__all__ = [
    "ENV_BASE_URL",
    "Address",
    "KeyOrigin",
    "NoApiKey",
    "Overrides",
    "Session",
]

#: The environment variable that points every connection of a session elsewhere.
ENV_BASE_URL = "RECOTAP_BASE_URL"

KeyOrigin = Literal["demo", "env", "session", "keychain"]


class NoApiKey(UserError):
    """No key is known for a connection. Each face words what to do about it (the
    command line names ``recotap auth set``, the app its Connections dialog)."""

    exit_code = EXIT_API

    def __init__(self, profile: str, message: str | None = None) -> None:
        super().__init__(message or (
            f"There is no API key for the connection “{profile}”. Store one in the "
            f"keychain, or set the environment variable {ENV_VAR}."))
        self.profile = profile


@dataclass(frozen=True)
class Overrides:
    """What the command line sets over every profile (``--base-url``, ``--edition``,
    ``--allow-insecure-http``); the app has none."""

    base_url: str | None = None
    edition: str | None = None
    allow_insecure_http: bool = False


@dataclass(frozen=True)
class Address:
    """Where a profile sends, the overrides applied (the key aside)."""

    base_url: str | None
    edition: str
    allow_insecure_http: bool


class Session:
    """Paths, settings, keychain and the connection rule of one run of a face.

    ``settings`` is read from ``paths`` on first use unless given (the app reads it at
    start, the command line only when a command needs it); reading it may raise the
    store's :class:`~recotap_desktop.store.settings.SettingsError` or
    :class:`~recotap_desktop.store.paths.DataDirError`.
    """

    def __init__(
        self,
        paths: AppPaths,
        keystore: KeyStore,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Overrides | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.paths = paths
        self.keystore = keystore
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.overrides = overrides or Overrides()
        self._settings = settings
        #: Called with every API key about to be used, so logs can redact it.
        self.register_secret: Callable[[str], None] | None = None
        #: Demo mode: the sandbox key (memory only) and the profile it belongs to.
        self.demo_key: str | None = None
        self.demo_profile: str | None = None
        self._memory_keys: dict[str, str] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> Settings:
        """The settings, read from the data folder on first use."""
        if self._settings is None:
            self._settings = Settings.load(self.paths.ensure())
        return self._settings

    def profile(self, name: str) -> Profile | None:
        """The saved profile called ``name``, or ``None``."""
        return self.settings.get_profile(name)

    def is_demo(self, profile: Profile | str | None) -> bool:
        """True for the in-memory demo connection of ``--demo``."""
        name = profile.name if isinstance(profile, Profile) else profile
        return self.demo_key is not None and name is not None and name == self.demo_profile

    # ------------------------------------------------------------------ the rule
    def env_base_url(self) -> str | None:
        """``RECOTAP_BASE_URL`` when set (not blank), else ``None``."""
        return self.env.get(ENV_BASE_URL, "").strip() or None

    def address(self, profile: Profile | str | None) -> Address:
        """Where ``profile`` (a profile, or the name of a saved one, or none) sends: the
        command line's overrides, then ``RECOTAP_BASE_URL`` (never for the demo), then
        the profile's own settings, then the defaults."""
        found = self._resolve(profile)
        base_url = self.overrides.base_url
        if not base_url and not self.is_demo(profile):
            base_url = self.env_base_url()
        return Address(
            base_url=base_url or (found.base_url if found else None) or None,
            edition=(self.overrides.edition or (found.edition if found else None)
                     or Edition.CRM.value),
            allow_insecure_http=bool(self.overrides.allow_insecure_http
                                     or (found.allow_insecure_http if found else False)),
        )

    def target_of(self, profile: Profile | str) -> RunTarget:
        """Where ``profile`` sends rows (name, normalised base URL, edition), as a run
        records it."""
        address = self.address(profile)
        return RunTarget.make(self._name(profile), address.base_url, address.edition)

    def connection(self, profile: Profile | str, *, api_key: str | None = None,
                   need_key: bool = True) -> ConnectionSpec:
        """What the engine needs to open a client for ``profile``: :meth:`address` and
        the key (``api_key`` when given, else :meth:`key_for`).

        Raises :class:`NoApiKey` (no key while ``need_key``) or :class:`KeychainUnavailable`.
        May block on the keychain: call it from a worker in the app.
        """
        name = self._name(profile)
        key = api_key or ""
        if not key and need_key:
            key = self.key_for(name)[0] or ""
            if not key:
                raise NoApiKey(name)
        if key:
            self._register(key)
        address = self.address(profile)
        return ConnectionSpec(
            base_url=address.base_url,
            edition=address.edition,
            api_key=key,
            allow_insecure_http=address.allow_insecure_http,
            profile=name,
        )

    def custom_fields(self, kind: str, connection: ConnectionSpec,
                      **client_kwargs: Any) -> list[Any]:
        """The connection's active custom fields when ``kind`` maps them (accounts,
        account fields); ``[]`` without a request for every other kind."""
        if not needs_custom_fields(kind):
            return []
        return load_custom_fields(connection, **client_kwargs)

    def _resolve(self, profile: Profile | str | None) -> Profile | None:
        if profile is None or isinstance(profile, Profile):
            return profile
        return self.profile(profile)

    @staticmethod
    def _name(profile: Profile | str) -> str:
        return profile.name if isinstance(profile, Profile) else profile

    # ------------------------------------------------------------------ keys
    def key_for(self, profile: Profile | str) -> tuple[str | None, KeyOrigin | None]:
        """The API key of ``profile`` and where it came from; ``(None, None)`` if unknown.

        May block (keychain over D-Bus). Raises :class:`KeychainUnavailable` when the
        keychain is needed but unusable.
        """
        name = self._name(profile)
        if self.is_demo(name) and self.demo_key:
            return self.demo_key, "demo"
        from_env = self.env.get(ENV_VAR, "").strip()
        if from_env:
            return from_env, "env"
        with self._lock:
            remembered = self._memory_keys.get(name)
        if remembered:
            return remembered, "session"
        key = self.keystore.get(name)
        return (key, "keychain") if key else (None, None)

    def remember_session_key(self, profile_name: str, key: str) -> None:
        """Keep ``key`` in memory for this session only (used when no keychain is usable)."""
        self._register(key)
        with self._lock:
            self._memory_keys[profile_name] = key

    def forget_session_key(self, profile_name: str) -> None:
        """Drop a memory-only key (profile removed or renamed)."""
        with self._lock:
            self._memory_keys.pop(profile_name, None)

    def move_keys(self, renames: Mapping[str, str], removed: Iterable[str] = ()) -> None:
        """Follow a batch of profile edits in the keychain and in memory: ``removed``
        profiles lose their keys, each ``old -> new`` of ``renames`` takes its key along.
        Every old key is read before any is written, so swaps of names (A -> B and
        B -> A at once) keep each key with its connection.

        Raises :class:`KeychainUnavailable` when the keychain cannot be used; the
        memory-only keys have followed by then."""
        moves = {old: new for old, new in renames.items() if old != new}
        removed = list(removed)
        with self._lock:
            memory = {old: self._memory_keys.pop(old) for old in moves
                      if old in self._memory_keys}
            for name in removed:
                self._memory_keys.pop(name, None)
            self._memory_keys.update({moves[old]: key for old, key in memory.items()})
        if not moves and not removed:
            return
        stored = {old: self.keystore.get(old) for old in moves}
        for name in removed:
            self.keystore.delete(name)
        for old in moves.keys() - set(moves.values()):
            self.keystore.delete(old)  # a name nobody takes over
        for old, new in moves.items():
            key = stored[old]
            if key:
                self.keystore.set(new, key)
            else:
                self.keystore.delete(new)  # the key of whoever had this name went along

    def _register(self, key: str | None) -> None:
        if key and self.register_secret is not None:
            self.register_secret(key)
