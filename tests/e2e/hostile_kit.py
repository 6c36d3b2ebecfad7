"""The hostile server of ``test_hostile_server``: modes, inputs, and a measured CLI run.

A :class:`~tests.engine.loopback_kit.Proxy` on 127.0.0.1 sits in front of a sandbox that
only accepts :data:`KEY`; each :class:`Mode` changes what reaches the client: HTML
instead of JSON, a truncated document, an answer without the envelope, per-item
results in another order (the sandbox's own ``shuffle_results``), a huge body, a
trickle, a redirect whose ``Location`` carries the key, and the key echoed in
messages and per-row errors.

:func:`run_cli` runs ``recotap`` in a child process and returns its exit code,
output and peak resident memory (measured by the child itself: ``VmHWM`` on Linux,
``ru_maxrss`` elsewhere on POSIX).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from recotap_desktop.sandbox import Faults, SandboxServer
from tests.engine.loopback_kit import Proxy

#: The API key of these tests: distinctive, so a leak is found by a plain byte search.
KEY = "rtpk-hostile-5f2a9c7e1d3b4a6088e1"

Rewrite = Callable[[str, str, int, Any], "tuple[int, Any, dict[str, str]] | None"]
Takeover = Callable[[BaseHTTPRequestHandler, str, str, bytes], bool]


def _raw(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
         headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


# ---- modes ------------------------------------------------------------------------------

def html_takeover(h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
    """A login page (with the key in it) instead of JSON, status 200."""
    page = (f"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
            f"<p>Session {KEY} expired. Please sign in again.</p></body></html>").encode()
    _raw(h, 200, page, "text/html; charset=utf-8")
    return True


def truncated_takeover(h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
    """A JSON document cut in the middle (Content-Length matches the cut text)."""
    text = b'{"statusCode":200,"timestamp":"2026-04-30T10:00:00.000Z","data":{"results":[{"sta'
    _raw(h, 200, text, "application/json")
    return True


def no_envelope_rewrite(method: str, path: str, status: int, doc: Any
                        ) -> tuple[int, Any, dict[str, str]] | None:
    """Valid JSON without the documented envelope (no ``data``; a stray shape)."""
    return 200, {"ok": True, "items": [{"id": 1}], "message": f"key {KEY} accepted"}, {}


def echo_rewrite(method: str, path: str, status: int, doc: Any
                 ) -> tuple[int, Any, dict[str, str]] | None:
    """The key echoed: in per-row ``error``s (every item fails) and in whole-request messages.

    Reads keep working (their rows pass unchanged, messages get the key); each bulk
    write answers every item ``failed`` with the key in its error; the other writes
    (PATCH external-ids, custom-field create) answer 400 with the key in
    ``customMessage`` and in a validation ``constraints`` text.
    """
    if not isinstance(doc, dict):
        return None
    doc["message"] = f"Request authenticated with X-Api-Key {KEY}"
    data = doc.get("data")
    if method == "GET":
        return status, doc, {"X-Debug-Key": KEY}
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(results, list):
        for item in results:
            if isinstance(item, dict):
                item["status"] = "failed"
                item["error"] = f"Rejected for key {KEY}: quota exceeded."
        return 200, doc, {}
    return 400, {"statusCode": 400, "timestamp": doc.get("timestamp"), "path": path,
                 "message": "Bad Request", "customMessage": f"API key {KEY} is not allowed here.",
                 "data": None}, {}


def echo_validation_rewrite(method: str, path: str, status: int, doc: Any
                            ) -> tuple[int, Any, dict[str, str]] | None:
    """Every write answers a 400 validation envelope whose constraint quotes the key."""
    if method == "GET":
        return None
    return 400, {"statusCode": 400, "timestamp": "2026-04-30T10:00:00.000Z", "path": path,
                 "message": "Bad Request",
                 "data": [{"property": "name", "constraints": {
                     "isNotEmpty": f"name should not be empty (key {KEY})"},
                     "children": [{"property": "x", "constraints": {"k": KEY}}]}]}, {}


def redirect_rewrite(method: str, path: str, status: int, doc: Any
                     ) -> tuple[int, Any, dict[str, str]] | None:
    """Every answer is a redirect to a URL (and a text) that carry the key."""
    location = f"http://127.0.0.1:9/login?api_key={KEY}&next={path}"
    body = {"statusCode": 307, "message": f"Moved: {location}", "data": None}
    return 307, body, {"Location": location}


@dataclass
class Huge:
    """An answer of ``size`` bytes (JSON-looking, streamed in 1 MiB pieces), with ``status``.

    An error status comes with ``Retry-After: 0`` so that the client's retries of it
    cost no waiting (each attempt meets the same huge body).
    """

    size: int
    status: int = 200

    def __call__(self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        head = b'{"statusCode":%d,"data":"' % self.status
        h.send_response(self.status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(self.size))
        if self.status >= 400:
            h.send_header("Retry-After", "0")
        h.end_headers()
        try:
            h.wfile.write(head)
            left = self.size - len(head)
            piece = b"x" * (1 << 20)
            while left > 0:
                chunk = piece[:left]
                h.wfile.write(chunk)
                left -= len(chunk)
        except OSError:
            pass  # the client stopped reading: what a bounded client does
        return True


@dataclass
class Trickle:
    """Headers at once, then one byte every ``every`` seconds (stops when the client leaves)."""

    every: float = 0.5
    length: int = 10_000

    def __call__(self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(self.length))
        h.end_headers()
        try:
            h.wfile.flush()
            for _ in range(self.length):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(self.every)
        except OSError:
            pass
        return True


@dataclass
class Mode:
    """One hostile behaviour: a proxy rewrite and/or takeover, or sandbox faults."""

    name: str
    rewrite: Rewrite | None = None
    takeover: Takeover | None = None
    shuffle: bool = False
    env: dict[str, str] = field(default_factory=dict)


def api_only(takeover: Takeover) -> Takeover:
    def wrapped(h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        return _is_api(path) and takeover(h, method, path, body)
    return wrapped


@contextmanager
def hostile(mode: Mode, *, accounts: int = 120) -> Iterator[tuple[SandboxServer, Proxy]]:
    """A sandbox (key :data:`KEY`) behind a proxy playing ``mode``."""
    faults = Faults(shuffle_results=mode.shuffle, seed=5)
    with SandboxServer(accounts=accounts, api_key=KEY, faults=faults, seed=7) as server, \
            Proxy(server.root_url, rewrite=mode.rewrite,
                  takeover=api_only(mode.takeover) if mode.takeover else None) as proxy:
        yield server, proxy


# ---- the child process -------------------------------------------------------------------

@dataclass
class Outcome:
    """What one ``recotap`` child process did."""

    code: int
    stdout: str
    stderr: str
    peak_rss_kib: int | None  # None where the system cannot say (no ``os.wait4``)


#: The child: ``recotap``'s main, writing its own peak memory to a file on exit, with a
#: short overall deadline per request when ``HOSTILE_DEADLINE`` is set (``main``'s
#: ``client_kwargs``, given to every API client the command opens). The
#: peak is read inside the child because ``wait4``'s ``ru_maxrss`` of a child started
#: with vfork/fork also counts the parent's memory at the time of the fork.
_MAIN = """
import atexit, os, sys

def _peak_kib():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak

def _write_peak():
    peak = _peak_kib()
    if peak is not None:
        with open(os.environ["HOSTILE_PEAK_FILE"], "w") as fh:
            fh.write(str(peak))

atexit.register(_write_peak)
client_kwargs = {}
if os.environ.get("HOSTILE_DEADLINE"):  # a short overall deadline per request
    client_kwargs["deadline"] = float(os.environ["HOSTILE_DEADLINE"])
from recotap_desktop.cli import main
sys.exit(main(sys.argv[1:], client_kwargs=client_kwargs))
"""


def run_cli(args: list[str], work: Path, env: dict[str, str] | None = None) -> Outcome:
    """Run ``recotap ARGS`` in a child process; its peak RSS as the child measured it."""
    out_path, err_path, peak_path = work / "stdout.txt", work / "stderr.txt", work / "peak.txt"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("RECOTAP_")}
    child_env.update({"RECOTAP_API_KEY": KEY, "PYTHONUTF8": "1",
                      "HOSTILE_PEAK_FILE": str(peak_path), **(env or {})})
    with out_path.open("wb") as out, err_path.open("wb") as err:
        code = subprocess.call([sys.executable, "-c", _MAIN, *args], stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, env=child_env, cwd=work)
    peak = int(peak_path.read_text()) if peak_path.exists() else None
    if peak is None and os.name == "posix":
        raise AssertionError(f"the child did not report its peak memory (exit {code})")
    return Outcome(code, out_path.read_text("utf-8", "replace"),
                   err_path.read_text("utf-8", "replace"), peak)


def files_holding(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (SQLite files included)."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


def write_inputs(folder: Path) -> dict[str, Path]:
    """Small clean input files: one per import kind, and a CRM export for ``backfill``."""
    files = {
        "accounts": "Record ID,Company name,Website\n"
                    "hx-1,Hostile One,hostile-one.example.com\n"
                    "hx-2,Hostile Two,hostile-two.example.com\n"
                    "hx-3,Hostile Three,hostile-three.example.com\n",
        "deals": "Deal ID,Deal Name,Amount\nhd-1,Deal One,100\nhd-2,Deal Two,200\n"
                 "hd-3,Deal Three,300\n",
        "activities": "Activity ID,Activity Type,Activity Date,Company Domain,Owner Email,"
                      "Contact Email\n"
                      "ha-1,call,2026-04-01 10:30,acme.example.com,jane@you.example,a@x.example\n"
                      "ha-2,email,2026-04-02 10:30,acme.example.com,jane@you.example,b@x.example\n"
                      "ha-3,call,2026-04-03 10:30,acme.example.com,jane@you.example,c@x.example\n",
        "pipelines": "Pipeline ID,Pipeline,Stage ID,Stage\nhp-1,P One,s1,Start\nhp-1,P One,s2,End\n"
                     "hp-2,P Two,s1,Start\n",
    }
    paths = {}
    for kind, text in files.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    return paths


