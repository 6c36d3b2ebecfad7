"""Errors raised by the Recotap API layer.

Every error carries ``.message``: plain words a user can read, never containing the
API key. The tree separates "we could not talk to the server" from "the server
answered no", and, for writes, "we do not know whether the server did it"::

    RecotapError(Exception)            .message: str (plain words for a user)
    ├─ ConfigError                     bad/insecure base URL, empty key, option the edition lacks
    ├─ CancelledError                  cancel_event was set while waiting/retrying
    ├─ TransportError                  .kind: "connect" | "timeout" | "tls" | "protocol";
    │  │                               the request is NOT known to have been processed
    │  ├─ DeadlineExceeded             one request took longer than the overall deadline
    │  └─ AmbiguousOutcome             a WRITE was sent and its answer was lost (read timeout,
    │                                  connection dropped after sending); the server may or may
    │                                  not have processed it
    └─ ApiStatusError                  .status_code, .path, .server_message (extracted per §4.2),
       │                               .details: list[str] (constraint texts),
       │                               .properties: list[str] (offending property names),
       │                               .data: the error envelope's ``data`` (redacted)
       ├─ AuthError                    401 (message hints that API access may not be enabled
       │                               for the workspace)
       ├─ RequestRejected              400/404/409 and other 4xx (and unexpected 3xx);
       │  │                            .is_validation: data was a class-validator array
       │  ├─ NotFound                  404
       │  └─ Conflict                  409
       ├─ RateLimited                  429 after the retries ran out; .retry_after: float | None
       └─ ServerError                  5xx after the retries ran out

Two attributes live on every error because the retry loop sets them:

``attempts``
    How many times the request was sent (0 when it never left, e.g. ``ConfigError``).
``possibly_repeated``
    ``True`` when an earlier attempt of this write may have been processed by the
    server (its answer was lost, or it answered 5xx) before this error ended the
    call. Example: ``POST /deal-stages`` times out, the retry answers ``409`` — the
    pipelines were most likely created by the first attempt. Callers reconcile.
    On :class:`AmbiguousOutcome` it is always ``True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from recotap_desktop.errors import EXIT_API, EXIT_CANCELLED, EXIT_USAGE, UserError

TransportKind = Literal["connect", "timeout", "tls", "protocol"]

__all__ = [
    "AmbiguousOutcome",
    "ApiStatusError",
    "AuthError",
    "CancelledError",
    "ConfigError",
    "Conflict",
    "DeadlineExceeded",
    "NotFound",
    "RateLimited",
    "RecotapError",
    "RequestRejected",
    "ServerError",
    "TransportError",
    "TransportKind",
]


class RecotapError(UserError):
    """Base of every error of the API layer; ``.message`` is meant for a user. The CLI
    ends with exit code 3 (an API error) unless a subclass says otherwise."""

    exit_code: ClassVar[int] = EXIT_API

    def __init__(
        self, message: str, *, attempts: int = 0, possibly_repeated: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.possibly_repeated = possibly_repeated

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(RecotapError):
    """The connection settings cannot be used (bad or insecure base URL, empty key...)."""

    exit_code: ClassVar[int] = EXIT_USAGE


class CancelledError(RecotapError):
    """The caller's cancel event was set before a request or during a back-off wait.

    ``possibly_repeated`` is ``True`` when an earlier attempt of a write may already
    have been processed by the server (so the outcome of that write is unknown).
    """

    #: A cancel asked for by the user: the command ends as cancelled (130), not failed.
    exit_code: ClassVar[int] = EXIT_CANCELLED

    def __init__(
        self,
        message: str = "Cancelled.",
        *,
        attempts: int = 0,
        possibly_repeated: bool = False,
    ) -> None:
        super().__init__(message, attempts=attempts, possibly_repeated=possibly_repeated)


class TransportError(RecotapError):
    """The server could not be reached or did not answer usably.

    ``kind`` is ``"connect"`` (no connection), ``"timeout"``, ``"tls"`` (secure
    connection failed; not retried) or ``"protocol"`` (garbled answer). Except for
    :class:`AmbiguousOutcome`, the request is not known to have been processed.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: TransportKind = "connect",
        attempts: int = 0,
        possibly_repeated: bool = False,
    ) -> None:
        super().__init__(message, attempts=attempts, possibly_repeated=possibly_repeated)
        self.kind: TransportKind = kind


class DeadlineExceeded(TransportError):
    """One exchange passed the client's overall deadline (``kind`` is ``"timeout"``).

    httpx's timeout bounds each read; this bounds the whole request, so a server that
    trickles its answer a byte at a time is cut off too. Retried like a lost answer.
    """


class AmbiguousOutcome(TransportError):
    """A write was sent but its answer was lost; the server may or may not have done it."""

    def __init__(
        self,
        message: str,
        *,
        kind: TransportKind = "timeout",
        attempts: int = 0,
        possibly_repeated: bool = True,
    ) -> None:
        super().__init__(message, kind=kind, attempts=attempts, possibly_repeated=True)


class ApiStatusError(RecotapError):
    """The server answered with an error status.

    ``server_message`` is the server's own text extracted per §4.2 (``customMessage``,
    else the joined validation constraints, else ``message``); ``details`` lists the
    individual constraint texts of a validation error and ``properties`` the names of
    the offending properties (nested ones as dotted paths, e.g. ``accounts.3.domain``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        path: str = "",
        server_message: str = "",
        details: Sequence[str] = (),
        properties: Sequence[str] = (),
        data: object = None,
        attempts: int = 0,
        possibly_repeated: bool = False,
    ) -> None:
        super().__init__(message, attempts=attempts, possibly_repeated=possibly_repeated)
        self.data = data
        self.status_code = status_code
        self.path = path
        self.server_message = server_message
        self.details: list[str] = list(details)
        self.properties: list[str] = list(properties)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, {self.message!r})"


class AuthError(ApiStatusError):
    """401: the key was refused (or API access is not enabled for the workspace)."""


class RequestRejected(ApiStatusError):
    """A 4xx other than 401/429: nothing in the request was processed.

    ``is_validation`` is ``True`` when the server sent class-validator objects in
    ``data`` (request-shape problems found before any database work).
    """

    def __init__(self, message: str, *, is_validation: bool = False, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.is_validation = is_validation


class NotFound(RequestRejected):
    """404: the addressed thing (account, or the path itself) does not exist."""


class Conflict(RequestRejected):
    """409: the thing to create exists already (pipelines, custom-field keys)."""


class RateLimited(ApiStatusError):
    """429 after the retries ran out; ``retry_after`` is the server's last hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiStatusError):
    """5xx after the retries ran out."""
