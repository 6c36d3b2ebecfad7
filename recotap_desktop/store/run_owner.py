"""One owner per run: an OS file lock held by the process that is sending a run.

A run is sent by exactly one process at a time. The process that creates a run, or
resumes or retries it, holds an *owner lock* for it until the run ends: a file
``<history>.owners/<token>.lock`` locked with the OS's file locking (``flock`` on POSIX,
``msvcrt.locking`` on Windows), whose token is stored in ``runs.owner``. The file holds
the owner's process id and command line, so a refusal can name it.

* :meth:`~recotap_desktop.store.history.History.claim_run` takes a run over for a
  resume or retry; while its owner lock is held by a live process it raises
  :class:`RunBusy` (the CLI's exit 2, nothing sent), naming that process.
* The OS releases the locks of a process that dies (``kill -9``, a crash, a power cut),
  so a run still ``running`` whose owner lock is free belongs to a process that is gone:
  every command and the app mark it ``interrupted`` when they open the history
  (:meth:`~recotap_desktop.store.history.History.open`).

Locking a byte far past the end of the file (not byte 0) keeps the process id readable
on Windows, where a locked range cannot be read by others.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["OwnerLock", "RunOwner", "live_owner"]

#: Where the lock byte is: past any content, so the content stays readable (Windows).
_LOCK_OFFSET = 1 << 30


def _describe_process() -> str:
    """This process, for a message such as "process 4242 (recotap import accounts x.csv)"."""
    argv = [os.path.basename(sys.argv[0])] if sys.argv and sys.argv[0] else []
    if argv and argv[0] in ("__main__.py", "cli.py", "-m", "-c"):
        argv = ["recotap"]
    command = " ".join([*argv, *sys.argv[1:]])
    return command if len(command) <= 300 else command[:299] + "…"


@dataclass(frozen=True, slots=True)
class RunOwner:
    """The live process that holds a run's owner lock."""

    pid: int | None
    command: str
    #: The owner is this very History object (another run of this window or command).
    here: bool = False

    def describe(self) -> str:
        if self.here:
            return "this window"
        pid = f"process {self.pid}" if self.pid else "another process"
        return f"{pid} ({self.command})" if self.command else pid


class OwnerLock:
    """An owner lock held by this process until :meth:`release`."""

    def __init__(self, directory: Path) -> None:
        self.token = os.urandom(16).hex()  # (uuid4's randomness; importing uuid costs start-up)
        self.path = directory / f"{self.token}.lock"
        directory.mkdir(parents=True, exist_ok=True)
        self._handle: IO[bytes] | None = open(self.path, "w+b")  # noqa: SIM115 - held open
        try:
            _lock(self._handle)
            self._handle.write(f"{os.getpid()}\n{_describe_process()}\n".encode())
            self._handle.flush()
        except OSError:
            self._handle.close()
            self._handle = None
            raise

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                _unlock(self._handle)
            self._handle.close()
            self._handle = None
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    @staticmethod
    def is_held(path: Path) -> bool:
        """Whether a live process holds the lock file at ``path``."""
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - closed below
        except OSError:
            return False
        try:
            try:
                _lock(handle)
            except OSError:
                return True
            _unlock(handle)
            return False
        finally:
            handle.close()


def live_owner(path: Path) -> RunOwner | None:
    """The process holding the owner lock at ``path``, or None when none does."""
    if not OwnerLock.is_held(path):
        return None
    pid: int | None = None
    command = ""
    with contextlib.suppress(OSError, ValueError):
        first, _, rest = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        pid = int(first)
        command = rest.strip()
    return RunOwner(pid, command)


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        position = handle.tell()
        handle.seek(_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        finally:
            handle.seek(position)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
