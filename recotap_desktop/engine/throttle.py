"""How many requests are in flight: an AIMD window shared by a run's workers.

Halve on 429 (the client backs off and retries the request itself), grow by one after
a run of successes, never above the connection's concurrency. Used by the import runner
and by the account mirror's concurrent pages.
"""

from __future__ import annotations

import threading

from recotap_desktop.api import RetryInfo

#: The most requests one run keeps in flight.
MAX_CONCURRENCY = 16


class Throttle:
    """AIMD limit on requests in flight: halve on 429, grow by one after successes."""

    def __init__(self, limit: int) -> None:
        self.max = max(1, min(MAX_CONCURRENCY, limit))
        self.window = self.max
        self.in_flight = 0
        self.retries = 0
        self._successes = 0
        self._cond = threading.Condition()

    def acquire(self, stop: threading.Event) -> bool:
        with self._cond:
            while self.in_flight >= self.window:
                if stop.is_set():
                    return False
                self._cond.wait(0.1)
            self.in_flight += 1
            return True

    def release(self, ok: bool) -> None:
        with self._cond:
            self.in_flight -= 1
            if ok:
                self._successes += 1
                if self.window < self.max and self._successes >= self.window * 2:
                    self.window += 1
                    self._successes = 0
            self._cond.notify_all()

    def on_retry(self, info: RetryInfo) -> None:
        with self._cond:
            self.retries += 1
        if info.status_code == 429:
            with self._cond:
                self.window = max(1, self.window // 2)
                self._successes = 0
