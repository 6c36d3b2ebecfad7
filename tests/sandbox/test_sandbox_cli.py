"""``recotap sandbox``: arguments, printed URLs, clean stop on Ctrl-C."""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from recotap_desktop.sandbox import DEMO_API_KEY
from recotap_desktop.sandbox.cli import add_sandbox_arguments, build_server, run_sandbox_cli


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    return parser.parse_args(list(argv))


def test_arguments_map_to_server_settings() -> None:
    args = _parse("--port", "0", "--latency", "0.05", "--rate-429", "0.1", "--rate-5xx", "0.2",
                  "--drop-before", "0.3", "--drop-after", "0.4", "--seed", "9",
                  "--accounts", "12")
    server = build_server(args)
    assert server.faults.latency == 0.05
    assert (server.faults.rate_429, server.faults.rate_5xx) == (0.1, 0.2)
    assert (server.faults.rate_drop_before, server.faults.rate_drop_after) == (0.3, 0.4)
    assert server.faults.seed == 9 and server.state.seed == 9
    assert len(server.state.accounts) == 12


def test_defaults() -> None:
    args = _parse()
    assert (args.port, args.accounts, args.seed, args.latency) == (8765, 3000, 7, 0.0)


def test_busy_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        code = run_sandbox_cli(_parse("--port", str(port), "--accounts", "1"), out=out, err=err)
    assert code == 2
    assert "cannot listen" in err.getvalue()


@pytest.mark.posix_only(reason='sends SIGINT to a child; Windows delivers '
                        'Ctrl-C only to a console process group')
def test_cli_prints_urls_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop.sandbox", "--port", "0", "--accounts", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # As a shell starts a background job: Ctrl-C ignored. It must stop all the same.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stdout is not None
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        crm = next(w for w in text.split() if w.endswith("/api/v1/crm/"))
        ext = next(w for w in text.split() if w.endswith("/api/v1/"))
        assert DEMO_API_KEY in text
        with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}) as client:
            assert client.get(crm + "segments").status_code == 200
            assert client.get(ext + "accounts").status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Stopping" in out
    assert "Traceback" not in err
    assert "GET /" not in err  # quiet: no per-request log lines
