"""What went wrong with one attempt, in the client's error objects and plain words.

An HTTP status that is not 2xx (:func:`status_failure`), an httpx transport error
(:func:`transport_failure`) or an exchange that passed its overall deadline
(:func:`deadline_failure`) becomes a :class:`~.retry.Failure`: the error of
:mod:`.errors` to raise, with the server's text extracted per §4.2, and whether
:mod:`.retry` may try again. :func:`final_error` is the error raised when the retries
end, :func:`too_large` the one for an answer larger than the app reads.

Texts never hold the API key: a transport error's own text is redacted, and it is kept
as the ``__cause__`` only when it does not hold the key.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from recotap_desktop.api.errors import (
    AmbiguousOutcome,
    ApiStatusError,
    AuthError,
    Conflict,
    DeadlineExceeded,
    NotFound,
    RateLimited,
    RecotapError,
    RequestRejected,
    ServerError,
    TransportError,
    TransportKind,
)
from recotap_desktop.api.redact import Secret, redact
from recotap_desktop.api.retry import Attempts, Failure, parse_retry_after
from recotap_desktop.api.sentences import sentence
from recotap_desktop.api.wire import Answer, TooLarge

__all__ = [
    "deadline_failure",
    "final_error",
    "status_failure",
    "too_large",
    "transport_failure",
]

_AUTH_HINT = (
    "Check that the key is the current one (generating a new key invalidates the old "
    "one). API access may also not be enabled for your workspace: it is switched on "
    "by your Recotap account manager."
)

#: Transport errors after which the request may have been sent and its answer lost.
_LOST_ANSWER = (
    httpx.ReadTimeout
    | httpx.WriteTimeout
    | httpx.ReadError
    | httpx.WriteError
    | httpx.RemoteProtocolError
)


# ---------------------------------------------------------------------------- error bodies


def _walk_validation(
    items: Sequence[Any], prefix: str, details: list[str], properties: list[str]
) -> None:
    """Collect constraint texts and dotted property paths from class-validator objects."""
    for item in items:
        if isinstance(item, str):
            details.append(item)
            continue
        if not isinstance(item, Mapping):
            continue
        prop = item.get("property")
        name = f"{prefix}.{prop}" if prefix and prop not in (None, "") else str(prop or prefix)
        constraints = item.get("constraints")
        if isinstance(constraints, Mapping):
            texts = [str(v) for v in constraints.values() if isinstance(v, str | int | float)]
            details.extend(texts)
            if texts and name and name not in properties:
                properties.append(name)
        children = item.get("children")
        if isinstance(children, Sequence) and not isinstance(children, str):
            _walk_validation(children, name, details, properties)


def _extract_error(body: object) -> tuple[str, list[str], list[str], bool]:
    """``(server_message, details, properties, is_validation)`` from an error body (§4.2)."""
    if not isinstance(body, Mapping):
        return "", [], [], False
    details: list[str] = []
    properties: list[str] = []
    data = body.get("data")
    is_validation = isinstance(data, list) and bool(data)
    if isinstance(data, list):
        _walk_validation(data, "", details, properties)
    message = body.get("message")
    if isinstance(message, list):  # Nest's default ValidationPipe puts texts here
        texts = [str(m) for m in message if isinstance(m, str | int | float)]
        if not details and texts:
            details = texts
            is_validation = True
        message = "; ".join(texts)
    custom = body.get("customMessage")
    if isinstance(custom, str) and custom.strip():
        return custom.strip(), details, properties, is_validation
    if details:
        return "; ".join(details), details, properties, is_validation
    if isinstance(message, str) and message.strip():
        return message.strip(), details, properties, is_validation
    error = body.get("error")
    if isinstance(error, str) and error.strip():
        return error.strip(), details, properties, is_validation
    return "", details, properties, is_validation


# ---------------------------------------------------------------------------- HTTP status


def status_failure(answer: Answer, method: str, path: str, base_url: str, *,
                   now: float | None = None) -> Failure:
    """The failure of an answer whose status is not 2xx (``path`` below ``base_url``);
    a ``Retry-After`` HTTP date is measured from ``now`` (default: the current time)."""
    body: object = answer.body
    server_message, details, properties, is_validation = _extract_error(body)
    if not server_message:
        server_message = answer.reason or f"HTTP {answer.status}"
        if answer.cut:
            server_message += " (the server's error text was too long to read)"
    common: dict[str, Any] = {
        "status_code": answer.status,
        "path": urlsplit(base_url).path + path,
        "server_message": server_message,
        "details": details,
        "properties": properties,
        "data": body.get("data") if isinstance(body, Mapping) else None,
    }
    where = f"{method} /{path}"
    status = answer.status
    if status == 401:
        return _unauthorised(common)
    if status == 429:
        return _rate_limited(answer, common, now)
    if status >= 500:
        return _server_error(answer, where, common, now)
    if 300 <= status < 400:
        return _redirect(answer, where, common)
    return _rejected(where, is_validation, common)


def _unauthorised(common: dict[str, Any]) -> Failure:
    """401: the key was refused (not retried)."""
    return Failure(
        AuthError(
            f"Recotap refused the API key (401: {common['server_message']}). {_AUTH_HINT}",
            **common,
        ),
        retryable=False,
        reason="unauthorised (401)",
        status_code=common["status_code"],
    )


def _rate_limited(answer: Answer, common: dict[str, Any], now: float | None) -> Failure:
    """429: retried, after the server's ``Retry-After`` when it gave one."""
    retry_after = parse_retry_after(answer.header("Retry-After"), now=now)
    return Failure(
        RateLimited(
            f"Recotap limited the request rate (429) and the retries ran out: "
            f"{common['server_message']}. Try again later, or with fewer requests at a time.",
            retry_after=retry_after,
            **common,
        ),
        retryable=True,
        retry_after=retry_after,
        reason="rate limited (429)",
        status_code=answer.status,
    )


def _server_error(answer: Answer, where: str, common: dict[str, Any],
                  now: float | None) -> Failure:
    """5xx: retried; the attempt may have been processed."""
    status = answer.status
    return Failure(
        ServerError(
            f"Recotap had a server problem ({status}: {common['server_message']}) with "
            f"{where}. Try again later.",
            **common,
        ),
        retryable=True,
        maybe_processed=True,
        retry_after=parse_retry_after(answer.header("Retry-After"), now=now),
        reason=f"server error ({status})",
        status_code=status,
    )


def _redirect(answer: Answer, where: str, common: dict[str, Any]) -> Failure:
    """3xx: never followed, so that the key does not travel elsewhere (not retried)."""
    status = answer.status
    location = answer.header("Location") or ""
    return Failure(
        ApiStatusError(
            f"Recotap answered {where} with a redirect ({status}) to {location!r}; "
            "redirects are not followed (the key must not travel elsewhere). "
            "Check the base URL.",
            **common,
        ),
        retryable=False,
        reason=f"redirect ({status})",
        status_code=status,
    )


def _rejected(where: str, is_validation: bool, common: dict[str, Any]) -> Failure:
    """Any other status (4xx): the request was refused; 404 and 409 have their own types
    (not retried)."""
    status = common["status_code"]
    cls: type[RequestRejected] = RequestRejected
    what = "rejected the request"
    if status == 404:
        cls, what = NotFound, "found nothing for the request"
    elif status == 409:
        cls, what = Conflict, "reported a conflict"
    return Failure(
        cls(
            sentence(f"Recotap {what} {where} ({status}): {common['server_message']}"),
            is_validation=is_validation,
            **common,
        ),
        retryable=False,
        reason=f"rejected ({status})",
        status_code=status,
    )


# ---------------------------------------------------------------------------- transport


def transport_failure(
    exc: httpx.TransportError,
    method: str,
    path: str,
    write: bool,
    *,
    host: str,
    timeout: float,
    key: Secret,
) -> Failure:
    """The failure of an attempt that httpx could not complete.

    ``exc`` stays the error's ``__cause__`` (the low-level reason, for debugging)
    unless its text holds the key.
    """
    detail = redact(str(exc), key.reveal()) or type(exc).__name__
    failure = _classify_transport(exc, f"{method} /{path}", write, host, timeout, detail)
    if key.reveal() not in str(exc):
        failure.error.__cause__ = exc  # keep the low-level reason for debugging
    return failure


def _classify_transport(
    exc: httpx.TransportError, where: str, write: bool, host: str, timeout: float, detail: str
) -> Failure:
    if isinstance(exc, httpx.ConnectError) and _is_tls_failure(exc):
        return Failure(
            TransportError(_tls_words(exc, host), kind="tls"),
            retryable=False,
            reason="secure connection failed",
        )
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return _connect_timeout(exc, host)
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return Failure(
            TransportError(
                f"Could not connect to Recotap at {host} ({detail}). Check the internet "
                "connection, proxy settings and the base URL.",
                kind="connect",
            ),
            retryable=True,
            reason="connection failed",
        )
    if isinstance(exc, _LOST_ANSWER):
        return _lost_answer(exc, where, write, host, timeout, detail)
    # UnsupportedProtocol, LocalProtocolError, DecodingError...: not worth retrying.
    return Failure(
        TransportError(
            f"The exchange with Recotap at {host} failed ({detail}).", kind="protocol"
        ),
        retryable=False,
        reason=f"protocol problem ({type(exc).__name__})",
    )


def _connect_timeout(exc: httpx.TransportError, host: str) -> Failure:
    """Nothing was sent: connecting, or waiting for a free connection, took too long."""
    what = "connecting took too long" if isinstance(exc, httpx.ConnectTimeout) else (
        "no free connection became available in time"
    )
    return Failure(
        TransportError(
            f"Could not reach Recotap at {host}: {what}. Check the internet "
            "connection and proxy settings.",
            kind="timeout",
        ),
        retryable=True,
        reason=what,
    )


def _lost_answer(
    exc: httpx.TransportError, where: str, write: bool, host: str, timeout: float, detail: str
) -> Failure:
    """The request went out (maybe in part) and no complete answer came back."""
    timed_out = isinstance(exc, httpx.TimeoutException)
    kind: TransportKind = "timeout" if timed_out else "protocol"
    reason = (
        f"no answer within {timeout:g} s" if timed_out
        else f"connection dropped ({detail})"
    )
    text = (
        f"Recotap did not answer {where} in time ({timeout:g} s)."
        if timed_out
        else f"The connection to {host} broke during {where} ({detail})."
    )
    return Failure(
        TransportError(text, kind=kind),
        retryable=True,
        lost_answer=write,
        maybe_processed=write,
        reason=reason,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from (httpx wraps the ssl module's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_tls_failure(exc: BaseException) -> bool:
    if any(isinstance(c, ssl.SSLError | ssl.CertificateError) for c in _causes(exc)):
        return True
    text = str(exc)
    return any(m in text for m in ("SSL", "CERTIFICATE_VERIFY_FAILED", "certificate verify"))


#: OpenSSL's verification codes (X509_V_ERR_*) that have words of their own.
_CERT_EXPIRED, _HOSTNAME_MISMATCH = 10, 62


def _certificate_problem(exc: BaseException, host: str) -> str | None:
    """Why the server's certificate was refused: OpenSSL's verification code when the
    ssl module's error is in the chain (as with real connections); its text only when
    it is not."""
    found = next((c for c in _causes(exc) if isinstance(c, ssl.SSLCertVerificationError)),
                 None)
    code = getattr(found, "verify_code", None) if found is not None else None
    if code is None:
        text = str(exc).lower()
        if "certificate_verify_failed" not in text and "certificate verify" not in text:
            return None
        code = (_HOSTNAME_MISMATCH if "hostname" in text or "mismatch" in text
                else _CERT_EXPIRED if "expired" in text else 0)
    if code == _HOSTNAME_MISMATCH:
        return f"the certificate it presented is not valid for the name {host}"
    if code == _CERT_EXPIRED:
        return "its certificate has expired"
    return "its certificate could not be verified"


def _tls_words(exc: BaseException, host: str) -> str:
    text = str(exc)
    why = _certificate_problem(exc, host)
    if why is not None:
        return (
            f"A secure (TLS) connection to {host} could not be made: {why}. If your "
            "network inspects HTTPS traffic (a company proxy or security software), this "
            "computer must trust that proxy's certificate; otherwise check the base URL."
        )
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text.lower():
        return (
            f"A secure (TLS) connection to {host} could not be made: the server did not "
            "answer in HTTPS on that port. Check the base URL (https:// vs http://, port)."
        )
    return (
        f"A secure (TLS) connection to {host} could not be made ({text or type(exc).__name__}). "
        "Check the base URL and any proxy or security software between you and Recotap."
    )


# ---------------------------------------------------------------------------- the rest


def deadline_failure(method: str, path: str, sent_write: bool, deadline: float) -> Failure:
    """The exchange passed its overall deadline (a server answering too slowly)."""
    return Failure(
        DeadlineExceeded(
            f"Recotap did not finish answering {method} /{path} within "
            f"{deadline:g} s (the limit for one request), so it was cut off.",
            kind="timeout",
        ),
        retryable=True,
        lost_answer=sent_write,
        maybe_processed=sent_write,
        reason=f"no complete answer within {deadline:g} s",
    )


def too_large(exc: TooLarge, method: str, path: str, write: bool, attempt: int) -> RecotapError:
    """The server sent more than this app reads for the endpoint (not retried)."""
    text = (
        f"Recotap's server sent too much: its answer to {method} /{path} was larger "
        f"than {exc.limit // (1 << 20)} MiB, the most this app reads for it, so reading "
        "stopped. Check the base URL; if it is right, report this to Recotap."
    )
    if write:
        return AmbiguousOutcome(
            text + " The request may or may not have been processed.",
            kind="protocol",
            attempts=attempt,
        )
    return TransportError(text, kind="protocol", attempts=attempt)


def final_error(failure: Failure, method: str, path: str, tries: Attempts) -> RecotapError:
    """The error raised when the policy gives up after ``failure``.

    It carries the number of attempts and whether a write may have been repeated. A
    write whose answer was lost along the way ends in :class:`~.errors.AmbiguousOutcome`
    (the failure's own error as its cause), unless the last attempt was refused in a way
    not worth retrying: then that refusal is raised, marked ``possibly_repeated``.
    """
    attempt, write = tries.number, tries.write
    error = failure.error
    error.attempts = attempt
    error.possibly_repeated = write and tries.earlier_maybe_processed
    exhausted = failure.retryable or isinstance(error, TransportError)
    if write and tries.lost_answer and exhausted and not isinstance(error, AmbiguousOutcome):
        kind: TransportKind = (
            error.kind if isinstance(error, TransportError) else "timeout"
        )
        tries_text = "once" if attempt == 1 else f"{attempt} times"
        what = (
            f"its answer was lost ({failure.reason})"
            if failure.lost_answer
            else f"the answer to an earlier attempt was lost and the last one ended with: "
            f"{failure.reason}"
        )
        ambiguous = AmbiguousOutcome(
            f"The request {method} /{path} was sent ({tries_text}) but {what}. Recotap may or "
            "may not have processed it.",
            kind=kind,
            attempts=attempt,
        )
        ambiguous.__cause__ = error
        return ambiguous
    if write and tries.lost_answer and isinstance(error, ApiStatusError):
        error.possibly_repeated = True
    return error
