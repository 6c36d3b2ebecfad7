"""Where a run may write: every output path checked before the first request (one rule).

A run writes its report (and the failures-only file beside it), an export's output file,
and its journal in the data folder. :func:`check_target` and :func:`check_data_dir`
check them *before anything is sent*, so that a path that cannot be written stops the
run with exit 2 and nothing sent, instead of after every row went out:

* **the name is portable** on every platform (a report made on Linux is opened on
  Windows): no reserved device name (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``,
  ``LPT1``-``LPT9``, also with an extension: ``nul.csv``), no trailing dot or space, and
  (Windows) none of ``<>:"|?*``;
* **the folder exists and can be written**: probed by creating and removing a file in
  it (permissions, a read-only file system, ACLs, a full quota all show up there);
* **the target is not one of the inputs**: same resolved path (case-folded where the
  platform is case-insensitive) or the same file (``os.path.samefile``: device and
  inode, catching hard links, symbolic links and case differences);
* **an existing target can be replaced**: it is opened for writing (without changing
  it); on Windows a file open in Excel fails here (a sharing violation), and the user
  is asked for another name before anything is sent;
* **the journal has room**: the data folder's free space (``shutil.disk_usage``, where
  the OS can say) is at least an estimate of what the run's journal needs.

Paths longer than 260 characters on Windows are written through their ``\\\\?\\`` form
(:func:`native_path`). When the target becomes locked after the check (Excel opened it
during the run), :func:`sibling_name` gives the name the writer uses instead, and the
message says where the file went (see :class:`~recotap_desktop.files.writers.TableWriter`).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath, PureWindowsPath

from recotap_desktop.errors import UserError

__all__ = [
    "JOURNAL_BYTES_PER_ROW",
    "JOURNAL_MARGIN",
    "REPORT_SUFFIXES",
    "TargetProblem",
    "check_data_dir",
    "check_target",
    "journal_bytes",
    "name_problem",
    "native_path",
    "probe_folder",
    "same_file",
    "sibling_name",
]

#: What a table can be written as (see :class:`~recotap_desktop.files.writers.TableWriter`).
REPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")

#: Journal estimate: bytes of history (row outcome, journal entry, WAL copy) per row, and
#: a fixed margin for the database's own growth. Measured: a 20 000-row accounts import
#: grows ``history.sqlite3`` + ``-wal`` by ~6 MB (about 300 bytes per row); x3 for safety.
JOURNAL_BYTES_PER_ROW = 1024
JOURNAL_MARGIN = 4 * 1024 * 1024

_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]|conin\$|conout\$)$",
                       re.IGNORECASE)
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')
_WINDOWS_MAX_PATH = 260


class TargetProblem(UserError):
    """An output path cannot be used; ``message`` says why and what to do."""

    def __init__(self, message: str, *, path: PurePath | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _platform(platform: str | None) -> str:
    return platform or sys.platform


def name_problem(name: str, platform: str | None = None) -> str | None:
    """Why ``name`` (a file name, no folder) is not portable, or None.

    Reserved device names and trailing dots/spaces are refused on every platform (a
    file written on Linux or macOS must open on Windows); the characters Windows
    forbids only on Windows.
    """
    if not name or name in (".", ".."):
        return "the file name is empty"
    if name[-1] in ". ":
        return (f"the name {name!r} ends with a {'dot' if name[-1] == '.' else 'space'}, "
                "which Windows drops (the file would get another name there)")
    stem = name.split(".", 1)[0].rstrip(" ")
    if _RESERVED.match(stem):
        return (f"{stem.upper()} is a reserved device name on Windows (also with an "
                f"extension, as in {name!r}); such a file cannot be opened there")
    if _platform(platform) == "win32":
        bad = _WINDOWS_FORBIDDEN.search(name)
        if bad:
            return f"Windows does not allow the character {bad.group()!r} in a file name"
    return None


def native_path(path: str | PurePath, platform: str | None = None) -> str:
    """``path`` as the OS functions should get it.

    On Windows an absolute path of 260 characters or more gets the ``\\\\?\\`` prefix
    (``\\\\?\\UNC\\server\\share\\…`` for a network path), so it can be written without
    the system's long-path setting; elsewhere, and for shorter paths, it is unchanged.
    """
    text = str(path)
    if _platform(platform) != "win32" or len(text) < _WINDOWS_MAX_PATH:
        return text
    if text.startswith("\\\\?\\"):
        return text
    win = PureWindowsPath(text)
    if not win.is_absolute():
        return text  # made absolute by the caller; never guessed here
    text = str(win)
    if text.startswith("\\\\"):
        return "\\\\?\\UNC\\" + text[2:]
    return "\\\\?\\" + text


def sibling_name(path: Path, exists: Callable[[Path], bool] = Path.exists) -> Path:
    """The first free ``name (2).csv``, ``name (3).csv``, … beside ``path``."""
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not exists(candidate):
            return candidate
        n += 1


def same_file(a: Path, b: Path, platform: str | None = None) -> bool:
    """Whether ``a`` and ``b`` name the same file: the same resolved path (case-folded on
    Windows and macOS) or, when both exist, the same device and inode (hard links,
    symbolic links, case differences on a case-insensitive disk)."""
    try:
        ra, rb = a.resolve(), b.resolve()
    except OSError:
        ra, rb = a.absolute(), b.absolute()
    if ra == rb:
        return True
    if _platform(platform) in ("win32", "darwin") and str(ra).casefold() == str(rb).casefold():
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def probe_folder(folder: Path) -> None:
    """Create and remove a file in ``folder``; ``OSError`` when that is not possible."""
    fd, name = tempfile.mkstemp(prefix=".recotap-probe-", dir=native_path(folder))
    os.close(fd)
    os.unlink(name)


def _probe_replace(path: Path) -> None:
    """Open an existing target for writing without changing it (Excel's lock fails here)."""
    with open(native_path(path), "r+b"):
        pass


def _why(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "it is on a read-only disk"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)


def check_target(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    label: str = "The report",
    suffixes: tuple[str, ...] = REPORT_SUFFIXES,
    platform: str | None = None,
    probe_replace: Callable[[Path], None] = _probe_replace,
) -> Path:
    """Check that a run can write ``path`` (see the module docstring); return it
    (``~`` expanded, absolute). Raises :class:`TargetProblem` with the user's message.

    ``probe_replace`` opens an existing target for writing (a seam: tests simulate a file
    that Windows keeps locked while Excel has it open).
    """
    target = Path(path).expanduser().absolute()
    name = target.name
    problem = name_problem(name, platform)
    if problem is not None:
        raise TargetProblem(f"{label} {target} cannot be used: {problem}. Choose another name.",
                            path=target)
    if suffixes and target.suffix.lower() not in suffixes:
        listed = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
        raise TargetProblem(f"{label} {target}: use a file name ending in {listed}.", path=target)
    for given in inputs:
        if given is not None and same_file(target, Path(given), platform):
            raise TargetProblem(
                f"{label} {target} is the input file {Path(given).name}: writing it would "
                "overwrite your data. Choose another name.",
                path=target,
            )
    folder = target.parent
    os_folder, os_target = Path(native_path(folder)), Path(native_path(target))
    if not os_folder.is_dir():
        what = "is a file, not a folder" if os_folder.exists() else "does not exist"
        raise TargetProblem(f"{label} {target}: the folder {folder} {what}.", path=target)
    try:
        probe_folder(folder)
    except OSError as exc:
        raise TargetProblem(
            f"{label} {target} cannot be written: the folder {folder} cannot be written to "
            f"({_why(exc)}). Choose another folder.",
            path=target,
        ) from exc
    if os_target.is_dir():
        raise TargetProblem(f"{label} {target} is a folder. Name a file.", path=target)
    if os_target.exists():
        try:
            probe_replace(target)
        except OSError as exc:
            raise TargetProblem(
                f"{label} {target} exists and cannot be replaced ({_why(exc)}). If it is open "
                f"in Excel or another program, close it there, or choose another name such "
                f"as {sibling_name(target).name}.",
                path=target,
            ) from exc
    return target


def journal_bytes(rows: int) -> int:
    """What the journal of a run of ``rows`` rows may need on disk (an upper estimate)."""
    return JOURNAL_MARGIN + max(0, rows) * JOURNAL_BYTES_PER_ROW


def check_data_dir(
    folder: Path,
    *,
    rows: int = 0,
    disk_usage: Callable[[str], tuple[int, int, int]] = shutil.disk_usage,
) -> None:
    """Check the data folder before a run: a writable folder with room for the journal.

    ``disk_usage`` (a seam) is ``shutil.disk_usage``; when the OS cannot say how much
    space is free the space check is left out. Raises :class:`TargetProblem`.
    """
    if not folder.is_dir():
        raise TargetProblem(
            f"The data folder {folder} is not a folder. Start with --data-dir pointing to "
            "a folder you can write to.",
            path=folder,
        )
    try:
        probe_folder(folder)
    except OSError as exc:
        raise TargetProblem(
            f"The data folder {folder} cannot be written to ({_why(exc)}), so the run could "
            "not be journaled. Start with --data-dir pointing to a writable folder.",
            path=folder,
        ) from exc
    try:
        free = disk_usage(native_path(folder))[2]
    except (OSError, ValueError):
        return
    need = journal_bytes(rows)
    if free < need:
        raise TargetProblem(
            f"The disk holding the data folder {folder} has {free / 1e6:,.1f} MB free; a run "
            f"of {rows:,} rows needs about {need / 1e6:,.1f} MB for its journal. Free some "
            "space, or start with --data-dir pointing to another disk. Nothing was sent.",
            path=folder,
        )
