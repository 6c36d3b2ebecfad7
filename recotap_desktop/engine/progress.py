"""How the engine reports progress and learns about cancellation.

The engine never knows who is watching: the CLI draws a terminal bar, the GUI turns
snapshots into Qt signals, tests use a fake that cancels mid-run. All of them
implement :class:`ProgressSink` (one method) and share a :class:`CancelToken`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Phase(StrEnum):
    PLAN = "plan"
    SEND = "send"
    PULL = "pull"


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """One progress report: rows done of total, rate (rows/s) and ETA (s) when known."""

    phase: Phase
    done: int
    total: int | None
    rate: float | None = None
    eta: float | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class ProgressSink(Protocol):
    def update(self, snapshot: ProgressSnapshot) -> None:
        """Receive a snapshot. Called from engine threads; must be quick and thread-safe."""


class NullProgress:
    def update(self, snapshot: ProgressSnapshot) -> None:  # pragma: no cover - trivial
        pass


class CancelMode(StrEnum):
    #: Send nothing new, wait for the batches already in flight and record their answers.
    FINISH_IN_FLIGHT = "finish"
    #: Also abandon retries and back-off waits at once; unanswered batches stay journaled.
    STOP_NOW = "stop"


class CancelToken:
    """Thread-safe cancellation shared by the caller and the engine.

    ``stop_event`` is handed to the API client so that back-off waits end at once
    when the user asks to stop now.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mode: CancelMode | None = None
        self.stop_event = threading.Event()
        self.requested = threading.Event()

    def cancel(self, mode: CancelMode = CancelMode.FINISH_IN_FLIGHT) -> None:
        with self._lock:
            if self._mode is None or mode is CancelMode.STOP_NOW:
                self._mode = mode
        self.requested.set()
        if mode is CancelMode.STOP_NOW:
            self.stop_event.set()

    @property
    def mode(self) -> CancelMode | None:
        with self._lock:
            return self._mode

    @property
    def cancelled(self) -> bool:
        return self.requested.is_set()


#: Longest time the calling thread waits at once for a worker; see :func:`wait_all`.
WAIT_SLICE = 0.2


def wait_all(futures: Iterable[Future[Any]]) -> None:
    """Wait for every future, in slices; then raise the first error in their order.

    The engine's caller is often the main thread of the CLI, which handles Ctrl-C. CPython
    runs a signal handler only on the main thread, and only when that thread runs Python
    code; the kernel may deliver the process's SIGINT to any thread, and a worker that gets
    it does not wake a main thread blocked in an untimed wait (``Future.result()``,
    ``Thread.join()``). The second Ctrl-C of a run whose requests hang was then never
    handled (issue 15, finding 6). Waiting in slices lets the handler run within one.
    """
    ordered = list(futures)
    pending = set(ordered)
    while pending:
        _done, pending = wait(pending, timeout=WAIT_SLICE)
    for fut in ordered:
        fut.result()


def join(thread: threading.Thread) -> None:
    """``thread.join()`` in slices, so a signal handler runs meanwhile (see :func:`wait_all`)."""
    while thread.is_alive():
        thread.join(WAIT_SLICE)


class RateMeter:
    """Rows-per-second over a sliding window, and an ETA from it."""

    def __init__(self, window: float = 10.0, clock=time.monotonic) -> None:
        self._clock = clock
        self._window = window
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()
        self.started = clock()

    def add(self, done: int) -> None:
        now = self._clock()
        with self._lock:
            self._samples.append((now, done))
            while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
                self._samples.popleft()

    def rate(self) -> float | None:
        with self._lock:
            if len(self._samples) < 2:
                return None
            (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        if t1 <= t0:
            return None
        return (d1 - d0) / (t1 - t0)

    def eta(self, done: int, total: int | None) -> float | None:
        rate = self.rate()
        if not total or not rate or rate <= 0:
            return None
        return max(0.0, (total - done) / rate)


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``"1:15"``; ``3725`` -> ``"1:02:05"``; ``None`` -> ``"--"``."""
    if seconds is None:
        return "--"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
