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
    extracted per §4.2 (:mod:`.failures`).

Retries (:mod:`.retry`)
    429, 5xx, connection failures and lost answers are retried with back-off, within a
    budget of attempts and time; a write that may have been processed twice says so
    (``possibly_repeated``, :class:`~.errors.AmbiguousOutcome`). What went wrong is
    put into the error tree and plain words by :mod:`.failures`; list answers are paged
    by :mod:`.paging`. :meth:`RecotapClient._request` is the loop that ties them.

Secrets
    The key is only put on the wire (``X-Api-Key``) by a private ``httpx.Auth``; it is
    not in ``httpx.Client.headers``, ``repr(client)``, error texts (server texts are
    redacted too) or log records (a :class:`~.redact.SecretFilter` is attached to the
    ``httpx``/``httpcore`` loggers and this module's logger while the client is open).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from recotap_desktop import __version__
from recotap_desktop.api.errors import (
    AmbiguousOutcome,
    ConfigError,
    NotFound,
    TransportError,
)
from recotap_desktop.api.failures import (
    deadline_failure,
    final_error,
    status_failure,
    too_large,
    transport_failure,
)
from recotap_desktop.api.models import (
    AccountPage,
    BulkResult,
    CustomField,
    MappingResult,
    Segment,
    UnmappedAccount,
    parse_bulk_results,
)
from recotap_desktop.api.paging import (
    MAX_PAGE_SIZE,
    account_page_of,
    clamp_limit,
    format_last_sync,
    pages,
    rows_of,
    text_or_none,
)
from recotap_desktop.api.redact import Secret, SecretFilter
from recotap_desktop.api.retry import (
    Answered,
    Attempts,
    Failure,
    RetryInfo,
    RetryPolicy,
    parse_retry_after,
)
from recotap_desktop.api.sentences import join_sentences
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
    __name__,  # also the logger of .paging
)


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


def _encode_path_segment(value: str) -> str:
    segment = quote(value, safe="")
    if segment in (".", ".."):
        segment = segment.replace(".", "%2E")
    return segment


def _checked_key(api_key: str) -> str:
    """The key as it will be sent (stripped), or :class:`ConfigError` saying why not."""
    key = (api_key or "").strip()
    if not key:
        raise ConfigError("No API key was given. Paste the key generated in Recotap.")
    if not key.isascii() or not key.isprintable():
        raise ConfigError(
            "The API key contains characters that cannot be sent (line breaks, "
            "non-ASCII letters...). Copy it again from Recotap."
        )
    return key


def _open_http(
    key: Secret, timeout: float, max_connections: int, transport: httpx.BaseTransport | None
) -> httpx.Client:
    """The httpx client under a :class:`RecotapClient`: the key put on by its own auth,
    redirects not followed."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    http = httpx.Client(
        auth=_ApiKeyAuth(key),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=httpx.Timeout(timeout),
        limits=limits,
        transport=transport or httpx.HTTPTransport(limits=limits),
        follow_redirects=False,
    )
    # Every socket of the client obeys the deadline and the cancel event (wire.py);
    # a transport passed in by a test is left as it is.
    for mounted in (http._transport, *http._mounts.values()):
        if mounted is not None:
            guard_transport(mounted)
    return http


def _json_body(body: Any) -> tuple[bytes | None, dict[str, str]]:
    """A request body as compact UTF-8 JSON and its header (nothing for no body)."""
    if body is None:
        return None, {}
    try:
        content = json.dumps(
            body, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The request body cannot be sent as JSON: {exc}") from None
    return content, {"Content-Type": "application/json"}


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
        key = _checked_key(api_key)
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
        self._http = _open_http(self._key, timeout, max_connections, transport)

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
        :func:`~.paging.more_pages`. Other editions page by an opaque keyset cursor: use
        :meth:`iter_account_pages`.
        """
        if self.rules.paging == "cursor":
            raise ConfigError(
                f"The {self.rules.title} pages accounts by cursor; offsets cannot be used."
            )
        params = {"limit": str(clamp_limit(limit))}
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
        return account_page_of(data, rows if isinstance(rows, list) else [], limit)

    def _account_pages(self, params: dict[str, str], limit: int) -> Iterator[AccountPage]:
        for data, rows in self._pages("accounts", params, limit):
            yield account_page_of(data, rows, limit)

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
            return text_or_none(data.get("message")) or ""
        return text_or_none(data) or ""

    # -- 9.4 / 9.5 ---------------------------------------------------------------------

    def list_unmapped_accounts(self, limit: int = 100) -> list[UnmappedAccount]:
        """Accounts that have no ``externalId`` yet (``GET /accounts/missing-external-ids``)."""
        answer = self._request(
            "GET", "accounts/missing-external-ids", params={"limit": str(clamp_limit(limit))}
        )
        rows = rows_of(answer.data)
        return [UnmappedAccount.from_json(r) for r in rows if isinstance(r, Mapping)]

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
        return [CustomField.from_json(r) for r in rows_of(answer.data) if isinstance(r, Mapping)]

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
        """Yield ``(data, rows)`` per page of ``GET path`` (:func:`~.paging.pages`)."""
        return pages(lambda query: self._request("GET", path, params=query), path, params, limit)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Answered:
        """Send one request with retries; return the unwrapped ``data``.

        The policy in one loop: send an attempt; a 2xx answer is unwrapped and
        returned; anything else is a :class:`~.retry.Failure` that is either retried
        after the wait :class:`~.retry.Attempts` gives (a set cancel event ends it) or
        raised as :func:`~.failures.final_error` when the policy gives up.
        """
        if self._closed:
            raise RuntimeError("The Recotap client is closed")
        content, headers = _json_body(body)
        tries = Attempts(
            self.retry, write=method != "GET", cancel=self._cancel, jitter=self._jitter
        )
        while True:
            tries.start_next()
            outcome = self._attempt(method, path, params, content, headers, tries)
            if isinstance(outcome, Answered):
                return outcome
            delay = tries.after_failure(outcome)
            if delay is None:
                raise final_error(outcome, method, path, tries)
            self._announce_retry(outcome, delay, method, path, tries.number)
            tries.wait(delay)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
        headers: dict[str, str],
        tries: Attempts,
    ) -> Answered | Failure:
        """Send one attempt: the call's result on a 2xx answer, else what went wrong.

        A cancel while the request is in flight and an answer too large to read end
        the call at once (raised, not retried).
        """
        write = tries.write
        try:
            request = self._http.build_request(
                method, self.base_url + path, params=params, content=content, headers=headers
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
            return transport_failure(
                exc, method, path, write, host=self.host, timeout=self.timeout, key=self._key
            )
        except Interrupted as exc:
            if exc.reason == "cancelled":
                raise tries.cancelled_in_flight(exc.sent) from None
            return deadline_failure(method, path, write and exc.sent, self.deadline)
        except TooLarge as exc:
            raise too_large(exc, method, path, write, tries.number) from None
        if 200 <= answer.status < 300:
            return tries.answered(self._data(answer, method, path, write, tries.number))
        return status_failure(answer, method, path, self.base_url, now=self.retry.clock())

    def _announce_retry(
        self, failure: Failure, delay: float, method: str, path: str, attempt: int
    ) -> None:
        """Log the coming retry and tell ``on_retry`` (before the wait)."""
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
            self.retry.max_attempts,
        )
        if self._on_retry is not None:
            self._on_retry(info)

    def _jitter(self) -> float:
        """The back-off's random factor, from the client's random source (shared by
        threads, hence the lock)."""
        with self._lock:
            return self._rng.random()

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


# ---------------------------------------------------------------------------- helpers


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
