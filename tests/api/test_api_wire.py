"""Deadline, cancellation and bounded memory over real loopback sockets (findings 5 and 6)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from api_testkit import KEY
from sockets_kit import RawServer

from recotap_desktop.api import (
    AmbiguousOutcome,
    CancelledError,
    DeadlineExceeded,
    RecotapClient,
    RetryPolicy,
)

ONCE = RetryPolicy(max_attempts=1)


def trickle(server: RawServer, conn: socket.socket, head: bytes) -> None:
    server.trickle(conn, every=0.2, most=60)


def test_a_trickling_server_is_cut_at_the_deadline() -> None:
    with RawServer(trickle) as server:
        client = RecotapClient(KEY, base_url=server.base_url(), timeout=5.0, deadline=1.0,
                               retry=ONCE)
        with client, pytest.raises(DeadlineExceeded, match="within 1 s"):
            client.list_segments()
        assert server.client_left.wait(10)


def test_a_write_cut_at_the_deadline_is_ambiguous() -> None:
    with RawServer(trickle) as server:
        client = RecotapClient(KEY, base_url=server.base_url(), timeout=5.0, deadline=1.0,
                               retry=ONCE)
        with client, pytest.raises(AmbiguousOutcome) as caught:
            client.push_deals([{"externalDealId": "d1"}])
    assert isinstance(caught.value.__cause__, DeadlineExceeded)


def test_cancel_interrupts_a_request_in_flight() -> None:
    """The server never answers; setting the cancel event ends the call and the connection."""
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def call(client: RecotapClient) -> None:
        try:
            client.push_deals([{"externalDealId": "d1"}])
        except BaseException as exc:
            outcome.append(exc)

    with RawServer(lambda s, c, h: s.hold(c)) as server, RecotapClient(
        KEY, base_url=server.base_url(), timeout=600.0, deadline=600.0, cancel_event=cancel
    ) as client:
        worker = threading.Thread(target=call, args=(client,))
        worker.start()
        assert server.arrived.wait(30)
        cancel.set()
        worker.join(30)  # a guard against a hang; the server would hold for 600 s
        assert not worker.is_alive()
        assert server.client_left.wait(30)
    assert len(outcome) == 1 and isinstance(outcome[0], CancelledError)
    assert outcome[0].possibly_repeated  # the write had been sent


CHILD = r"""
import resource, sys
from recotap_desktop.api import RecotapClient, RetryPolicy, ServerError, TransportError

def peak():
    # VmHWM: this process's own peak since exec. ru_maxrss would start at the parent's
    # peak (Linux carries it across fork/vfork + exec) and hide growth below it.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024

retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01, jitter=False)
import recotap_desktop
print("package:", recotap_desktop.__file__)
with RecotapClient("KEYKEYKEY", base_url=sys.argv[1], retry=retry) as client:
    before = peak()
    try:
        client.list_segments()
    except TransportError as exc:
        print("success-body:", exc.message)
    try:
        client.list_custom_fields()
    except ServerError as exc:
        print("error-body:", exc.attempts, "attempts")
    print("grew:", peak() - before)
"""

GiB = 1 << 30


def test_huge_answers_keep_memory_bounded(tmp_path: Path) -> None:
    """A 1 GiB success body and a retried 1 GiB error body, in a child process.

    The server declares 1 GiB but sends at most 256 MiB before giving up, so the test
    stays cheap; a client that read whole bodies would still grow by far more than the
    bound below.
    """

    def answer(server: RawServer, conn, head: bytes) -> None:
        status = "200 OK" if b"segments" in head.split(b"\r\n")[0] else "503 Unavailable"
        server.stream(conn, status, declared=GiB, most=256 << 20)

    script = tmp_path / "child.py"
    script.write_text(CHILD.replace("KEYKEYKEY", KEY), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]  # this checkout's package, not an installed one
    env = {**os.environ, "PYTHONPATH": str(root)}
    with RawServer(answer) as server:
        done = subprocess.run([sys.executable, str(script), server.base_url()],
                              capture_output=True, text=True, timeout=600, cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    assert lines["package"].strip().startswith(str(root))
    assert "sent too much" in lines["success-body"]
    assert lines["error-body"].strip() == "3 attempts"
    assert server.requests == 4
    assert int(lines["grew"]) < 96 << 20, done.stdout


