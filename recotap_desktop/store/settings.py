"""User settings: connection profiles and remembered UI choices, as one JSON file.

File: ``<config_dir>/settings.json``::

    {
      "version": 1,
      "active_profile": "Production",
      "profiles": [
        {"name": "Production", "edition": "crm", "base_url": null,
         "allow_insecure_http": false, "last_verified": "2024-05-01T09:30:00+00:00",
         "segment_id": "seg_1", "segment_name": "Target accounts"}
      ],
      "ui": {"last_folder": "...", "window_geometry": "<base64>", "concurrency": 4,
             "mappings": {"<header signature>": {...}}}
    }

The API key is never part of this file: it lives in the OS keychain
(:mod:`recotap_desktop.store.secrets`) or in the ``RECOTAP_API_KEY`` environment
variable. :meth:`Settings.save` refuses ``ui`` entries whose names look like secrets.

Writes are atomic: the JSON goes to a temporary file in the same directory, is
flushed and fsync'ed, then ``os.replace`` puts it in place. A crash during a write
leaves the previous file untouched.

A damaged file is **not** silently reset. Decision: :meth:`Settings.load` moves it
aside to ``settings.json.corrupt-<UTC timestamp>`` (nothing is lost), starts from
defaults, and reports what happened in :attr:`Settings.warnings` (plain sentences
the UI shows once, the CLI prints to stderr). Situations where nothing sensible can
be done (the file cannot be read or moved aside, the directory is not writable)
raise :class:`SettingsError` with a message for the user.

A file written by a newer version (higher ``"version"``) is loaded as far as it is
understood; unknown keys are kept and written back unchanged, and a warning says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recotap_desktop.errors import UserError
from recotap_desktop.store._guard import find_secret_name
from recotap_desktop.store.paths import AppPaths

__all__ = [
    "SCHEMA_VERSION",
    "UI_CONCURRENCY",
    "UI_LAST_FOLDER",
    "UI_MAPPINGS",
    "UI_WINDOW_GEOMETRY",
    "Profile",
    "Settings",
    "SettingsError",
    "header_signature",
]

#: Version of the settings file layout written by this version of the app.
SCHEMA_VERSION = 1

# Well-known keys of ``Settings.ui`` (the dict stays free-form).
UI_LAST_FOLDER = "last_folder"  # str: folder of the last opened/saved file
UI_WINDOW_GEOMETRY = "window_geometry"  # str: base64 of QWidget.saveGeometry()
UI_MAPPINGS = "mappings"  # dict: header_signature(...) -> ColumnMapping JSON object
UI_CONCURRENCY = "concurrency"  # int: parallel requests

log = logging.getLogger(__name__)


class SettingsError(UserError):
    """The settings could not be read or written; ``message`` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Profile:
    """One connection to a Recotap workspace (never contains the API key).

    ``base_url`` ``None`` means the edition's default URL. ``last_verified`` is the ISO
    8601 time of the last successful check of the key. ``segment_id``/``segment_name``
    remember the segment last chosen for account pushes on this connection.
    """

    name: str
    edition: str = "crm"
    base_url: str | None = None
    allow_insecure_http: bool = False
    last_verified: str | None = None
    segment_id: str | None = None
    segment_name: str | None = None
    #: Keys of this profile written by a newer version; kept so they survive a save.
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in the settings file."""
        data: dict[str, Any] = dict(self.extra)
        data.update(
            name=self.name,
            edition=self.edition,
            base_url=self.base_url,
            allow_insecure_http=self.allow_insecure_http,
            last_verified=self.last_verified,
            segment_id=self.segment_id,
            segment_name=self.segment_name,
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        """Parse a profile object; raises ``ValueError`` when it is malformed."""
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a profile has no name")
        edition = data.get("edition", "crm")
        if not isinstance(edition, str) or not edition:
            raise ValueError(f"profile {name!r} has an invalid edition")
        for key in ("base_url", "last_verified", "segment_id", "segment_name"):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"profile {name!r}: {key} must be text")
        insecure = data.get("allow_insecure_http", False)
        if not isinstance(insecure, bool):
            raise ValueError(f"profile {name!r}: allow_insecure_http must be true or false")
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            name=name,
            edition=edition,
            base_url=data.get("base_url"),
            allow_insecure_http=insecure,
            last_verified=data.get("last_verified"),
            segment_id=data.get("segment_id"),
            segment_name=data.get("segment_name"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def header_signature(kind: str, headers: Sequence[str]) -> str:
    """A stable key for remembering a column mapping per (record kind, file headers).

    Header order, case and surrounding spaces do not matter.
    """
    import hashlib  # here, not at the top: loading OpenSSL would slow every start-up

    normalised = sorted(h.strip().casefold() for h in headers)
    digest = hashlib.sha256("\x1f".join([kind, *normalised]).encode("utf-8")).hexdigest()
    return f"{kind}:{digest[:32]}"


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


# Ordered forward migrations of the raw JSON object: MIGRATIONS[i] turns version i into i+1.
def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    # Version 0 is a file without "version" (hand-written or pre-release); same layout.
    data.setdefault("profiles", [])
    data.setdefault("ui", {})
    return data


MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [_migrate_0_to_1]
assert len(MIGRATIONS) == SCHEMA_VERSION


@dataclass(slots=True)
class Settings:
    """All user settings. Load with :meth:`load`, change the attributes, :meth:`save`."""

    path: Path
    profiles: list[Profile] = field(default_factory=list)
    active_profile: str | None = None
    ui: dict[str, Any] = field(default_factory=dict)
    #: Plain sentences about problems met while loading (e.g. a damaged file moved aside).
    warnings: list[str] = field(default_factory=list)
    #: Version of the file as read (kept when higher than ours so a newer app is not confused).
    file_version: int = SCHEMA_VERSION
    #: Top-level keys written by a newer version; kept so they survive a save.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls, paths: AppPaths | Path) -> Settings:
        """Read the settings (``paths.settings_file`` or the given file path).

        A missing file gives defaults. A damaged file is moved aside and reported in
        :attr:`warnings` (see module docs). Raises :class:`SettingsError` when the file
        exists but cannot be read, or is damaged and cannot be moved aside.
        """
        path = paths.settings_file if isinstance(paths, AppPaths) else Path(paths)
        settings = cls(path=path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return settings
        except OSError as exc:
            raise SettingsError(
                f"The settings file {path} could not be read ({exc.strerror or exc}). "
                "Check that it is readable by your user, or start with --data-dir "
                "pointing to another folder."
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8-sig"))
            if not isinstance(data, dict):
                raise ValueError("the file does not contain a JSON object")
            settings._apply(data)
        except (ValueError, UnicodeDecodeError) as exc:
            settings = cls(path=path)
            settings._move_aside_corrupt(str(exc))
        return settings

    def _apply(self, data: dict[str, Any]) -> None:
        version = data.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ValueError('"version" is not a whole number')
        for step in MIGRATIONS[version:]:
            data = step(data)
        profiles_raw = data.get("profiles", [])
        if not isinstance(profiles_raw, list) or not all(isinstance(p, dict) for p in profiles_raw):
            raise ValueError('"profiles" is not a list of objects')
        profiles = [Profile.from_json(p) for p in profiles_raw]
        names = [p.name for p in profiles]
        if len(set(names)) != len(names):
            raise ValueError("two profiles have the same name")
        active = data.get("active_profile")
        if active is not None and not isinstance(active, str):
            raise ValueError('"active_profile" is not text')
        ui = data.get("ui", {})
        if not isinstance(ui, dict):
            raise ValueError('"ui" is not an object')
        self.profiles = profiles
        self.active_profile = active if active in names else None
        self.ui = ui
        self.file_version = max(version, SCHEMA_VERSION)
        self.extra = {
            k: v
            for k, v in data.items()
            if k not in {"version", "profiles", "active_profile", "ui"}
        }
        if version > SCHEMA_VERSION:
            self.warnings.append(
                f"The settings file {self.path} was written by a newer version of "
                f"recotap-desktop (format {version}; this version understands {SCHEMA_VERSION}). "
                "Settings this version does not know are kept unchanged."
            )

    def _move_aside_corrupt(self, reason: str) -> None:
        target = self.path.with_name(f"{self.path.name}.corrupt-{_now_stamp()}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise SettingsError(
                f"The settings file {self.path} is damaged ({reason}) and could not be moved "
                f"aside ({exc.strerror or exc}). Rename or delete it, then start "
                "recotap-desktop again."
            ) from exc
        self.warnings.append(
            f"The settings file {self.path} was damaged ({reason}). It was kept as "
            f"{target.name} in the same folder and recotap-desktop started with default "
            "settings: connections need to be set up again (API keys in the system "
            "keychain are still there)."
        )

    # ----------------------------------------------------------------- profiles
    def get_profile(self, name: str) -> Profile | None:
        """The profile called ``name``, or ``None``."""
        for profile in self.profiles:
            if profile.name == name:
                return profile
        return None

    def upsert_profile(self, profile: Profile) -> None:
        """Add ``profile`` or replace the one with the same name (names are unique)."""
        if not profile.name.strip():
            raise ValueError("a profile needs a name")
        for i, existing in enumerate(self.profiles):
            if existing.name == profile.name:
                self.profiles[i] = profile
                return
        self.profiles.append(profile)

    def replace_profiles(self, profiles: Sequence[Profile], active: str | None) -> None:
        """Set every profile at once, as the Connections dialog edits them (renames, swaps
        of names, removals and additions in one go): names are trimmed and must be
        non-empty and unique (``ValueError``, nothing changed); ``active`` stays active
        when it is still there, else the first profile is (none when there are none).

        The caller moves keychain entries of renamed profiles (stored under the name)."""
        edited = [replace(p, name=p.name.strip()) for p in profiles]
        names = [p.name for p in edited]
        if any(not n for n in names):
            raise ValueError("every connection needs a name")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"two connections are called {duplicates[0]!r}")
        self.profiles = edited
        if active not in names:
            active = names[0] if names else None
        self.active_profile = active

    def remove_profile(self, name: str) -> bool:
        """Remove the profile called ``name``; returns whether it existed."""
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if p.name != name]
        if self.active_profile == name:
            self.active_profile = None
        return len(self.profiles) != before

    @property
    def active(self) -> Profile | None:
        """The active profile, if any."""
        return self.get_profile(self.active_profile) if self.active_profile else None

    # ----------------------------------------------------------------- ui helpers
    def remember_mapping(self, signature: str, mapping: Any) -> None:
        """Remember a column mapping (a JSON-able object) for a header signature."""
        mappings = self.ui.setdefault(UI_MAPPINGS, {})
        mappings[signature] = mapping

    def mapping_for(self, signature: str) -> Any | None:
        """The mapping remembered for ``signature``, or ``None``."""
        mappings = self.ui.get(UI_MAPPINGS)
        return mappings.get(signature) if isinstance(mappings, dict) else None

    # ----------------------------------------------------------------- saving
    def to_json(self) -> dict[str, Any]:
        """The JSON object written to disk."""
        data: dict[str, Any] = dict(self.extra)
        data.update(
            version=self.file_version,
            active_profile=self.active_profile,
            profiles=[p.to_json() for p in self.profiles],
            ui=self.ui,
        )
        return data

    def remember(self, key: str, value: Any) -> bool:
        """Keep a UI choice (a folder, a window's size, a count) under ``ui[key]`` and save.

        Remembering is a convenience: when the file cannot be written the choice stays for
        this session, the reason goes to the log, and ``False`` is returned; no error.
        """
        if self.ui.get(key) == value:
            return True
        self.ui[key] = value
        try:
            self.save()
        except SettingsError as exc:
            log.warning("could not remember %s: %s", key, exc.message)
            return False
        return True

    def save(self) -> None:
        """Write the settings atomically. Raises :class:`SettingsError` on failure.

        On failure the previous file is left as it was.
        """
        names = [p.name for p in self.profiles]
        if len(set(names)) != len(names):
            raise SettingsError("Two connections have the same name; rename one of them.")
        secret = find_secret_name(self.to_json())
        if secret is not None:
            raise SettingsError(
                f"Refusing to save {secret} in the settings file: secrets belong in the "
                "system keychain."
            )
        try:
            text = json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=False)
        except (TypeError, ValueError) as exc:  # a non-JSON value in ui: a bug of the caller
            raise SettingsError(f"The settings could not be saved: {exc}") from exc
        try:
            atomic_write(self.path, (text + "\n").encode("utf-8"))
        except OSError as exc:
            raise SettingsError(
                f"The settings could not be saved to {self.path} ({exc.strerror or exc}). "
                "The previous settings are unchanged. Check that the disk is not full and "
                "the folder is writable, or start with --data-dir pointing to another folder."
            ) from exc


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file in the same dir, fsync, replace).

    Creates the parent directory if needed. The file gets mode 0600 on POSIX.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
