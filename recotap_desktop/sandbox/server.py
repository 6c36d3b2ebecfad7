"""The sandbox HTTP server: real sockets, HTTP/1.1 keep-alive, fault injection.

Both API editions are served at once over one shared :class:`SandboxState`:
Revision A ("CRM API") under ``/api/v1/crm/`` and Revision B ("External API")
under ``/api/v1/``. The server adds no delay of its own: accepted sockets get
``TCP_NODELAY`` and every answer (status line, headers and body) is written with
a single ``sendall``, so Nagle's algorithm and delayed ACKs never stall a
keep-alive connection.

Inspection routes (loopback clients only, no API key, never subject to faults)::

    GET  /_sandbox/state              counts, fault knobs, fault counters, base URLs
    GET  /_sandbox/accounts[?domain=&externalId=&limit=&offset=]
    GET  /_sandbox/accounts/<rtp_aid>
    GET  /_sandbox/segments | custom-fields | deals | pipelines | activities | requests
    GET  /_sandbox/faults             POST /_sandbox/faults {"rate_429": 0.5, ...}
    POST /_sandbox/rescore {"n": 10}  GET /_sandbox/connection (this socket's TCP_NODELAY)

Sandbox-only server rules the client does not check (to exercise batch isolation):
a deal's ``dealCurrencyCode`` must be one of a fixed list of ISO 4217 codes
(:data:`~recotap_desktop.sandbox.validation.CURRENCY_CODES`), an account ``name``
and an activity ``subject`` may have at most 255 characters. A violation rejects
the whole request with the 400 validation envelope, like any documented rule.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from recotap_desktop.domain.editions import Edition, rules_for
from recotap_desktop.sandbox.errors import ApiError, not_found_route
from recotap_desktop.sandbox.faults import Faults
from recotap_desktop.sandbox.routes import (
    CRM_PREFIX,
    EXTERNAL_PREFIX,
    ApiRequest,
    Reply,
    error_reply,
    handle_api,
)
from recotap_desktop.sandbox.state import SandboxState, iso

log = logging.getLogger(__name__)

#: The API key the sandbox accepts by default (sandbox only; public on purpose).
DEMO_API_KEY = "rtp_demo_0000000000000000"

MAX_BODY = 32 * 1024 * 1024
IDLE_TIMEOUT = 120.0


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def _shuffle_results(reply: Reply, faults: Faults) -> bool:
    """Reorder a bulk write's per-item ``data.results`` in place; True when done."""
    data = reply.body.get("data") if isinstance(reply.body, dict) else None
    if reply.status >= 300 or not isinstance(data, dict):
        return False
    results = data.get("results")
    if not isinstance(results, list) or len(results) < 2:
        return False
    data["results"] = faults.reorder(results)
    return True


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: SandboxServer) -> None:
        self.owner = owner
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup we do not want.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            socks = list(self._open)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: error while handling a request from %s", client_address,
                  exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "recotap-sandbox"
    timeout = IDLE_TIMEOUT
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no per-request lines on stderr."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    # ---- plumbing ------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        raw = self.headers.get("Content-Length")
        if not raw:
            return b""
        try:
            length = int(raw)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"HTTP/1.1 {status} {phrase}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            f"Server: {self.server_version}",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.connection.sendall(head + body)  # one piece: no Nagle/delayed-ACK stall
        except OSError:
            self.close_connection = True

    def _send_reply(self, reply: Reply) -> None:
        self._send(reply.status, _dump(reply.body), reply.headers)

    def _drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        path = split.path or "/"
        body = self._read_body()
        if body is None:
            self.close_connection = True
            err = ApiError(400, "Malformed or oversized request body")
            self._send_reply(error_reply(err, path))
            return
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            self._send_reply(self._inspect(path, split.query, body))
            return
        if not path.startswith("/api/"):
            self._send_reply(error_reply(not_found_route(self.command, path), path))
            return
        self._api(owner, path, split.query, body)

    def _api(self, owner: SandboxServer, path: str, query: str, body: bytes) -> None:
        faults, state = owner.faults, owner.state
        latency = faults.latency
        if latency > 0:
            state.count_fault("latency")
            time.sleep(latency)
        if faults.roll(faults.rate_drop_before):
            state.count_fault("drop_before")
            state.log_request(self.command, path, 0)
            self._drop()
            return
        if faults.roll(faults.rate_429):
            state.count_fault("429")
            retry_after = faults.retry_after
            text = f"{retry_after:g}"
            reply = error_reply(ApiError(429, "Too many requests, please retry later"), path)
            reply.headers["Retry-After"] = text
        elif faults.roll(faults.rate_5xx):
            status = faults.choice((503, 500))
            state.count_fault("5xx")
            reply = error_reply(ApiError(status, "Temporary failure (sandbox fault injection)"),
                                path)
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            req = ApiRequest(self.command, path, parse_qs(query, keep_blank_values=True),
                             headers, body)
            reply = handle_api(state, owner.api_key, req, owner.editions)
            if faults.shuffle_results and _shuffle_results(reply, faults):
                state.count_fault("shuffle")
            if faults.roll(faults.rate_drop_after):
                state.count_fault("drop_after")
                state.log_request(self.command, path, 0)
                self._drop()
                return
        state.log_request(self.command, path, reply.status)
        self._send_reply(reply)

    # ---- inspection ---------------------------------------------------------------------

    def _inspect(self, path: str, query: str, body: bytes) -> Reply:
        if not _is_loopback(str(self.client_address[0])):
            return Reply(403, {"error": "the inspection route answers loopback clients only"})
        owner = self.server.owner
        state = owner.state
        parts = [p for p in path.split("/") if p][1:]
        q = {k: v[-1] for k, v in parse_qs(query).items()}
        method = self.command
        try:
            if method == "GET" and parts == ["state"]:
                return Reply(200, {
                    "counts": state.counts(),
                    "faults": owner.faults.as_dict(),
                    "fault_counts": dict(state.fault_counts),
                    "base_urls": {e.value: owner.base_url(e) for e in Edition},
                })
            if method == "GET" and parts[:1] == ["accounts"]:
                return self._inspect_accounts(parts, q)
            if method == "GET" and parts == ["segments"]:
                with state.lock:
                    rows = [{**s, "members": len(state.segment_members[s["segmentId"]])}
                            for s in state.segments.values()]
                return Reply(200, rows)
            if method == "GET" and len(parts) == 1 and parts[0] in (
                    "custom-fields", "deals", "pipelines", "activities"):
                attr = parts[0].replace("-", "_")
                with state.lock:
                    return Reply(200, json.loads(_dump(list(getattr(state, attr).values()))))
            if method == "GET" and parts == ["requests"]:
                with state.lock:
                    rows = [r._asdict() for r in state.request_log]
                return Reply(200, rows)
            if parts == ["faults"] and method in ("GET", "POST"):
                if method == "POST":
                    owner.faults.update(**json.loads(body or b"{}"))
                return Reply(200, owner.faults.as_dict())
            if method == "POST" and parts == ["rescore"]:
                n = int(json.loads(body or b"{}").get("n", 10))
                return Reply(200, {"changed": state.rescore(n)})
            if method == "GET" and parts == ["connection"]:
                nodelay = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                return Reply(200, {"tcp_nodelay": bool(nodelay)})
        except (ValueError, TypeError, AttributeError) as exc:
            return Reply(400, {"error": str(exc)})
        return Reply(404, {"error": f"no inspection route {method} {path}"})

    def _inspect_accounts(self, parts: list[str], q: dict[str, str]) -> Reply:
        state = self.server.owner.state
        if len(parts) == 2:
            acc = state.get_account(parts[1])
            return Reply(200, acc) if acc else Reply(404, {"error": "no such account"})
        if "domain" in q:
            acc = state.account_by_domain(q["domain"])
            return Reply(200, [acc] if acc else [])
        if "externalId" in q:
            acc = state.account_by_external_id(q["externalId"])
            return Reply(200, [acc] if acc else [])
        offset = int(q.get("offset", "0"))
        limit = int(q.get("limit", "1000000"))
        with state.lock:
            aids = list(state.accounts)[offset:offset + limit]
            rows = [state.accounts[a] for a in aids]
            return Reply(200, json.loads(_dump(rows)))


class SandboxServer:
    """A local Recotap API (both editions) on a real socket.

    ``SandboxServer(...).start()`` binds (``port=0``: an ephemeral port) and serves
    in a daemon thread; ``stop()`` shuts it down and closes open keep-alive
    connections. ``serve_forever()`` serves in the calling thread (the CLI).
    ``rescore_every`` (seconds) starts a background thread that re-scores
    ``rescore_count`` accounts at that interval (demo mode).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str = DEMO_API_KEY,
                 faults: Faults | None = None, accounts: int = 3000, seed: int = 7,
                 rescore_every: float | None = None, rescore_count: int = 25,
                 editions: Iterable[Edition | str] | None = None) -> None:
        self.host = host
        #: The editions served (names); ``None``: both. Paths of another edition get 404.
        self.editions: frozenset[str] | None = (
            None if editions is None else frozenset(rules_for(e).name for e in editions)
        )
        self._requested_port = port
        self.api_key = api_key
        self.faults = faults if faults is not None else Faults()
        self.state = SandboxState(accounts=accounts, seed=seed)
        self.rescore_every = rescore_every
        self.rescore_count = rescore_count
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = threading.Event()
        self._rescorer: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SandboxServer {self.host}:{self.port} key=***>"

    # ---- life cycle ----------------------------------------------------------------------

    def _bind(self) -> _HTTPServer:
        with self._lock:
            if self._httpd is None:
                self._httpd = _HTTPServer((self.host, self._requested_port), self)
                self._stopped.clear()
                if self.rescore_every:
                    self._rescorer = threading.Thread(target=self._rescore_loop,
                                                      name="sandbox-rescore", daemon=True)
                    self._rescorer.start()
            return self._httpd

    def _rescore_loop(self) -> None:
        interval = float(self.rescore_every or 0)
        while not self._stopped.wait(interval):
            self.state.rescore(self.rescore_count)

    def start(self) -> SandboxServer:
        """Bind and serve in a daemon thread; returns ``self``."""
        httpd = self._bind()
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(target=httpd.serve_forever, kwargs={
                "poll_interval": 0.05}, name=f"sandbox-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind (if needed) and serve in this thread until :meth:`stop` or Ctrl-C."""
        httpd = self._bind()
        self._serving = True
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            self._serving = False

    def stop(self) -> None:
        """Stop serving, close the listening socket and open connections. Idempotent."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
            thread, self._thread = self._thread, None
        self._stopped.set()
        if httpd is None:
            return
        if thread is not None:
            httpd.shutdown()
            thread.join(timeout=10)
        httpd.server_close()
        httpd.close_open_connections()
        self._serving = False
        if self._rescorer is not None:
            self._rescorer.join(timeout=5)
            self._rescorer = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (the requested one before binding)."""
        httpd = self._httpd
        return int(httpd.server_address[1]) if httpd is not None else self._requested_port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (a wildcard bind address is shown as loopback)."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def base_url(self, edition: Edition | str = "crm") -> str:
        """Base URL of an edition, with trailing slash."""
        rules = rules_for(edition)
        prefix = CRM_PREFIX if rules.edition is Edition.CRM else EXTERNAL_PREFIX
        return self.root_url + prefix

    def inspect_url(self, path: str = "state") -> str:
        """URL of an inspection route, e.g. ``inspect_url("accounts")``."""
        return f"{self.root_url}/_sandbox/{path.lstrip('/')}"
