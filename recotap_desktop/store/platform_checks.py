"""What each operating system does to the app's own files, said and handled in one place.

* **Private files** (POSIX: Linux, macOS). The history database and its journal, the
  settings and the logs hold company names, domains and server messages: on a shared
  machine other users must not read them. The app's folders are made ``0700``
  (:func:`make_private_dir`; what the app keeps inside them, such as the run owner locks
  and the cache, is out of reach with them) and its files are created ``0600``
  (:func:`private_opener`, :func:`make_private_file`), whatever the umask. On Windows the
  per-user folders (``%LOCALAPPDATA%``) are already private by their ACLs and new files
  inherit them; nothing is changed there (a ``--data-dir`` elsewhere keeps that folder's
  ACLs).
* **OneDrive** (Windows, and macOS's ``~/Library/CloudStorage/OneDrive-…``). A data
  folder inside a OneDrive-synced folder (the ``OneDrive``/``OneDriveCommercial``/
  ``OneDriveConsumer`` environment variables, or a path component named ``OneDrive``,
  ``OneDrive - <organisation>`` or ``OneDrive-<name>``) gets its SQLite history uploaded
  while it is open, and conflicting copies of ``history.sqlite3`` and its ``-wal`` file
  can be put back: :func:`data_dir_warnings` says so and names a local folder to use
  instead (the default one is never under OneDrive). Decision: warn, never move the
  history on the user's behalf (they chose that folder with ``--data-dir``).
* **First keychain access on macOS**. macOS asks whether the app may use its keychain
  entry (and again after every update of an unsigned app). :func:`keychain_notice` is
  the one-time explanation the GUI and the CLI show *before* that prompt
  (:class:`FirstKeychainUse`, hooked into :class:`~recotap_desktop.store.secrets.KeyStore`).
* **Quarantine** (macOS). A downloaded app bundle carries the ``com.apple.quarantine``
  extended attribute; :func:`gatekeeper_verdict` reads it (through an injectable reader)
  and says what Gatekeeper will show at the first open. The self-test prints it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "KEYCHAIN_NOTICE_SHOWN",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "FirstKeychainUse",
    "app_bundle",
    "current_platform",
    "data_dir_warnings",
    "gatekeeper_verdict",
    "keychain_notice",
    "make_private_dir",
    "make_private_file",
    "onedrive_root",
    "private_opener",
    "read_quarantine",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

_POSIX = os.name == "posix"


# ------------------------------------------------------------------ private files
def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it ``0700`` on POSIX.

    Only the app's own folders go through here (never a folder the user chose for a
    report). A folder owned by someone else is left as it is (logged), not an error.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if _POSIX:
        try:
            if path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
                os.chmod(path, PRIVATE_DIR_MODE)
        except OSError as exc:
            log.warning("could not make %s private (%s)", path, exc)
    return path


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that creates the file ``0600`` (POSIX)."""
    return os.open(path, flags, PRIVATE_FILE_MODE)


def make_private_file(path: Path) -> None:
    """Create ``path`` empty (``0600``) if it is missing; else take away the group's and
    others' permissions (POSIX), leaving the owner's as they are (a read-only file stays
    read-only).

    For files that another library creates (SQLite): made before it opens them, so
    they are never readable by others, not even for a moment. SQLite gives its
    ``-wal``/``-shm``/``-journal`` files the database file's mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    if _POSIX:
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(path, mode & ~0o077)
        except OSError as exc:
            log.warning("could not make %s private (%s)", path, exc)


# ------------------------------------------------------------------ OneDrive
_ONEDRIVE_VARS = ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")


def _pure(path: str | PurePath, platform: str) -> PurePath:
    return PureWindowsPath(path) if platform == "win32" else PurePosixPath(path)


def _folded(path: PurePath) -> tuple[str, ...]:
    return tuple(part.casefold() for part in path.parts)


def onedrive_root(path: str | PurePath, env: Mapping[str, str] = os.environ,
                  platform: str | None = None) -> str | None:
    """The OneDrive folder that contains ``path``, or None.

    From the environment variables OneDrive sets, else from a path component named
    ``OneDrive``, ``OneDrive - <organisation>`` (Windows: a folder synced for another
    user, or set up before the variables existed) or ``OneDrive-<name>`` (macOS:
    ``~/Library/CloudStorage/OneDrive-Personal``).
    """
    platform = platform or current_platform()
    target = _pure(path, platform)
    parts = _folded(target)
    for var in _ONEDRIVE_VARS:
        root = env.get(var, "").strip()
        if not root:
            continue
        root_parts = _folded(_pure(root, platform))
        if root_parts and parts[:len(root_parts)] == root_parts:
            return root
    for i, part in enumerate(target.parts):
        folded = part.casefold()
        if folded == "onedrive" or folded.startswith(("onedrive - ", "onedrive-")):
            return str(type(target)(*target.parts[:i + 1]))
    return None


def _local_data_folder(env: Mapping[str, str], platform: str) -> str:
    """Where the data folder should be instead: the per-user default (never synced)."""
    if platform == "win32" and env.get("LOCALAPPDATA"):
        return str(PureWindowsPath(env["LOCALAPPDATA"], "recotap-desktop"))
    import platformdirs

    from recotap_desktop import APP_NAME

    return platformdirs.user_data_dir(APP_NAME, appauthor=False)


def data_dir_warnings(paths: Any, env: Mapping[str, str] = os.environ,
                      platform: str | None = None) -> list[str]:
    """Plain sentences about a data folder this OS will get wrong (shown once at start:
    the GUI in a message, the CLI on stderr).

    ``paths`` is an :class:`~recotap_desktop.store.paths.AppPaths`.
    """
    platform = platform or current_platform()
    root = onedrive_root(paths.data_dir, env, platform)
    if root is None:
        return []
    return [
        f"The recotap-desktop data folder {paths.data_dir} is inside OneDrive ({root}). "
        "OneDrive uploads files while they are in use and can put back conflicting copies "
        "of the sync history (history.sqlite3 and its -wal file), which can damage it or "
        "lose runs you could resume. Start recotap-desktop with --data-dir pointing to a "
        f"folder on this computer outside OneDrive, for example "
        f"{_local_data_folder(env, platform)} (the usual place)."
    ]


# ------------------------------------------------------------------ macOS keychain
#: ``Settings.ui`` key: the keychain explanation was shown (once per user).
KEYCHAIN_NOTICE_SHOWN = "keychain_notice_shown"


def keychain_notice(platform: str | None = None) -> str | None:
    """Why macOS is about to ask for the keychain; None on other systems."""
    if (platform or current_platform()) != "darwin":
        return None
    from recotap_desktop.store.secrets import ENV_VAR, SERVICE

    return (
        "recotap-desktop keeps your API keys in the macOS Keychain (one entry per "
        f"connection, named “{SERVICE}”), never in a file. macOS may now ask whether "
        "recotap-desktop may use its keychain entry: enter your Mac login password and "
        "choose “Always Allow”, so it does not ask at every start (it asks again once "
        "after an update). If you choose “Deny”, no key is stored or read; you can set the "
        f"{ENV_VAR} environment variable instead. This explanation is shown once."
    )


def current_platform() -> str:
    """``sys.platform`` (a seam: tests simulate macOS or Windows through it)."""
    return sys.platform


@dataclass
class FirstKeychainUse:
    """The ``before_first_use`` hook of a KeyStore: shows :func:`keychain_notice` once.

    ``settings`` is the :class:`~recotap_desktop.store.settings.Settings` that remembers
    it was shown; ``show`` presents the text (stderr in the CLI, a message box in the GUI)
    and returns once the user can have read it.
    """

    settings: Any
    show: Callable[[str], None]
    platform: str | None = None  # None: this machine's

    def __call__(self) -> None:
        text = keychain_notice(self.platform or current_platform())
        if text is None or self.settings.ui.get(KEYCHAIN_NOTICE_SHOWN):
            return
        self.show(text)
        self.settings.ui[KEYCHAIN_NOTICE_SHOWN] = True
        try:
            self.settings.save()
        except Exception as exc:  # SettingsError: shown again next time, nothing worse
            log.warning("could not remember the keychain notice: %s",
                        getattr(exc, "message", exc))


# ------------------------------------------------------------------ quarantine
QUARANTINE_ATTR = "com.apple.quarantine"
#: The "user approved" bit of the quarantine flags (xnu's QTN_FLAG_USER_APPROVED).
_QTN_USER_APPROVED = 0x0040

XattrReader = Callable[[Path, str], "bytes | None"]


def _xattr_with_tool(path: Path, name: str) -> bytes | None:
    """macOS's ``xattr -p`` (Python's os module has no getxattr there)."""
    import subprocess

    try:
        result = subprocess.run(["/usr/bin/xattr", "-p", name, str(path)],
                                capture_output=True, check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def read_quarantine(path: Path, reader: XattrReader | None = None) -> str | None:
    """The ``com.apple.quarantine`` value of ``path`` (``flags;time;agent;uuid``), or None."""
    raw = (reader or _xattr_with_tool)(path, QUARANTINE_ATTR)
    if not raw:
        return None
    return raw.decode("utf-8", "replace").strip()


def app_bundle(executable: str | None = None) -> Path | None:
    """The ``.app`` bundle this program runs from (frozen macOS build), or None."""
    exe = Path(executable or sys.executable)
    for parent in exe.parents:
        if parent.suffix == ".app":
            return parent
    return None


def gatekeeper_verdict(bundle: Path, reader: XattrReader | None = None) -> str:
    """What Gatekeeper will say when ``bundle`` is first opened from the Finder."""
    value = read_quarantine(bundle, reader)
    name = bundle.stem
    if value is None:
        return (f"{bundle} is not quarantined: macOS opens it without a Gatekeeper "
                "prompt (it was not downloaded, or was already approved)")
    fields = value.split(";")
    try:
        flags = int(fields[0], 16)
    except ValueError:
        flags = 0
    agent = fields[2] if len(fields) > 2 and fields[2] else "an unknown program"
    if flags & _QTN_USER_APPROVED:
        return (f"{bundle} is quarantined (downloaded by {agent}) and already approved: "
                "macOS opens it without a prompt")
    signed = (bundle / "Contents" / "_CodeSignature" / "CodeResources").is_file()
    stapled = (bundle / "Contents" / "CodeResources").is_file()
    if signed and stapled:
        return (f"{bundle} is quarantined (downloaded by {agent}); at the first open "
                f"Gatekeeper will ask: “{name}” is an app downloaded from the Internet. "
                "Are you sure you want to open it? (signed and notarised: choose Open)")
    return (f"{bundle} is quarantined (downloaded by {agent}) and "
            f"{'not notarised' if signed else 'not signed'}: Gatekeeper will say "
            f"“{name}” cannot be opened because Apple cannot check it for malicious "
            "software. Open it once with Control-click › Open (or System Settings › "
            "Privacy & Security › Open Anyway), or remove the attribute: "
            f"xattr -d {QUARANTINE_ATTR} \"{bundle}\"")
