"""The app's long-lived objects in one place, handed to every window and dialog.

Widgets receive a :class:`Services` in their constructor; nothing looks it up
globally, and worker jobs get only what they need (a client, a spec) captured in
their callable. Qt-free on purpose: the same object can be built in tests.

Turning a profile into a connection, finding its key, the settings and the custom
fields are the :class:`~recotap_desktop.session.Session`'s, the same rules as the
``recotap`` command line (``RECOTAP_BASE_URL`` and ``RECOTAP_API_KEY`` included); this
object adds what only the app has: the history it keeps open, the demo server, the
connection chosen for this session, and the app's words for a missing key.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recotap_desktop import session as session_mod
from recotap_desktop.session import KeyOrigin, Session
from recotap_desktop.store.paths import AppPaths, app_paths
from recotap_desktop.store.secrets import ENV_VAR, KeyStore
from recotap_desktop.store.settings import Profile, Settings

if TYPE_CHECKING:
    from recotap_desktop.api import RecotapClient
    from recotap_desktop.engine.connection import ConnectionSpec
    from recotap_desktop.engine.run_target import RunTarget
    from recotap_desktop.store.history import History, RunRecord

log = logging.getLogger(__name__)

DEMO_PROFILE_NAME = "Demo"


class NoApiKey(session_mod.NoApiKey):
    """No key is known for a connection; ``message`` tells the user what to do in the app."""

    def __init__(self, profile: str) -> None:
        super().__init__(
            profile,
            f"There is no API key for the connection “{profile}”. Open Connection → "
            f"Connections… and enter it, or set the environment variable {ENV_VAR}.",
        )


def run_proves_connection(run: Any) -> bool:
    """Whether a finished run got answers from its server: an export that paged to the end,
    or an import with rows the server created or updated (decided from state and counts)."""
    from recotap_desktop.engine.export import EXPORT_KIND
    from recotap_desktop.engine.states import SUCCESS_STATES, RunState

    if getattr(run, "state", None) != RunState.FINISHED.value:
        return False
    if getattr(run, "kind", None) == EXPORT_KIND:
        return True
    counts = getattr(run, "counts", None) or {}
    return any(counts.get(state.value) for state in SUCCESS_STATES)


def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def now_iso() -> str:
    """The current UTC time as ISO 8601 (seconds), for ``Profile.last_verified``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(eq=False)
class Services:
    """Paths, settings, keychain, history and the active connection of one app session."""

    #: The connection rule, the keys and the settings, shared with the command line.
    session: Session
    history: History | None = None
    #: Why the history could not be opened (plain words), when ``history`` is None.
    history_problem: str | None = None
    #: The running demo server (kept so it can be stopped at exit).
    demo_server: Any = field(default=None, repr=False)
    _active_override: str | None = None

    # ------------------------------------------------------------------ creation
    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, keystore: KeyStore | None = None,
             env: Mapping[str, str] | None = None,
             register_secret: Callable[[str], None] | None = None) -> Services:
        """Create the directories, load settings and open the history.

        Raises :class:`~recotap_desktop.store.settings.SettingsError` and ``OSError``
        when the settings cannot be used at all. A history that cannot be opened is
        reported in :attr:`history_problem` instead (the app still works without it).
        """
        from recotap_desktop.store.platform_checks import data_dir_warnings

        paths = app_paths(data_dir).ensure()
        env = os.environ if env is None else env
        session = Session(paths, keystore or KeyStore(), env=env)
        session.settings.warnings.extend(data_dir_warnings(paths, env))
        session.register_secret = register_secret
        services = cls(session=session)
        services._open_history()
        return services

    @property
    def paths(self) -> AppPaths:
        return self.session.paths

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def keystore(self) -> KeyStore:
        return self.session.keystore

    @property
    def env(self) -> Mapping[str, str]:
        return self.session.env

    @property
    def demo_key(self) -> str | None:
        """Demo mode: the sandbox key (memory only)."""
        return self.session.demo_key

    def _open_history(self) -> None:
        from recotap_desktop.store import history as history_mod

        try:
            self.history = history_mod.History.open(self.paths)
        except Exception as exc:  # all of the store's documented errors carry a message
            message = getattr(exc, "message", None) or str(exc)
            log.error("sync history unavailable: %s", message)
            self.history = None
            self.history_problem = message

    def close(self) -> None:
        """Stop the demo server and close the history."""
        if self.demo_server is not None:
            try:
                self.demo_server.stop()
            finally:
                self.demo_server = None
        close = getattr(self.history, "close", None)
        if callable(close):
            close()

    # ------------------------------------------------------------------ profiles
    @property
    def profiles(self) -> list[Profile]:
        """All connection profiles."""
        return self.settings.profiles

    @property
    def active_profile(self) -> Profile | None:
        """The connection in use: the session choice (``--demo``/``--profile``) or the saved one."""
        if self._active_override:
            profile = self.settings.get_profile(self._active_override)
            if profile is not None:
                return profile
        return self.settings.active

    def use_profile_for_session(self, name: str) -> None:
        """Make ``name`` active for this session only (``--profile``/``--demo``)."""
        if self.settings.get_profile(name) is None:
            raise KeyError(name)
        self._active_override = name

    def set_active(self, name: str | None) -> None:
        """Make ``name`` the active connection and remember it (saves the settings)."""
        self._active_override = None
        self.settings.active_profile = name
        self.save_settings()

    def save_settings(self) -> None:
        """Write the settings file (raises SettingsError with a message for the user)."""
        self.settings.save()

    def mark_verified(self, profile_name: str) -> str | None:
        """Record a successful key check on ``profile_name``; returns the timestamp."""
        profile = self.settings.get_profile(profile_name)
        if profile is None:
            return None
        profile.last_verified = now_iso()
        self.save_settings()
        return profile.last_verified

    def update_profile_edition(self, profile_name: str, edition: str, base_url: str) -> None:
        """The edition a test found for ``profile_name`` (its base URL kept only when one
        was set: an empty one means the edition's default)."""
        profile = self.settings.get_profile(profile_name)
        if profile is None:
            return
        profile.edition = edition
        if profile.base_url and not self.base_url_overridden(profile):
            profile.base_url = base_url
        self.save_settings()

    def base_url_overridden(self, profile: Profile) -> bool:
        """Whether ``RECOTAP_BASE_URL`` sends ``profile`` elsewhere than its own base URL:
        then what a test finds there is never written into the profile (the override is
        the session's, the profile the user's)."""
        return not self.is_demo(profile) and self.session.env_base_url() is not None

    def mark_verified_by_runs(self, runs: Iterable[Any]) -> bool:
        """A run that the server answered proves its connection works as well as "Test
        connection" does (issue 18: 6): the newest such run of each connection becomes its
        ``last_verified`` when it is newer. Returns whether a connection changed."""
        changed = False
        for run in runs:
            profile = self.settings.get_profile(getattr(run, "profile", None) or "")
            ended = _parse_when(getattr(run, "ended_at", None))
            if profile is None or ended is None or not run_proves_connection(run):
                continue
            known = _parse_when(profile.last_verified)
            if known is None or ended > known:
                profile.last_verified = ended.replace(microsecond=0).isoformat()
                changed = True
        if changed:
            self.save_settings()
        return changed

    def is_demo(self, profile: Profile | str | None) -> bool:
        """True for the in-memory demo connection of ``--demo``."""
        return self.session.is_demo(profile)

    def target_of(self, profile: Profile) -> RunTarget:
        """Where ``profile`` sends rows (name, normalised base URL, edition), with
        ``RECOTAP_BASE_URL`` applied as for every connection (the session's rule)."""
        return self.session.target_of(profile)

    def host_of(self, profile: Profile) -> str:
        """The host (and port) ``profile`` talks to, as :meth:`target_of` says: the
        environment's override, its base URL or the edition's default."""
        return self.target_of(profile).host

    def run_profile(self, run: RunRecord) -> Profile | None:
        """The connection ``run`` belongs to, if it still exists and still points where the
        run sent its rows; ``None`` otherwise (gone, moved, or a run recorded without its
        connection): then the user must choose one explicitly. Never the active profile."""
        from recotap_desktop.engine.run_target import RunTarget

        recorded = RunTarget.of_run(run)
        if recorded is None:
            return None
        profile = self.settings.get_profile(recorded.profile)
        if profile is None or self.target_of(profile) != recorded:
            return None
        return profile

    def run_connection_problem(self, run: RunRecord) -> str:
        """Why the run's own connection cannot be used (see :meth:`run_profile`), in words
        that name the host the run sent its rows to."""
        from recotap_desktop.engine.run_target import RunTarget, run_target_problem

        recorded = RunTarget.of_run(run)
        profile = self.settings.get_profile(recorded.profile) if recorded else None
        if recorded is not None and profile is None:
            return (f"Run {run.id} sent its rows to {recorded.title}. That connection no "
                    "longer exists, so nothing was sent.")
        given = self.target_of(profile) if profile else RunTarget.make("", None, None)
        problem = run_target_problem(run, given)
        return problem.message if problem else ""

    # ------------------------------------------------------------------ keys
    def key_for(self, profile: Profile | str) -> tuple[str | None, KeyOrigin | None]:
        """The API key of ``profile`` and where it came from; ``(None, None)`` if unknown
        (see :meth:`Session.key_for <recotap_desktop.session.Session.key_for>`).

        May block (keychain over D-Bus): call it from a worker. Raises
        :class:`KeychainUnavailable` when the keychain is needed but unusable.
        """
        return self.session.key_for(profile)

    def describe_key_origin(self, origin: KeyOrigin | None) -> str:
        """Plain words for where a key comes from."""
        if origin == "demo":
            return "demo key, kept in memory only"
        if origin == "env":
            return f"from the {ENV_VAR} environment variable"
        if origin == "session":
            return "kept in memory until the app closes (no keychain)"
        if origin == "keychain":
            return f"stored in {self.keystore.backend_name()}"
        return "no key stored"

    def remember_session_key(self, profile_name: str, key: str) -> None:
        """Keep ``key`` in memory for this session only (used when no keychain is usable)."""
        self.session.remember_session_key(profile_name, key)

    def forget_session_key(self, profile_name: str) -> None:
        """Drop a memory-only key (profile removed or renamed)."""
        self.session.forget_session_key(profile_name)

    def move_keys(self, renames: Mapping[str, str], removed: Iterable[str] = ()) -> None:
        """Keys follow a batch of renames (swaps included) and removals of profiles, in
        the keychain and in memory (see :meth:`Session.move_keys
        <recotap_desktop.session.Session.move_keys>`). May block: call from a worker."""
        self.session.move_keys(renames, removed)

    # ------------------------------------------------------------------ clients
    def connection_spec(self, profile: Profile, api_key: str | None = None) -> ConnectionSpec:
        """What the engine needs to open a client for ``profile`` (resolves the key), by
        the session's rule (``RECOTAP_BASE_URL`` applies, as on the command line).

        Raises :class:`NoApiKey` or :class:`KeychainUnavailable`. May block: call from a worker.
        """
        try:
            return self.session.connection(profile, api_key=api_key)
        except session_mod.NoApiKey as exc:
            raise NoApiKey(profile.name) from exc

    def custom_fields(self, kind: str, spec: ConnectionSpec, **client_kwargs: Any) -> list[Any]:
        """The connection's active custom fields when ``kind`` maps them, else ``[]``
        without a request. May block: call from a worker."""
        return self.session.custom_fields(kind, spec, **client_kwargs)

    def make_client(self, profile: Profile, *, api_key: str | None = None,
                    cancel_event: threading.Event | None = None, **kwargs: Any) -> RecotapClient:
        """A :class:`RecotapClient` for ``profile`` (use it as a context manager).

        Raises :class:`NoApiKey`, :class:`KeychainUnavailable` or the API's ``ConfigError``.
        """
        return self.connection_spec(profile, api_key).open(cancel_event=cancel_event, **kwargs)


def open_demo(services: Services, *, faults: Any = None) -> Profile:
    """Start the sandbox in-process and make a "Demo" profile use it for this session.

    The demo key stays in memory (``services.demo_key``); nothing goes to the keychain.
    """
    from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer

    server = SandboxServer(faults=faults).start()
    services.demo_server = server
    services.session.demo_key = DEMO_API_KEY
    services.session.demo_profile = DEMO_PROFILE_NAME
    if services.session.register_secret is not None:
        services.session.register_secret(DEMO_API_KEY)
    existing = services.settings.get_profile(DEMO_PROFILE_NAME)
    profile = Profile(
        name=DEMO_PROFILE_NAME,
        edition="crm",
        base_url=server.base_url("crm"),
        allow_insecure_http=False,
        last_verified=existing.last_verified if existing else None,
        segment_id=existing.segment_id if existing else None,
        segment_name=existing.segment_name if existing else None,
    )
    services.settings.upsert_profile(profile)
    services.save_settings()
    services.use_profile_for_session(DEMO_PROFILE_NAME)
    return profile
