"""Run an iterator one item ahead in a background thread (pulls whose pages are stored
while the next one is on its way: the export's file, the mirror's database)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from recotap_desktop.engine.progress import join

__all__ = ["Prefetch"]

_T = TypeVar("_T")


class Prefetch(Generic[_T]):
    """Run ``source`` one item ahead in a background thread.

    The next page is fetched while the current one is written, so the file format's
    cost hides behind the network's latency. At most ``depth`` items wait in the
    queue (plus one being handed over), so memory stays a few pages. An exception in
    ``source`` is re-raised by the consumer. :meth:`close` stops the producer and
    waits for it (at most the request in flight).
    """

    def __init__(self, source: Iterator[_T], depth: int = 1) -> None:
        self._source = source
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="recotap-pull", daemon=True)
        self._thread.start()

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._source:
                if self._stop.is_set() or not self._put(("item", item)):
                    return
            self._put(("done", None))
        except BaseException as exc:  # handed to the consumer
            self._put(("error", exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def __iter__(self) -> Iterator[_T]:
        while True:
            kind, value = self._queue.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value

    def close(self) -> None:
        self._stop.set()
        join(self._thread)
