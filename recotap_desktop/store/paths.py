"""Where recotap-desktop keeps its files.

By default the per-user directories of the operating system (via ``platformdirs``)::

    Linux    ~/.local/share/recotap-desktop   ~/.config/recotap-desktop
             ~/.local/state/recotap-desktop/log   ~/.cache/recotap-desktop
    Windows  %LOCALAPPDATA%\\recotap-desktop\\...
    macOS    ~/Library/Application Support/recotap-desktop ...

With an override directory (the ``--data-dir`` option of both the CLI and the GUI) all
four live under it: ``<dir>/data``, ``<dir>/config``, ``<dir>/logs``, ``<dir>/cache``.

Nothing is created at import time nor by :func:`app_paths`; call :meth:`AppPaths.ensure`
before writing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from recotap_desktop import APP_NAME
from recotap_desktop.errors import UserError

__all__ = ["AppPaths", "DataDirError", "app_paths", "data_dir_problem"]


class DataDirError(UserError, OSError):
    """One of the app's folders cannot be used; ``message`` says why and what to do.

    An ``OSError`` (callers that catch those keep working), raised by
    :meth:`AppPaths.ensure` for a folder that is a file, a dangling symbolic link, on a
    read-only file system or not writable.
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def data_dir_problem(directory: Path, exc: OSError) -> str:
    """Plain words for why ``directory`` (one of the app's folders) could not be made."""
    import errno

    hint = "Start with --data-dir pointing to a folder you can write to."
    for part in (directory, *directory.parents):
        if part.is_symlink() and not part.exists():
            return (f"The data folder {part} is a symbolic link to "
                    f"{os.readlink(part)}, which does not exist. Create that folder or remove "
                    f"the link. {hint}")
        if part.exists() and not part.is_dir():
            return f"The data folder {directory} cannot be created: {part} is a file. {hint}"
        if part.exists():
            break
    if exc.errno == errno.EROFS:
        return f"The data folder {directory} is on a read-only file system. {hint}"
    if isinstance(exc, PermissionError):
        return (f"The data folder {directory} cannot be created or written: permission "
                f"denied. {hint}")
    return f"The data folder {directory} cannot be used ({exc.strerror or exc}). {hint}"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The four per-user directories of the app (absolute paths, maybe not created yet)."""

    data_dir: Path
    config_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def settings_file(self) -> Path:
        """The settings JSON file."""
        return self.config_dir / "settings.json"

    @property
    def history_file(self) -> Path:
        """The SQLite sync history."""
        return self.data_dir / "history.sqlite3"

    def ensure(self) -> AppPaths:
        """Create the four directories if they are missing; return ``self``.

        They are private to the user on POSIX (``0700``; see
        :mod:`~recotap_desktop.store.platform_checks`). Raises ``OSError`` (e.g.
        ``PermissionError``) when a directory cannot be created: a :class:`DataDirError`
        whose message names the folder and says why (a file, a dangling link, a read-only
        file system, no permission).
        """
        from recotap_desktop.store.platform_checks import make_private_dir

        for directory in (self.data_dir, self.config_dir, self.log_dir, self.cache_dir):
            try:
                make_private_dir(directory)
            except DataDirError:
                raise
            except OSError as exc:
                raise DataDirError(data_dir_problem(directory, exc), directory) from exc
        return self


def app_paths(override: Path | str | None = None) -> AppPaths:
    """Return the app's directories, all under ``override`` when it is given.

    ``override`` is expanded (``~``) and made absolute; it does not need to exist.
    """
    if override is not None:
        root = Path(override).expanduser().absolute()
        return AppPaths(
            data_dir=root / "data",
            config_dir=root / "config",
            log_dir=root / "logs",
            cache_dir=root / "cache",
        )
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
