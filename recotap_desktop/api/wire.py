"""The one place where the server's bytes enter the app: bounded, interruptible, redacted.

:func:`exchange` sends one prepared request and returns an :class:`Answer`. Three rules
hold for every answer, and they are applied here and nowhere else:

Size
    The body is streamed and reading stops once it passes the endpoint's limit
    (:func:`answer_limit`: list pages and bulk results have room for the documented
    maximum many times over; an error body far less). A success answer that is too
    large raises :class:`TooLarge` (the caller says the server sent too much); an
    error answer is cut (its status still counts, its text is not read), so a huge
    error body that is retried costs at most the limit per attempt.
Time and cancellation
    Every socket read and write of the exchange goes through :class:`GuardedBackend`,
    which waits in slices of at most :data:`SLICE` seconds. Between slices it checks
    the request's overall deadline (on top of httpx's per-read timeout, so a server
    trickling one byte at a time is cut) and the cancel event (so a stop interrupts a
    request in flight within a slice). Either raises :class:`Interrupted`.
Secrets
    The reason phrase, every header value and every string of the decoded JSON body
    (keys included) pass through :class:`Redactor` before anything else sees them: the
    API key a server echoes in a message, a per-item error or a redirect's
    ``Location`` never reaches a log, the history, a report or the screen.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, quote_plus

import httpcore
import httpx

from recotap_desktop.api.redact import MASK

__all__ = [
    "ERROR_LIMIT",
    "SLICE",
    "Answer",
    "GuardedBackend",
    "Interrupted",
    "Redactor",
    "TooLarge",
    "answer_limit",
    "exchange",
    "guard_transport",
]

MiB = 1 << 20
#: Longest wait on a socket between two looks at the deadline and the cancel event.
SLICE = 0.25
#: Most bytes read of an error answer (its status decides; its text is a sentence or a list
#: of constraint texts for at most 100 items).
ERROR_LIMIT = 1 * MiB
#: Most bytes read of a success answer, by (method, path below the base URL). A page of 100
#: accounts with custom fields is a few hundred KiB; a bulk answer of 100 results far less.
ANSWER_LIMITS: dict[tuple[str, str], int] = {
    ("GET", "accounts"): 32 * MiB,
    ("GET", "accounts/missing-external-ids"): 16 * MiB,
    ("GET", "accounts/custom-fields"): 8 * MiB,
    ("GET", "segments"): 8 * MiB,
}
#: Every other answer (bulk writes, PUT/PATCH, custom-field create).
DEFAULT_LIMIT = 4 * MiB


def answer_limit(method: str, path: str, status: int) -> int:
    """Most bytes of the answer to ``method path`` with ``status`` that are read."""
    if not 200 <= status < 300:
        return ERROR_LIMIT
    return ANSWER_LIMITS.get((method, path), DEFAULT_LIMIT)


class TooLarge(Exception):
    """A success answer passed its size limit (reading stopped there)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer larger than {limit} bytes")
        self.limit = limit


class Interrupted(Exception):
    """The exchange was cut: ``reason`` is ``"cancelled"`` or ``"deadline"``.

    ``sent`` tells whether any byte of the request had been written (the server may
    then have processed it).
    """

    def __init__(self, reason: Literal["cancelled", "deadline"], sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class Redactor:
    """Masks a secret (as written, and URL-encoded) in text and in decoded JSON."""

    def __init__(self, secret: str) -> None:
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        self._forms = sorted((f for f in forms if f), key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every form of the secret replaced by ``***``."""
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def tree(self, value: Any) -> Any:
        """A JSON value with every string (and object key) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.tree(v) for k, v in value.items()}
        return value


@dataclass(frozen=True, slots=True)
class Answer:
    """A server answer after the boundary: every string in it is redacted.

    ``body`` is the decoded JSON (``None`` when empty, not JSON or cut); ``readable`` is
    ``False`` when the body was not JSON; ``cut`` when an error body passed its limit.
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    body: Any
    empty: bool
    readable: bool
    cut: bool = False
    raw_size: int = field(default=0, compare=False)

    def header(self, name: str) -> str | None:
        """A header's (redacted) value by case-insensitive name."""
        return self.headers.get(name.lower())


# ------------------------------------------------------------------- guarded sockets


@dataclass(slots=True)
class _Guard:
    deadline: float
    cancel: threading.Event
    sent: bool = False

    def check(self) -> float:
        """Raise when cancelled or past the deadline; else the seconds left."""
        if self.cancel.is_set():
            raise Interrupted("cancelled", self.sent)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Interrupted("deadline", self.sent)
        return left


_local = threading.local()  # the guard of the exchange running on this thread


def _guard() -> _Guard | None:
    return getattr(_local, "guard", None)


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        guard = _guard()
        if guard is None:
            return self._inner.read(max_bytes, timeout)
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = guard.check()
            wait = min(SLICE, left)
            if end is not None:
                wait = min(wait, end - time.monotonic())
                if wait <= 0:
                    raise httpcore.ReadTimeout("timed out")
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                if end is not None and time.monotonic() >= end:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        guard = _guard()
        if guard is not None:
            left = guard.check()
            guard.sent = True
            timeout = left if timeout is None else min(timeout, left)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """A network backend whose streams obey the deadline and cancel event of the exchange."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        guard = _guard()
        if guard is not None:
            left = guard.check()
            timeout = left if timeout is None else min(timeout, left)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _GuardedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _GuardedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guard_transport(transport: httpx.BaseTransport) -> bool:
    """Route an :class:`httpx.HTTPTransport`'s sockets through :class:`GuardedBackend`.

    Returns ``False`` (and changes nothing) for any other transport (a test double).
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(transport, httpx.HTTPTransport) or backend is None:
        return False
    if not isinstance(backend, GuardedBackend):
        pool._network_backend = GuardedBackend(backend)  # type: ignore[union-attr]
    return True


# ------------------------------------------------------------------------- exchange


def exchange(
    http: httpx.Client,
    request: httpx.Request,
    *,
    path: str,
    redactor: Redactor,
    deadline: float,
    cancel: threading.Event,
) -> Answer:
    """Send ``request`` and read its answer within the rules of the module docstring.

    ``path`` is the endpoint's path below the base URL (it picks the size limit);
    ``deadline`` the seconds the whole exchange may take. Raises
    :class:`Interrupted`, :class:`TooLarge` and httpx's transport errors.
    """
    guard = _Guard(time.monotonic() + deadline, cancel)
    _local.guard = guard
    try:
        guard.check()
        response = http.send(request, stream=True)
        try:
            limit = answer_limit(request.method, path, response.status_code)
            chunks: list[bytes] = []
            size = 0
            cut = False
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    if 200 <= response.status_code < 300:
                        raise TooLarge(limit)
                    cut = True
                    break
                chunks.append(chunk)
        finally:
            response.close()
    finally:
        _local.guard = None
    content = b"".join(chunks)
    del chunks
    empty = not content.strip() and not cut
    body: Any = None
    readable = not cut
    if content.strip() and not cut:
        try:
            body = redactor.tree(json.loads(content))
        except (ValueError, UnicodeDecodeError):
            readable = False
    headers = {k.lower(): redactor.text(v) for k, v in response.headers.items()}
    return Answer(
        status=response.status_code,
        reason=redactor.text(response.reason_phrase or ""),
        headers=headers,
        body=body,
        empty=empty,
        readable=readable,
        cut=cut,
        raw_size=size,
    )
