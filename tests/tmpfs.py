"""A small or read-only file system for a test (a tmpfs mount; root on Linux).

Root ignores file permissions, so a folder that cannot be written, or a disk that fills
up, is made real with a mount instead of chmod. Where mounting is not allowed (not
root, not Linux) the test is skipped with that reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(folder: Path, *, size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    """``folder`` (created) as a tmpfs of ``size``, read-only if asked, for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"{'ro,' if read_only else ''}size={size}"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("needs to mount a tmpfs (root on Linux)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
