"""A hostile loopback proxy in front of the sandbox, for engine tests over real sockets.

:class:`Proxy` listens on 127.0.0.1, forwards every request to a running sandbox and
lets a test change the answer on its way back: ``rewrite(method, path, status, doc)``
returns the ``(status, doc, headers)`` to send instead (the JSON document as parsed),
and ``takeover(handler, method, path, body)`` may answer a request itself (a trickle, a huge
body) and return ``True``. Everything else passes through unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Rewrite = Callable[[str, str, int, Any], "tuple[int, Any, dict[str, str]] | None"]
Takeover = Callable[[BaseHTTPRequestHandler, str, str, bytes], bool]


class Proxy:
    """Forward to ``upstream`` (a sandbox root URL), rewriting answers on the way back."""

    def __init__(
        self,
        upstream: str,
        *,
        rewrite: Rewrite | None = None,
        takeover: Takeover | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.rewrite = rewrite
        self.takeover = takeover
        self.requests: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

            def do_PUT(self) -> None:
                proxy._handle(self, "PUT")

            def do_PATCH(self) -> None:
                proxy._handle(self, "PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._http = httpx.Client(timeout=30.0)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def base_url(self, edition: str) -> str:
        """The proxy's base URL for an edition (same paths as the sandbox's)."""
        suffix = "/api/v1/crm/" if edition == "crm" else "/api/v1/"
        return f"http://127.0.0.1:{self._server.server_address[1]}{suffix}"

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path
        self.requests.append((method, path))
        if self.takeover is not None and self.takeover(h, method, path, body):
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() in (
            "x-api-key", "content-type", "accept")}
        answer = self._http.request(method, self.upstream + path, content=body, headers=headers)
        status, out_headers = answer.status_code, {}
        doc: Any = None
        try:
            doc = answer.json()
        except ValueError:
            doc = None
        if self.rewrite is not None:
            changed = self.rewrite(method, path.split("?")[0], status, doc)
            if changed is not None:
                status, doc, out_headers = changed
        payload = json.dumps(doc).encode() if doc is not None else answer.content
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        for name, value in out_headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(payload)
