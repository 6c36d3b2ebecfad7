"""Helpers shared by the API layer tests (a uniquely named module, imported by the tests)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import respx

from recotap_desktop.api import RetryPolicy

KEY = "rtp_live_Zq9S3cr3tK3y_7f1c2d"
HOST = "eapi.recotap.com"
PREFIX = {"crm": "/api/v1/crm/", "external": "/api/v1/"}
BASE = {name: f"https://{HOST}{prefix}" for name, prefix in PREFIX.items()}

#: Small, deterministic retry policy: delays 0.01, 0.02, 0.04 ... (no jitter).
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total=30.0, jitter=False)


class RecordingEvent(threading.Event):
    """A cancel event whose ``wait`` records the delay and returns at once.

    ``cancel_on_wait=n`` sets the event during the n-th wait (cancellation while
    backing off).
    """

    def __init__(self, cancel_on_wait: int | None = None) -> None:
        super().__init__()
        self.waits: list[float | None] = []
        self.cancel_on_wait = cancel_on_wait

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if self.cancel_on_wait is not None and len(self.waits) >= self.cancel_on_wait:
            self.set()
        return self.is_set()


def envelope(data: Any, status: int = 200, path: str = "/api/v1/accounts") -> dict[str, Any]:
    return {"statusCode": status, "timestamp": "2026-04-30T10:00:00.000Z", "path": path,
            "data": data}


def ok(data: Any, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json=envelope(data, status), **kwargs)


def error_response(
    status: int,
    *,
    custom: str | None = None,
    data: Any = None,
    message: str = "Bad Request",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"statusCode": status, "timestamp": "2026-04-28T10:15:00.000Z",
                            "path": "/api/v1/accounts", "message": message, "data": data}
    if custom is not None:
        body["customMessage"] = custom
    return httpx.Response(status, json=body, headers=headers)


class Api:
    """Route helper bound to one edition: ``api.route("GET", "accounts")``."""

    def __init__(self, router: respx.MockRouter, edition: str) -> None:
        self.router = router
        self.edition = edition
        self.prefix = PREFIX[edition]

    def route(self, method: str, rel: str) -> respx.Route:
        return self.router.route(method=method, host=HOST, path=self.prefix + rel)
