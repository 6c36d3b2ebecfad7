"""Helpers shared by the sandbox tests (imported by name; tests/sandbox is on sys.path)."""

from __future__ import annotations

import io
from typing import Any

import httpx

from recotap_desktop.sandbox import SandboxServer


class Api:
    """Tiny helper: ``api.get("crm", "accounts", params=...)`` with the demo key."""

    def __init__(self, server: SandboxServer, client: httpx.Client) -> None:
        self.server = server
        self.client = client

    def url(self, edition: str, path: str) -> str:
        return self.server.base_url(edition) + path

    def request(self, method: str, edition: str, path: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, self.url(edition, path), **kw)

    def get(self, edition: str, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", edition, path, **kw)

    def post(self, edition: str, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("POST", edition, path, json=body, **kw)

    def put(self, edition: str, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("PUT", edition, path, json=body, **kw)

    def patch(self, edition: str, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("PATCH", edition, path, json=body, **kw)

    def data(self, response: httpx.Response) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()["data"]

    def inspect(self, path: str) -> Any:
        response = self.client.get(self.server.inspect_url(path))
        assert response.status_code == 200, response.text
        return response.json()


def read_response(fp: io.BufferedReader) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (Content-Length framed) from a socket file."""
    status_line = fp.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = fp.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, fp.read(int(headers.get("content-length", "0")))
