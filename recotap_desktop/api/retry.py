"""The retry policy of one call: what is retried, how long to wait, when to stop.

Retried, with exponential back-off and full jitter, honouring ``Retry-After`` (seconds
or HTTP date) and bounded by ``max_attempts`` and ``max_total`` of :class:`RetryPolicy`:

* HTTP 429 and every 5xx, for all methods;
* connection failures before anything was sent (``ConnectError`` other than TLS,
  ``ConnectTimeout``, ``PoolTimeout``), for all methods;
* a lost answer (``ReadTimeout``, ``ReadError``, ``RemoteProtocolError`` such as
  "server disconnected", ``WriteError``/``WriteTimeout`` mid-send): always for GET;
  for writes too, because every write endpoint is keyed, so a repeat cannot create a
  second copy:

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

When an earlier attempt of a write may have been processed (lost answer or 5xx) and a
later attempt succeeds, the result has ``possibly_repeated=True``; when a later attempt
fails, the raised error has ``possibly_repeated=True``. When the retries run out
(attempts, total time, or a non-retryable failure) after a write's answer was lost,
:class:`~.errors.AmbiguousOutcome` is raised (:func:`.failures.final_error`).

TLS failures are never retried. Waiting uses ``cancel_event.wait(delay)``, so a set
event ends the wait at once with :class:`~.errors.CancelledError`; the event is also
checked before every attempt. ``on_retry`` receives a :class:`RetryInfo` before each
wait (the engine halves its concurrency on 429).

Which failure is retryable is decided where the failure is classified
(:mod:`.failures`, as a :class:`Failure`); this module holds the rest of the policy:
the wait before the next attempt and the budget of attempts and time
(:class:`Attempts`). No httpx here.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from recotap_desktop.api.errors import CancelledError, RecotapError

__all__ = [
    "Answered",
    "Attempts",
    "Failure",
    "RetryInfo",
    "RetryPolicy",
    "check_cancel",
    "parse_retry_after",
]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: at most ``max_attempts`` sends within ``max_total`` seconds.

    Back-off before attempt *n+1* is ``min(max_delay, base_delay * 2**(n-1))``, scaled
    by a uniform random factor in [0, 1) when ``jitter`` is on ("full jitter"). A
    ``Retry-After`` from the server replaces the back-off (not capped by
    ``max_delay``; ``max_total`` still bounds the whole call).

    ``clock`` is the wall clock (Unix time) a ``Retry-After`` HTTP date is measured
    against; for tests and embedding (default :func:`time.time`).
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total: float = 120.0
    jitter: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

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


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date, which
    is measured from ``now``, default the current Unix time).

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
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(slots=True)
class Failure:
    """One failed attempt, as the policy sees it.

    ``error`` is what is raised if no attempt follows; ``retryable`` whether another
    attempt may help; ``retry_after`` the server's own wait, if it gave one; ``reason``
    plain words for :class:`RetryInfo` and the log.
    """

    error: RecotapError
    retryable: bool
    lost_answer: bool = False  # a write was (maybe) sent and its answer lost
    maybe_processed: bool = False  # this attempt may have been processed (5xx, lost answer)
    retry_after: float | None = None
    reason: str = ""
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """A call that got its answer: the unwrapped ``data``, after ``attempts`` sends.

    ``possibly_repeated``: a write whose earlier attempt may have been processed too.
    """

    data: Any
    attempts: int
    possibly_repeated: bool


def check_cancel(cancel: threading.Event, attempts: int, possibly_repeated: bool) -> None:
    """Raise :class:`~.errors.CancelledError` when ``cancel`` is set."""
    if cancel.is_set():
        raise CancelledError(
            "Cancelled." if not possibly_repeated else
            "Cancelled while retrying a request whose earlier answer was lost; "
            "Recotap may or may not have processed it.",
            attempts=attempts,
            possibly_repeated=possibly_repeated,
        )


class Attempts:
    """One call's way through the policy.

    Counts the attempts (``number``, 1-based once the first has started), remembers
    whether an earlier attempt of a write may have been processed and whether one lost
    its answer, and decides whether and how long to wait before the next attempt.
    ``jitter`` is the random source of the back-off (the client's, behind its lock).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        write: bool,
        cancel: threading.Event,
        jitter: Callable[[], float],
    ) -> None:
        self.policy = policy
        self.write = write
        self._cancel = cancel
        self._jitter = jitter
        self._started = time.monotonic()
        self.number = 0
        self.earlier_maybe_processed = False  # an earlier attempt may have been processed
        self.lost_answer = False  # some attempt of this write lost its answer

    def start_next(self) -> None:
        """Check the cancel event, then count the next attempt."""
        check_cancel(self._cancel, self.number, self.earlier_maybe_processed)
        self.number += 1

    def answered(self, data: Any) -> Answered:
        """The call's result once the current attempt got its answer."""
        return Answered(data, self.number, self.write and self.earlier_maybe_processed)

    def cancelled_in_flight(self, sent: bool) -> CancelledError:
        """The error for a cancel that cut the current attempt short (``sent``: its
        request had gone out)."""
        maybe = self.write and (sent or self.earlier_maybe_processed)
        return CancelledError(
            "Cancelled while a request was in flight; Recotap may or may not "
            "have processed it." if maybe else "Cancelled.",
            attempts=self.number,
            possibly_repeated=maybe,
        )

    def after_failure(self, failure: Failure) -> float | None:
        """Note the current attempt's ``failure``; the wait in seconds before the next
        attempt, or ``None`` when the policy gives up (not retryable, out of attempts,
        or the wait would pass ``max_total``)."""
        self.lost_answer = self.lost_answer or failure.lost_answer
        delay = self._next_delay(failure)
        if delay is not None:
            self.earlier_maybe_processed = self.earlier_maybe_processed or (
                self.write and failure.maybe_processed
            )
        return delay

    def _next_delay(self, failure: Failure) -> float | None:
        policy = self.policy
        if not failure.retryable or self.number >= policy.max_attempts:
            return None
        if failure.retry_after is not None:
            delay = failure.retry_after
        else:
            delay = policy.backoff(self.number, self._jitter)
        if time.monotonic() - self._started + delay > policy.max_total:
            return None
        return delay

    def wait(self, delay: float) -> None:
        """Wait ``delay`` seconds before the next attempt; a set cancel event ends the
        wait at once with :class:`~.errors.CancelledError`."""
        if self._cancel.wait(delay):
            check_cancel(self._cancel, self.number, self.earlier_maybe_processed)
