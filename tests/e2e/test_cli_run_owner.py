"""One owner per run, and runs whose owner is gone (issue 15, findings 4 and 10): two real
processes against the sandbox; a disk that fills up in the middle of a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.tmpfs import tmpfs

ENV = {**os.environ, "RECOTAP_API_KEY": DEMO_API_KEY}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recotap_desktop.cli", *args], env=ENV,
                          capture_output=True, text=True, check=False, timeout=600)


def _start_import(base: list[str], path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop.cli", *base, "import", "accounts", str(path),
         "--yes", "--concurrency", "2"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_posts(sandbox: SandboxServer, proc: subprocess.Popen[str], n: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(1 for r in sandbox.state.request_log if r.method == "POST") >= n:
            return
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.01)
    raise AssertionError("the import sent nothing")


def _created(sandbox: SandboxServer, prefix: str) -> list[str]:
    return [str(a["externalId"]) for a in sandbox.state.all_accounts()
            if str(a.get("externalId", "")).startswith(prefix + "-")]


def _history_state(base: list[str], run_id: int) -> str:
    done = _cli(*base, "history")
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == str(run_id):
            return fields[3]
    raise AssertionError(done.stdout)


def test_a_run_being_sent_cannot_be_resumed_or_retried_elsewhere(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    n = 3000
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(n, prefix="own"))
    small_sandbox.faults.update(latency=0.15)
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    owner = _start_import(base, path)
    try:
        _wait_for_posts(small_sandbox, owner, 4)
        posts_before = sum(1 for r in small_sandbox.state.request_log if r.method == "POST")
        for command in ("resume", "retry"):
            done = _cli(*base, command, "1")
            assert done.returncode == 2, done.stderr
            assert f"process {owner.pid} (recotap " in done.stderr
            assert "import accounts" in done.stderr
            assert "Traceback" not in done.stderr
        # Another command opening the history leaves a live owner's run alone.
        assert _history_state(base, 1) == "running"
        assert owner.poll() is None
        owner.kill()  # SIGKILL: no clean-up runs; the OS releases the owner lock
        owner.wait(30)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(30)
        if owner.stderr is not None:
            owner.stderr.close()
    assert posts_before > 0
    # Any command marks the run whose owner is gone as interrupted.
    assert _history_state(base, 1) == "interrupted"
    small_sandbox.faults.update(latency=0.0)
    done = _cli(*base, "resume", "1")
    assert done.returncode == 0, done.stderr
    created = _created(small_sandbox, "own")
    assert len(created) == n == len(set(created))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs: room for the run's journal at the start, filled up during the run."""
    with tmpfs(tmp_path / "disk", size="24m") as folder:
        yield folder


def _fill(folder: Path) -> Path:
    """Fill the disk to the last byte (unbuffered writes, smaller and smaller)."""
    ballast = folder / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return ballast


def test_disk_full_mid_run_is_exit_3_with_resume(
    small_sandbox: SandboxServer, tmp_path: Path, small_disk: Path
) -> None:
    n = 3000
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(n, prefix="ful"))
    small_sandbox.faults.update(latency=0.15)
    base = ["--data-dir", str(small_disk / "d"), "--base-url", small_sandbox.base_url("crm")]
    proc = _start_import(base, path)
    try:
        _wait_for_posts(small_sandbox, proc, 4)
        ballast = _fill(small_disk)
        _out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == 3, err  # rows were sent: never 2 ("nothing sent")
    assert "full" in err and "recotap resume 1" in err and "Traceback" not in err
    assert 0 < len(_created(small_sandbox, "ful")) < n
    ballast.unlink()
    assert _history_state(base, 1) in ("aborted", "interrupted")  # never left "running"
    small_sandbox.faults.update(latency=0.0)
    done = _cli(*base, "resume", "1")
    assert done.returncode == 0, done.stderr
    created = _created(small_sandbox, "ful")
    assert len(created) == n == len(set(created))
