"""Two Ctrl-C end a CLI import whose requests hang on the server (finding 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from tests.engine.loopback_kit import Proxy
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv


@pytest.mark.posix_only(reason="sends SIGINT to a child process")
@pytest.mark.skip(
    reason="KNOWN BUG, issue 15 finding 6 still open: about one run in three the CLI stays "
    "alive more than 90 s after the second Ctrl-C (seen in the CI check of 2026-12-05); "
    "suspect a request still connecting, which only the 120 s deadline cuts. Fix, then unskip."
)
def test_two_ctrl_c_end_an_import_whose_requests_hang(tmp_path: Path) -> None:
    arrived = threading.Event()
    release = threading.Event()
    left = threading.Event()

    def hang(h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        if method != "POST":
            return False
        arrived.set()
        h.connection.settimeout(0.1)
        while not release.is_set():  # never answer; notice when the client hangs up
            try:
                if h.connection.recv(1) == b"":
                    left.set()
                    return True
            except TimeoutError:
                continue
        return True

    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(300, prefix="int"))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "RECOTAP_API_KEY": DEMO_API_KEY, "PYTHONPATH": str(root)}
    with SandboxServer(port=0, accounts=5) as sandbox, Proxy(sandbox.root_url,
                                                             takeover=hang) as proxy:
        proc = subprocess.Popen(
            [sys.executable, "-m", "recotap_desktop.cli", "--data-dir", str(tmp_path / "d"),
             "--base-url", proxy.base_url("crm"), "import", "accounts", str(path), "--yes"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert arrived.wait(60), "the import never sent a batch"
            proc.send_signal(signal.SIGINT)
            # The second Ctrl-C once the first was taken (signals sent together merge).
            assert proc.stderr is not None
            seen = ""
            while "Ctrl-C again" not in seen:
                char = proc.stderr.read(1)
                assert char, seen
                seen += char
            proc.send_signal(signal.SIGINT)
            # A guard against a hang only (generous: shared CI machines stall): the server
            # holds every request for good, and without the cancel the client would wait
            # 30 s a read, then retry for minutes.
            out, err = proc.communicate(timeout=90)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert left.is_set()  # the request in flight was abandoned, not waited for
    assert proc.returncode == 130, err
    err = seen + err
    assert "Stopping now" in err
    assert "recotap resume" in err + out
