"""Input files on a network share: read once into a local copy.

A file opened or dropped from ``\\\\server\\share\\…`` (or a mapped drive on Windows, or
``//server/share/…``) is read several times during a run: detection, the check, the
sending pass, the report's input columns, a later resume. A Wi-Fi drop or a VPN that
reconnects between two of those reads would stop a run half sent. So the file is copied
once, in one pass, into the app's cache (:func:`local_copy_if_remote`) and everything
reads the copy; if the share is gone while copying, the user is told exactly that
(:class:`~recotap_desktop.files.problems.FileProblem`), before anything was sent.

The path logic is pure and takes the platform (and, for drive letters, a drive-type
lookup) as arguments, so it is tested on any system.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path, PureWindowsPath

from recotap_desktop.files.problems import FileProblem

__all__ = ["local_copy_if_remote", "network_share"]

#: ``GetDriveTypeW``'s answer for a network drive.
DRIVE_REMOTE = 4

DriveType = Callable[[str], int]


def _windows_drive_type(root: str) -> int:
    import ctypes

    return int(ctypes.windll.kernel32.GetDriveTypeW(root))  # type: ignore[attr-defined]


def network_share(path: str | os.PathLike[str], *, platform: str | None = None,
                  drive_type: DriveType | None = None) -> str | None:
    r"""``\\server\share`` when ``path`` is on a network share, else None.

    UNC paths (``\\server\share\…``, ``\\?\UNC\server\share\…``, ``//server/share/…``)
    on every system; on Windows also a drive letter mapped to a share (``drive_type``
    defaults to ``GetDriveTypeW``).
    """
    platform = platform or sys.platform
    text = os.fspath(path)
    if platform != "win32" and not text.startswith("//"):
        return None
    win = PureWindowsPath(text.replace("/", "\\"))
    drive = win.drive
    if drive.upper().startswith("\\\\?\\UNC\\"):
        parts = drive[8:].split("\\")
        return f"\\\\{parts[0]}\\{parts[1]}" if len(parts) > 1 else None
    if drive.startswith("\\\\") and not drive.startswith(("\\\\?\\", "\\\\.\\")):
        return drive
    if platform == "win32" and len(drive) == 2 and drive[1] == ":":
        kind = (drive_type or _windows_drive_type)(drive + "\\")
        if kind == DRIVE_REMOTE:
            return drive
    return None


def local_copy_if_remote(path: Path, cache_dir: Path, *, platform: str | None = None,
                         drive_type: DriveType | None = None) -> Path:
    """``path`` itself, or for a file on a network share its local copy in ``cache_dir``.

    The copy keeps the file's name (in a folder named after the original path, its size
    and time, so the same file is copied once and a changed file again). Raises
    :class:`FileProblem` when the share cannot be read.
    """
    share = network_share(path, platform=platform, drive_type=drive_type)
    if share is None:
        return path
    try:
        stat = os.stat(path)
        key = hashlib.sha256(
            f"{os.fspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
        folder = cache_dir / "network-inputs" / key[:24]
        target = folder / Path(path).name
        if target.is_file() and target.stat().st_size == stat.st_size:
            return target
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{target.name}.partial"
        try:
            with open(path, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except FileNotFoundError as exc:
        raise FileProblem(
            f"The file {path} is not on the network share {share} (any more). Check the "
            "name, or copy the file to this computer and open it from there.",
            path=path) from exc
    except OSError as exc:
        raise FileProblem(
            f"The file {path} could not be read from the network share {share} "
            f"({exc.strerror or exc}): the connection to the share may have dropped. "
            "Reconnect (VPN, Wi-Fi) and open it again, or copy it to this computer "
            "first. Nothing was sent.", path=path) from exc
    return target
