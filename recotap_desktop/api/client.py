"""The Recotap HTTP client: one method per endpoint (§9.1–9.11), both editions.

:class:`RecotapClient` is a context manager over one :class:`httpx.Client`. Several
engine worker threads may call one client at the same time: httpx's client is
thread-safe, and the client's own state (random source, open/closed flag) is guarded
by a lock; everything else is per call.

Editions
    The edition (``crm`` = Revision A, ``external`` = Revision B) changes only what
    :class:`~recotap_desktop.domain.editions.EditionRules` says: the base URL, the key of
    ``PUT /accounts/:key``, whether ``upsert`` and the ``domains`` filter exist. Paths
    below the base URL are the same in both.

Envelope
    Every answer is unwrapped once (:meth:`RecotapClient._data`): ``data`` of a JSON
    object that has it, else the whole body (tolerating bare arrays, Appendix A).
    Error answers are turned into the error tree of :mod:`.errors` with the text
    extracted per §4.2.

Retries (``RetryPolicy``)
    Retried, with exponential back-off and full jitter, honouring ``Retry-After``
    (seconds or HTTP date) and bounded by ``max_attempts`` and ``max_total``:

    * HTTP 429 and every 5xx, for all methods;
    * connection failures before anything was sent (``ConnectError`` other than TLS,
      ``ConnectTimeout``, ``PoolTimeout``), for all methods;
    * a lost answer (``ReadTimeout``, ``ReadError``, ``RemoteProtocolError`` such as
      "server disconnected", ``WriteError``/``WriteTimeout`` mid-send): always for
      GET; for writes too, because every write endpoint is keyed, so a repeat cannot
      create a second copy:

      ====================================  =============================================
      endpoint                              what a repeat does
      ====================================  =============================================
      ``POST /deals``                       upsert by ``externalDealId``: idempotent
      ``PATCH /accounts/external-ids``      overwrite by domain: idempotent
      ``PUT /accounts/:key``                per-key merge of ``customFields``: idempotent
      ``POST /accounts``                    keyed by ``externalId`` [A] / ``domain`` [B]:
                                            a repeat answers "already exists" per item
                                            (or ``updated`` with upsert); the engine
                                            reconciles
      ``POST /sales-activities``            create-only, keyed by ``externalActivityId``:
                                            a duplicate comes back per item as
                                            ``failed``; the engine reconciles
      ``POST /deal-stages``                 create-only, all-or-nothing: a repeat answers
                                            409 naming the pipelines; the engine
                                            reconciles
      ``POST /accounts/custom-field``       a repeat answers 409; the caller reconciles
                                            (re-read ``GET /accounts/custom-fields``)
      ====================================  =============================================

    When an earlier attempt of a write may have been processed (lost answer or 5xx)
    and a later attempt succeeds, the result has ``possibly_repeated=True``; when a
    later attempt fails, the raised error has ``possibly_repeated=True``. When the
    retries run out (attempts, total time, or a non-retryable failure) after a write's
    answer was lost, :class:`~.errors.AmbiguousOutcome` is raised.

    TLS failures are never retried. Waiting uses ``cancel_event.wait(delay)``, so a
    set event ends the wait at once with :class:`~.errors.CancelledError`; the event is
    also checked before every attempt. ``on_retry`` receives a :class:`RetryInfo`
    before each wait (the engine halves its concurrency on 429).

Secrets
    The key is only put on the wire (``X-Api-Key``) by a private ``httpx.Auth``; it is
    not in ``httpx.Client.headers``, ``repr(client)``, error texts (server texts are
    redacted too) or log records (a :class:`~.redact.SecretFilter` is attached to the
    ``httpx``/``httpcore`` loggers and this module's logger while the client is open).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from recotap_desktop import __version__
from recotap_desktop.api.errors import (
    AmbiguousOutcome,
    ApiStatusError,
    AuthError,
    CancelledError,
    ConfigError,
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
from recotap_desktop.api.models import (
    Account,
    AccountPage,
    BulkResult,
    CustomField,
    MappingResult,
    Segment,
    UnmappedAccount,
    parse_bulk_results,
)
from recotap_desktop.api.redact import Secret, SecretFilter, redact
from recotap_desktop.api.sentences import join_sentences, sentence
from recotap_desktop.api.urls import normalise_base_url
from recotap_desktop.api.wire import (
    Answer,
    Interrupted,
    Redactor,
    TooLarge,
    exchange,
    guard_transport,
)
from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.domain.editions import Edition, EditionRules, rules_for

__all__ = [
    "MAX_DOMAINS_PER_CALL",
    "MAX_PAGE_SIZE",
    "RecotapClient",
    "RetryInfo",
    "RetryPolicy",
    "format_last_sync",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

USER_AGENT = f"recotap-desktop/{__version__}"
MAX_PAGE_SIZE = 100
MAX_DOMAINS_PER_CALL = 100

#: Documented per-request item limits (§7).
LIMITS = {
    "accounts": 100,
    "deals": 100,
    "activities": 50,
    "mappings": 100,
    "pipelines": 20,
}

#: Loggers whose records get the client's SecretFilter while it is open.
_FILTERED_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    __name__,
)

_AUTH_HINT = (
    "Check that the key is the current one (generating a new key invalidates the old "
    "one). API access may also not be enabled for your workspace: it is switched on "
    "by your Recotap account manager."
)


# ---------------------------------------------------------------------------- retry policy


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: at most ``max_attempts`` sends within ``max_total`` seconds.

    Back-off before attempt *n+1* is ``min(max_delay, base_delay * 2**(n-1))``, scaled
    by a uniform random factor in [0, 1) when ``jitter`` is on ("full jitter"). A
    ``Retry-After`` from the server replaces the back-off (not capped by
    ``max_delay``; ``max_total`` still bounds the whole call).
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total: float = 120.0
    jitter: bool = True

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Delay after failed attempt number ``attempt`` (1-based), before jitter cap."""
        cap = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return cap * rng() if self.jitter else cap


@dataclass(frozen=True, slots=True)
class RetryInfo:
    """Told to ``on_retry`` before each back-off wait.

    ``attempt`` is the number of the attempt that just failed (1-based), ``delay`` the
    wait in seconds before the next one, ``reason`` plain words, ``status_code`` the
    HTTP status (``None`` for connection problems).
    """

    attempt: int
    delay: float
    reason: str
    status_code: int | None = None
    method: str = ""
    path: str = ""


def _wall_clock() -> float:
    """Current Unix time (a seam for tests of HTTP-date ``Retry-After``)."""
    return time.time()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns ``None`` when absent or unreadable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = _wall_clock() if now is None else now
    return max(0.0, when.timestamp() - current)


def format_last_sync(value: str | datetime | None) -> str | None:
    """``lastSync`` for the query string: ISO 8601 in UTC with ``Z`` and milliseconds.

    Strings are passed through (stripped; the server's own ``syncTimestamp`` should
    be sent back unchanged). Naive datetimes are taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------------------- internals


class _ApiKeyAuth(httpx.Auth):
    """Adds ``X-Api-Key`` to each request, keeping the key out of client headers."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Api-Key"] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "<ApiKeyAuth ***>"


@dataclass(frozen=True, slots=True)
class _Answer:
    data: Any
    attempts: int
    possibly_repeated: bool


@dataclass(slots=True)
class _Failure:
    error: RecotapError
    retryable: bool
    lost_answer: bool = False  # a write was (maybe) sent and its answer lost
    maybe_processed: bool = False  # this attempt may have been processed (5xx, lost answer)
    retry_after: float | None = None
    reason: str = ""
    status_code: int | None = None


def _encode_path_segment(value: str) -> str:
    segment = quote(value, safe="")
    if segment in (".", ".."):
        segment = segment.replace(".", "%2E")
    return segment


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        current = current.__cause__ or current.__context__
    text = str(exc)
    return any(m in text for m in ("SSL", "CERTIFICATE_VERIFY_FAILED", "certificate verify"))


def _tls_words(exc: BaseException, host: str) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify" in text.lower():
        if "hostname" in text.lower() or "mismatch" in text.lower():
            why = f"the certificate it presented is not valid for the name {host}"
        elif "expired" in text.lower():
            why = "its certificate has expired"
        else:
            why = "its certificate could not be verified"
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


# ---------------------------------------------------------------------------- the client


class RecotapClient:
    """Client for one Recotap connection (edition + base URL + key).

    Use as a context manager (or call :meth:`close`). Every public method raises only
    errors of :mod:`recotap_desktop.api.errors` (plus ``ValueError`` for arguments
    that can never be sent, such as more items than the endpoint accepts).
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        edition: Edition | str = "crm",
        allow_insecure_http: bool = False,
        timeout: float = 30.0,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 16,
        cancel_event: threading.Event | None = None,
        on_retry: Callable[[RetryInfo], None] | None = None,
    ) -> None:
        key = (api_key or "").strip()
        if not key:
            raise ConfigError("No API key was given. Paste the key generated in Recotap.")
        if not key.isascii() or not key.isprintable():
            raise ConfigError(
                "The API key contains characters that cannot be sent (line breaks, "
                "non-ASCII letters...). Copy it again from Recotap."
            )
        try:
            self.rules: EditionRules = rules_for(edition)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.base_url: str = normalise_base_url(base_url, self.rules.edition, allow_insecure_http)
        self.host: str = urlsplit(self.base_url).netloc
        self.retry: RetryPolicy = retry or RetryPolicy()
        self.timeout = timeout
        #: Seconds one exchange (one attempt) may take in all, whatever the server trickles.
        self.deadline: float = deadline if deadline is not None else max(60.0, 4 * timeout)
        self._key = Secret(key)
        self._redactor = Redactor(key)
        self._cancel = cancel_event or threading.Event()
        self._on_retry = on_retry
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._closed = False
        self._secret_filter = SecretFilter([key])
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(self._secret_filter)
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.Client(
            auth=_ApiKeyAuth(self._key),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            limits=limits,
            transport=transport or httpx.HTTPTransport(limits=limits),
            follow_redirects=False,
        )
        # Every socket of the client obeys the deadline and the cancel event (wire.py);
        # a transport passed in by a test is left as it is.
        for mounted in (self._http._transport, *self._http._mounts.values()):
            if mounted is not None:
                guard_transport(mounted)

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> RecotapClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and detach the log filter (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._http.close()
        for name in _FILTERED_LOGGERS:
            logging.getLogger(name).removeFilter(self._secret_filter)

    @property
    def closed(self) -> bool:
        """``True`` after :meth:`close`."""
        return self._closed

    @property
    def edition(self) -> Edition:
        """The edition of this connection."""
        return self.rules.edition

    @property
    def cancel_event(self) -> threading.Event:
        """The event that cancels waits and further attempts when set."""
        return self._cancel

    def __repr__(self) -> str:
        return (
            f"<RecotapClient edition={self.rules.name} base_url={self.base_url!r} "
            f"api_key=***{' closed' if self._closed else ''}>"
        )

    # -- 9.1 accounts ------------------------------------------------------------------

    def iter_account_pages(
        self,
        *,
        last_sync: str | datetime | None = None,
        domains: Sequence[str] | None = None,
        limit: int = 100,
    ) -> Iterator[AccountPage]:
        """Pull accounts page by page (``GET /accounts``), lazily.

        ``last_sync`` (delta sync) is sent unchanged on every page; every page carries
        its response's ``sync_timestamp`` (keep the first page's for the next run).
        ``domains`` (edition ``external`` only) is normalised, de-duplicated and sent
        as a compact JSON array; at most :data:`MAX_DOMAINS_PER_CALL` per call (the
        caller chunks). An empty ``domains`` list yields no page at all.
        """
        params: dict[str, str] = {}
        since = format_last_sync(last_sync)
        if since is not None:
            params["lastSync"] = since
        if domains is not None:
            if isinstance(domains, str):
                raise TypeError("domains must be a sequence of domain names, not one string")
            if not self.rules.supports_domain_filter:
                raise ConfigError(
                    f"The {self.rules.title} cannot filter accounts by domain; "
                    "use the External API edition for domain lookups."
                )
            cleaned = list(dict.fromkeys(d for d in map(normalise_domain, domains) if d))
            if len(cleaned) > MAX_DOMAINS_PER_CALL:
                raise ValueError(
                    f"At most {MAX_DOMAINS_PER_CALL} domains per call ({len(cleaned)} given)"
                )
            if not cleaned:
                return iter(())
            params["domains"] = json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False)
        return self._account_pages(params, limit)

    def account_page(
        self,
        *,
        offset: int,
        last_sync: str | datetime | None = None,
        limit: int = 100,
    ) -> AccountPage:
        """One page of ``GET /accounts`` at an integer offset (edition ``crm`` only).

        The CRM API's cursor is a row offset, so pages can be asked for independently
        (and concurrently); ``has_next_page`` follows the paging rule of
        :func:`more_pages`. Other editions page by an opaque keyset cursor: use
        :meth:`iter_account_pages`.
        """
        if self.rules.paging == "cursor":
            raise ConfigError(
                f"The {self.rules.title} pages accounts by cursor; offsets cannot be used."
            )
        params = {"limit": str(_clamp(limit))}
        since = format_last_sync(last_sync)
        if since is not None:
            params["lastSync"] = since
        if offset:
            params["cursor"] = str(int(offset))
        data = self._request("GET", "accounts", params=params).data
        if not isinstance(data, Mapping):
            raise TransportError(
                "Recotap's answer to GET accounts was not a list page; the base URL or "
                "edition may be wrong.",
                kind="protocol",
                attempts=1,
            )
        rows = data.get("data")
        rows = rows if isinstance(rows, list) else []
        return AccountPage(
            accounts=[Account.from_json(r) for r in rows if isinstance(r, Mapping)],
            next_cursor=_cursor_text(data.get("nextCursor")),
            has_next_page=more_pages(data, rows, _clamp(limit)),
            sync_timestamp=_text_or_none(data.get("syncTimestamp")),
        )

    def _account_pages(self, params: dict[str, str], limit: int) -> Iterator[AccountPage]:
        for data, rows in self._pages("accounts", params, limit):
            yield AccountPage(
                accounts=[Account.from_json(r) for r in rows if isinstance(r, Mapping)],
                next_cursor=_cursor_text(data.get("nextCursor")),
                has_next_page=bool(data) and more_pages(data, rows, _clamp(limit)),
                sync_timestamp=_text_or_none(data.get("syncTimestamp")),
            )

    # -- 9.2 -------------------------------------------------------------------------

    def create_accounts(
        self,
        accounts: Sequence[Mapping[str, Any]],
        *,
        segment_id: str | None = None,
        upsert: bool = False,
    ) -> BulkResult:
        """Push up to 100 accounts (``POST /accounts``); one result per input item.

        ``upsert=True`` on an edition without upsert raises :class:`ConfigError`. On
        the External edition ``upsert`` is always sent explicitly (``false`` =
        create-only); on the CRM edition it is never sent.
        """
        items = _checked_items(accounts, "accounts")
        body: dict[str, Any] = {"accounts": items}
        if segment_id:
            body["segmentId"] = segment_id
        if self.rules.supports_upsert:
            body["upsert"] = bool(upsert)
        elif upsert:
            raise ConfigError(
                f"The {self.rules.title} has no upsert for accounts; existing accounts "
                "cannot be updated through POST /accounts on this edition."
            )
        keys = tuple(dict.fromkeys((self.rules.account_identity_field, "externalId", "domain")))
        return self._bulk("POST", "accounts", body, items, keys)

    # -- 9.3 -------------------------------------------------------------------------

    def update_account(self, key: str, custom_fields: Mapping[str, object]) -> str:
        """Change one account's custom fields (``PUT /accounts/:key``).

        ``key`` is the account's ``rules.account_update_key`` (``externalId`` on CRM,
        ``rtp_aid`` on External); it is URL-encoded as one path segment. Returns the
        server's message (e.g. ``Account updated successfully``).
        """
        key = (key or "").strip()
        if not key:
            raise ValueError(f"An account {self.rules.account_update_key} is required")
        if not custom_fields:
            raise ValueError("Nothing to update: custom_fields is empty")
        path = f"accounts/{_encode_path_segment(key)}"
        answer = self._request("PUT", path, body={"customFields": dict(custom_fields)})
        data = answer.data
        if isinstance(data, Mapping):
            return _text_or_none(data.get("message")) or ""
        return _text_or_none(data) or ""

    # -- 9.4 / 9.5 ---------------------------------------------------------------------

    def list_unmapped_accounts(self, limit: int = 100) -> list[UnmappedAccount]:
        """Accounts that have no ``externalId`` yet (``GET /accounts/missing-external-ids``)."""
        answer = self._request(
            "GET", "accounts/missing-external-ids", params={"limit": str(_clamp(limit))}
        )
        return [UnmappedAccount.from_json(r) for r in _rows(answer.data) if isinstance(r, Mapping)]

    def map_external_ids(self, mappings: Sequence[Mapping[str, str]]) -> MappingResult:
        """Write external ids onto accounts matched by domain (``PATCH /accounts/external-ids``).

        Mappings are sent as given (``{"domain", "externalId"}``); normalise domains first.
        """
        items = _checked_items(mappings, "mappings")
        answer = self._request("PATCH", "accounts/external-ids", body={"mappings": items})
        return MappingResult.from_json(
            answer.data, attempts=answer.attempts, possibly_repeated=answer.possibly_repeated
        )

    # -- 9.6 / 9.7 ---------------------------------------------------------------------

    def list_custom_fields(self) -> list[CustomField]:
        """Active account custom fields (``GET /accounts/custom-fields``)."""
        answer = self._request("GET", "accounts/custom-fields")
        return [CustomField.from_json(r) for r in _rows(answer.data) if isinstance(r, Mapping)]

    def create_custom_field(
        self,
        label: str,
        label_type: str,
        *,
        description: str | None = None,
        options: Sequence[str] | None = None,
    ) -> CustomField:
        """Create an account custom field (``POST /accounts/custom-field``).

        Accepts the documented one-element array answer as well as a bare object. A
        duplicate active key raises :class:`Conflict` (``possibly_repeated`` tells
        whether our own lost earlier attempt may have created it).
        """
        body: dict[str, Any] = {"label": label, "labelType": label_type}
        if description is not None:
            body["description"] = description
        if options is not None:
            if isinstance(options, str):
                raise TypeError("options must be a sequence of strings, not one string")
            body["options"] = list(options)
        answer = self._request("POST", "accounts/custom-field", body=body)
        data = answer.data
        if isinstance(data, Mapping) and not isinstance(data.get("key"), str):
            data = data.get("data", data)
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, Mapping):
            raise AmbiguousOutcome(
                "Recotap accepted the new custom field but did not describe it in its answer; "
                "reload the custom-field list to see whether it exists.",
                kind="protocol",
                attempts=answer.attempts,
            )
        return CustomField.from_json(data)

    # -- 9.8 -------------------------------------------------------------------------

    def iter_segments(self, limit: int = 100) -> Iterator[list[Segment]]:
        """Static segments usable with ``segment_id``, one list per page (``GET /segments``)."""
        for _data, rows in self._pages("segments", {}, limit):
            yield [Segment.from_json(r) for r in rows if isinstance(r, Mapping)]

    def list_segments(self) -> list[Segment]:
        """All segments of every page."""
        return [segment for page in self.iter_segments() for segment in page]

    # -- 9.9 / 9.10 / 9.11 -------------------------------------------------------------

    def push_deals(self, deals: Sequence[Mapping[str, Any]]) -> BulkResult:
        """Upsert up to 100 deals by ``externalDealId`` (``POST /deals``)."""
        items = _checked_items(deals, "deals")
        return self._bulk("POST", "deals", {"deals": items}, items, ("externalDealId",))

    def push_deal_stages(self, pipelines: Sequence[Mapping[str, Any]]) -> BulkResult:
        """Create up to 20 pipelines with their stages (``POST /deal-stages``).

        All-or-nothing: an existing ``pipelineId`` raises :class:`Conflict` naming it.
        """
        items = _checked_items(pipelines, "pipelines")
        return self._bulk("POST", "deal-stages", {"pipelines": items}, items, ("pipelineId",))

    def push_sales_activities(self, activities: Sequence[Mapping[str, Any]]) -> BulkResult:
        """Create up to 50 call/email activities (``POST /sales-activities``)."""
        items = _checked_items(activities, "activities")
        return self._bulk(
            "POST", "sales-activities", {"activities": items}, items, ("externalActivityId",)
        )

    # -- verify ----------------------------------------------------------------------

    def verify(self) -> None:
        """Make the cheapest authenticated call (``GET segments?limit=1``).

        Returns quietly when the key, base URL and edition work; raises the error tree
        otherwise (a 404 gets a hint about the base URL/edition).
        """
        try:
            self._request("GET", "segments", params={"limit": "1"})
        except NotFound as exc:
            exc.message = join_sentences(
                exc.message,
                f"The server does not know this path: check the base URL ({self.base_url}) "
                f"and the API edition ({self.rules.title}).",
            )
            exc.args = (exc.message,)
            raise

    # -- plumbing ----------------------------------------------------------------------

    def _bulk(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        items: list[dict[str, Any]],
        keys: Sequence[str],
    ) -> BulkResult:
        """Send a bulk write; its per-item results are paired with ``items`` by ``keys``."""
        answer = self._request(method, path, body=body)
        result = parse_bulk_results(
            answer.data,
            items,
            keys=keys,
            attempts=answer.attempts,
            possibly_repeated=answer.possibly_repeated,
        )
        answered = _results_count(answer.data)
        if answered != len(items) or result.strays:
            log.warning(
                "%s %s: the server answered %d results for %d items (%d naming no item sent); "
                "unanswered items are reported as failed",
                method,
                path,
                answered,
                len(items),
                len(result.strays),
            )
        return result

    def _pages(
        self, path: str, params: dict[str, str], limit: int
    ) -> Iterator[tuple[Mapping[str, Any], list[Any]]]:
        """Yield ``(data, rows)`` per page; see the module docstring for the rules."""
        page_params = dict(params)
        page_params["limit"] = str(_clamp(limit))
        offset = 0
        seen: set[str] = set()
        while True:
            answer = self._request("GET", path, params=page_params)
            data = answer.data
            if isinstance(data, list):  # a bare array: one page, nothing more
                yield {}, data
                return
            if not isinstance(data, Mapping):
                raise TransportError(
                    f"Recotap's answer to GET {path} was not a list page; the base URL or "
                    "edition may be wrong.",
                    kind="protocol",
                    attempts=answer.attempts,
                )
            rows = data.get("data")
            rows = rows if isinstance(rows, list) else []
            yield data, rows
            if not more_pages(data, rows, _clamp(limit)):
                return
            offset += len(rows)
            cursor = _cursor_text(data.get("nextCursor"))
            if cursor is None:
                cursor = str(offset)
            if cursor in seen or cursor == page_params.get("cursor"):
                log.warning(
                    "GET %s: the server sent cursor %r again; stopping to avoid a loop",
                    path,
                    cursor,
                )
                return
            seen.add(cursor)
            page_params["cursor"] = cursor

    def _check_cancel(self, attempts: int, possibly_repeated: bool) -> None:
        if self._cancel.is_set():
            raise CancelledError(
                "Cancelled." if not possibly_repeated else
                "Cancelled while retrying a request whose earlier answer was lost; "
                "Recotap may or may not have processed it.",
                attempts=attempts,
                possibly_repeated=possibly_repeated,
            )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> _Answer:
        """Send one request with retries; return the unwrapped ``data``."""
        if self._closed:
            raise RuntimeError("The Recotap client is closed")
        write = method != "GET"
        url = self.base_url + path
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            try:
                content = json.dumps(
                    body, ensure_ascii=False, allow_nan=False, separators=(",", ":")
                ).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"The request body cannot be sent as JSON: {exc}") from None
            headers["Content-Type"] = "application/json"
        policy = self.retry
        started = time.monotonic()
        attempt = 0
        earlier_maybe_processed = False  # an earlier attempt may have been processed
        lost_answer = False  # some attempt of this write lost its answer
        while True:
            self._check_cancel(attempt, earlier_maybe_processed)
            attempt += 1
            try:
                request = self._http.build_request(
                    method, url, params=params, content=content, headers=headers
                )
                answer = exchange(
                    self._http,
                    request,
                    path=path,
                    redactor=self._redactor,
                    deadline=self.deadline,
                    cancel=self._cancel,
                )
            except httpx.TransportError as exc:
                failure = self._transport_failure(exc, method, path, write)
                if self._key.reveal() not in str(exc):
                    failure.error.__cause__ = exc  # keep the low-level reason for debugging
            except Interrupted as exc:
                if exc.reason == "cancelled":
                    maybe = write and (exc.sent or earlier_maybe_processed)
                    raise CancelledError(
                        "Cancelled while a request was in flight; Recotap may or may not "
                        "have processed it." if maybe else "Cancelled.",
                        attempts=attempt,
                        possibly_repeated=maybe,
                    ) from None
                failure = self._deadline_failure(method, path, write and exc.sent)
            except TooLarge as exc:
                raise self._too_large(exc, method, path, write, attempt) from None
            else:
                if 200 <= answer.status < 300:
                    data = self._data(answer, method, path, write, attempt)
                    return _Answer(data, attempt, write and earlier_maybe_processed)
                failure = self._status_failure(answer, method, path, write)
            lost_answer = lost_answer or failure.lost_answer
            delay = self._next_delay(failure, attempt, started)
            if delay is None:
                raise self._final_error(
                    failure, method, path, attempt, write, earlier_maybe_processed, lost_answer
                )
            earlier_maybe_processed = earlier_maybe_processed or (
                write and failure.maybe_processed
            )
            info = RetryInfo(
                attempt=attempt,
                delay=delay,
                reason=failure.reason,
                status_code=failure.status_code,
                method=method,
                path=path,
            )
            log.info(
                "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
                method,
                path,
                failure.reason,
                delay,
                attempt + 1,
                policy.max_attempts,
            )
            if self._on_retry is not None:
                self._on_retry(info)
            if self._cancel.wait(delay):
                self._check_cancel(attempt, earlier_maybe_processed)

    def _next_delay(self, failure: _Failure, attempt: int, started: float) -> float | None:
        policy = self.retry
        if not failure.retryable or attempt >= policy.max_attempts:
            return None
        if failure.retry_after is not None:
            delay = failure.retry_after
        else:
            with self._lock:
                delay = policy.backoff(attempt, self._rng.random)
        if time.monotonic() - started + delay > policy.max_total:
            return None
        return delay

    def _final_error(
        self,
        failure: _Failure,
        method: str,
        path: str,
        attempt: int,
        write: bool,
        earlier_maybe_processed: bool,
        lost_answer: bool,
    ) -> RecotapError:
        error = failure.error
        error.attempts = attempt
        error.possibly_repeated = write and earlier_maybe_processed
        exhausted = failure.retryable or isinstance(error, TransportError)
        if write and lost_answer and exhausted and not isinstance(error, AmbiguousOutcome):
            kind: TransportKind = (
                error.kind if isinstance(error, TransportError) else "timeout"
            )
            tries = "once" if attempt == 1 else f"{attempt} times"
            what = (
                f"its answer was lost ({failure.reason})"
                if failure.lost_answer
                else f"the answer to an earlier attempt was lost and the last one ended with: "
                f"{failure.reason}"
            )
            ambiguous = AmbiguousOutcome(
                f"The request {method} /{path} was sent ({tries}) but {what}. Recotap may or "
                "may not have processed it.",
                kind=kind,
                attempts=attempt,
            )
            ambiguous.__cause__ = error
            return ambiguous
        if write and lost_answer and isinstance(error, ApiStatusError):
            error.possibly_repeated = True
        return error

    # -- answers -------------------------------------------------------------------

    def _data(self, answer: Answer, method: str, path: str, write: bool, attempt: int) -> Any:
        """Unwrap the success envelope once (§4.1).

        An object without ``data`` (or an empty answer) is not the documented envelope:
        it is refused like an answer that is not JSON, never read as an empty result.
        A bare array is taken as the data itself (seen live on undocumented routes).
        """
        body = answer.body
        if not answer.readable or answer.empty:
            problem = "could not be read (not JSON"
        elif isinstance(body, Mapping) and "data" in body:
            return body["data"]
        elif isinstance(body, list):
            return body
        else:
            problem = "is not the documented envelope (no \"data\""
        text = (
            f"Recotap's answer to {method} /{path} {problem}; status {answer.status}). "
            "Check the base URL and the edition."
        )
        if write:
            raise AmbiguousOutcome(
                text + " The request may or may not have been processed.",
                kind="protocol",
                attempts=attempt,
            )
        raise TransportError(text, kind="protocol", attempts=attempt)

    def _too_large(
        self, exc: TooLarge, method: str, path: str, write: bool, attempt: int
    ) -> RecotapError:
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

    def _deadline_failure(self, method: str, path: str, sent_write: bool) -> _Failure:
        """The exchange passed its overall deadline (a server answering too slowly)."""
        return _Failure(
            DeadlineExceeded(
                f"Recotap did not finish answering {method} /{path} within "
                f"{self.deadline:g} s (the limit for one request), so it was cut off.",
                kind="timeout",
            ),
            retryable=True,
            lost_answer=sent_write,
            maybe_processed=sent_write,
            reason=f"no complete answer within {self.deadline:g} s",
        )

    def _status_failure(
        self, answer: Answer, method: str, path: str, write: bool
    ) -> _Failure:
        status = answer.status
        body: object = answer.body
        server_message, details, properties, is_validation = _extract_error(body)
        if not server_message:
            server_message = answer.reason or f"HTTP {status}"
            if answer.cut:
                server_message += " (the server's error text was too long to read)"
        url_path = urlsplit(self.base_url).path + path
        common: dict[str, Any] = {
            "status_code": status,
            "path": url_path,
            "server_message": server_message,
            "details": details,
            "properties": properties,
            "data": body.get("data") if isinstance(body, Mapping) else None,
        }
        where = f"{method} /{path}"
        if status == 401:
            return _Failure(
                AuthError(
                    f"Recotap refused the API key (401: {server_message}). {_AUTH_HINT}",
                    **common,
                ),
                retryable=False,
                reason="unauthorised (401)",
                status_code=status,
            )
        if status == 429:
            retry_after = parse_retry_after(answer.header("Retry-After"))
            return _Failure(
                RateLimited(
                    f"Recotap limited the request rate (429) and the retries ran out: "
                    f"{server_message}. Try again later, or with fewer requests at a time.",
                    retry_after=retry_after,
                    **common,
                ),
                retryable=True,
                retry_after=retry_after,
                reason="rate limited (429)",
                status_code=status,
            )
        if status >= 500:
            return _Failure(
                ServerError(
                    f"Recotap had a server problem ({status}: {server_message}) with "
                    f"{where}. Try again later.",
                    **common,
                ),
                retryable=True,
                maybe_processed=True,
                retry_after=parse_retry_after(answer.header("Retry-After")),
                reason=f"server error ({status})",
                status_code=status,
            )
        if 300 <= status < 400:
            location = answer.header("Location") or ""
            return _Failure(
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
        cls: type[RequestRejected] = RequestRejected
        what = "rejected the request"
        if status == 404:
            cls, what = NotFound, "found nothing for the request"
        elif status == 409:
            cls, what = Conflict, "reported a conflict"
        return _Failure(
            cls(
                sentence(f"Recotap {what} {where} ({status}): {server_message}"),
                is_validation=is_validation,
                **common,
            ),
            retryable=False,
            reason=f"rejected ({status})",
            status_code=status,
        )

    def _transport_failure(
        self, exc: httpx.TransportError, method: str, path: str, write: bool
    ) -> _Failure:
        host = self.host
        detail = redact(str(exc), self._key.reveal()) or type(exc).__name__
        where = f"{method} /{path}"
        if isinstance(exc, httpx.ConnectError) and _is_tls_failure(exc):
            return _Failure(
                TransportError(_tls_words(exc, host), kind="tls"),
                retryable=False,
                reason="secure connection failed",
            )
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            what = "connecting took too long" if isinstance(exc, httpx.ConnectTimeout) else (
                "no free connection became available in time"
            )
            return _Failure(
                TransportError(
                    f"Could not reach Recotap at {host}: {what}. Check the internet "
                    "connection and proxy settings.",
                    kind="timeout",
                ),
                retryable=True,
                reason=what,
            )
        if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
            return _Failure(
                TransportError(
                    f"Could not connect to Recotap at {host} ({detail}). Check the internet "
                    "connection, proxy settings and the base URL.",
                    kind="connect",
                ),
                retryable=True,
                reason="connection failed",
            )
        lost = isinstance(
            exc,
            httpx.ReadTimeout
            | httpx.WriteTimeout
            | httpx.ReadError
            | httpx.WriteError
            | httpx.RemoteProtocolError,
        )
        if lost:
            timed_out = isinstance(exc, httpx.TimeoutException)
            kind: TransportKind = "timeout" if timed_out else "protocol"
            reason = (
                f"no answer within {self.timeout:g} s" if timed_out
                else f"connection dropped ({detail})"
            )
            text = (
                f"Recotap did not answer {where} in time ({self.timeout:g} s)."
                if timed_out
                else f"The connection to {host} broke during {where} ({detail})."
            )
            return _Failure(
                TransportError(text, kind=kind),
                retryable=True,
                lost_answer=write,
                maybe_processed=write,
                reason=reason,
            )
        # UnsupportedProtocol, LocalProtocolError, DecodingError...: not worth retrying.
        return _Failure(
            TransportError(
                f"The exchange with Recotap at {host} failed ({detail}).", kind="protocol"
            ),
            retryable=False,
            reason=f"protocol problem ({type(exc).__name__})",
        )


# ---------------------------------------------------------------------------- helpers


def _clamp(limit: int) -> int:
    try:
        value = int(limit)
    except (TypeError, ValueError):
        value = MAX_PAGE_SIZE
    return max(1, min(MAX_PAGE_SIZE, value))


def more_pages(data: Mapping[str, Any], rows: Sequence[Any], limit: int) -> bool:
    """Whether a list answer has a next page: the paging rule of the Product decisions.

    ``hasNextPage`` decides when the answer carries it (a boolean). When it is absent
    (Revision A documents only the offset), an integer ``nextCursor`` or a full page
    (``limit`` rows) means more. An empty page never has a next one.
    """
    if not rows:
        return False
    flag = data.get("hasNextPage")
    if isinstance(flag, bool):
        return flag
    cursor = data.get("nextCursor")
    if isinstance(cursor, int) and not isinstance(cursor, bool):
        return True
    return len(rows) >= limit


def _cursor_text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _rows(data: object) -> list[Any]:
    """A plain array answer, tolerating a paged wrapper around it."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get("data"), list):
        return list(data["data"])
    return []


def _results_count(data: object) -> int:
    if isinstance(data, Mapping):
        results = data.get("results", data.get("data"))
        return len(results) if isinstance(results, list) else 0
    return len(data) if isinstance(data, list) else 0


def _checked_items(items: Sequence[Mapping[str, Any]], name: str) -> list[dict[str, Any]]:
    if isinstance(items, Mapping | str | bytes):
        raise TypeError(f"{name} must be a sequence of objects")
    out = [dict(item) for item in items]
    if not out:
        raise ValueError(f"No {name} to send")
    limit = LIMITS[name]
    if len(out) > limit:
        raise ValueError(f"At most {limit} {name} per request ({len(out)} given)")
    return out
