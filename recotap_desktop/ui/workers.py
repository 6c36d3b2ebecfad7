"""Run any callable off the GUI thread and hear about it through Qt signals.

One mechanism for the whole app (QRunnable on a QThreadPool):

    job = Worker(lambda progress: client.list_custom_fields(), parent=self)
    job.succeeded.connect(self._show_fields)
    job.failed.connect(self._show_error)
    job.start()

The callable receives a :class:`SignalProgress`. It is the engine's progress sink
(``update(snapshot)``) and also accepts the short form ``update(done, total, message)``;
``report(obj)`` streams partial results (e.g. one page of segments) to the GUI; the
job checks ``progress.cancelled`` (or hands ``progress.cancel_event`` to the API client)
to honour :meth:`Worker.cancel`.

Threading rules kept here so that nobody else has to think about them:

* the worker thread never touches a widget or the :class:`Worker` object; it only
  emits the signals of a private relay object, and every relay signal reaches the
  :class:`Worker` through a queued connection, so all public signals of
  :class:`Worker` are emitted on the GUI thread;
* exactly one of ``succeeded(result)``, ``failed(exception)`` or ``cancelled()`` is
  emitted, then ``finished()``;
* a :class:`Worker` without a parent keeps itself alive until ``finished``; one with a
  parent lives as long as the parent, and destroying the parent cancels the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from recotap_desktop.engine.progress import CancelMode, CancelToken
from recotap_desktop.ui.qt_compat import Qt, protect_bools

log = logging.getLogger(__name__)

#: Minimum seconds between two forwarded progress updates (the last one always passes).
PROGRESS_INTERVAL = 0.05


class JobCancelled(Exception):
    """Raised by a job (via :meth:`SignalProgress.raise_if_cancelled`) to stop early."""


def _is_cancel_exception(exc: BaseException) -> bool:
    if isinstance(exc, JobCancelled):
        return True
    try:
        from recotap_desktop.api.errors import CancelledError
    except ImportError:  # pragma: no cover - api package always present in a build
        return False
    return isinstance(exc, CancelledError)


class _Relay(QObject):
    """Signals emitted from the worker thread; only ever connected (queued) to a Worker."""

    progress = Signal(int, int, str)
    snapshot = Signal(object)
    item = Signal(object)
    done = Signal(str, object)  # outcome ("ok" | "error" | "cancelled"), payload


class SignalProgress:
    """The progress object a job receives; thread-safe; forwards to Qt signals.

    ``update`` is throttled to one signal per :data:`PROGRESS_INTERVAL` seconds except
    for the first and the final (``done >= total``) update, so a tight engine loop
    cannot flood the GUI's event queue.
    """

    def __init__(self, relay: _Relay, token: CancelToken) -> None:
        self._relay = relay
        self.token = token
        #: Set as soon as the user asks to cancel (hand it to RecotapClient(cancel_event=...)).
        self.cancel_event: threading.Event = token.requested
        #: Set only when the user asks to stop at once (abandon retries and waits).
        self.stop_event: threading.Event = token.stop_event
        self._lock = threading.Lock()
        self._last = 0.0
        self._first = True

    @property
    def cancelled(self) -> bool:
        """True once cancel was requested."""
        return self.cancel_event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`JobCancelled` when cancel was requested."""
        if self.cancel_event.is_set():
            raise JobCancelled()

    def update(self, done: Any, total: int | None = None, message: str = "") -> None:
        """Report progress: ``update(done, total, message)`` or ``update(snapshot)``.

        A snapshot is any object with ``done``, ``total`` and ``message`` attributes
        (the engine's ``ProgressSnapshot``); it is forwarded whole as well.
        """
        snapshot = None
        if not isinstance(done, int):
            snapshot = done
            done, total, message = snapshot.done, snapshot.total, snapshot.message
        total_i = -1 if total is None else int(total)
        now = time.monotonic()
        with self._lock:
            final = total_i >= 0 and done >= total_i
            if not (self._first or final or now - self._last >= PROGRESS_INTERVAL):
                return
            self._first = False
            self._last = now
        self._relay.progress.emit(int(done), total_i, str(message or ""))
        if snapshot is not None:
            self._relay.snapshot.emit(snapshot)

    def note(self, message: str) -> None:
        """Report a status line without changing the counts."""
        self._relay.progress.emit(-1, -1, str(message))

    def report(self, obj: object) -> None:
        """Send a partial result (never throttled), received as ``Worker.item``."""
        self._relay.item.emit(obj)


def _make_job(fn: Callable[[SignalProgress], Any], progress: SignalProgress, relay: _Relay,
              name: str) -> Callable[[], None]:
    """Return the closure run on the pool thread; it references no GUI-thread object but the
    relay (a signal-only QObject that never receives events)."""

    def run() -> None:  # worker thread
        try:
            result = fn(progress)
        except BaseException as exc:  # every failure is delivered to the GUI
            if _is_cancel_exception(exc):
                relay.done.emit("cancelled", None)
            else:
                log.debug("job %s failed", name, exc_info=True)
                relay.done.emit("error", exc)
        else:
            relay.done.emit("ok", result)

    return run


class Worker(QObject):
    """GUI-thread handle of one background job. See the module docstring."""

    #: done, total (-1 = unknown), message; done == -1 means "message only".
    progress = Signal(int, int, str)
    #: the engine's ProgressSnapshot objects, unthrottled relative to ``progress``.
    snapshot = Signal(object)
    #: partial results sent with ``progress.report(obj)``.
    item = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[[SignalProgress], Any], *, name: str = "",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        protect_bools()
        self.name = name or getattr(fn, "__name__", "job")
        self._token = CancelToken()
        self._relay = _Relay()
        self._relay.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._relay.snapshot.connect(self._on_snapshot, Qt.ConnectionType.QueuedConnection)
        self._relay.item.connect(self._on_item, Qt.ConnectionType.QueuedConnection)
        self._relay.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._progress = SignalProgress(self._relay, self._token)
        self._job: Callable[[], None] | None = _make_job(fn, self._progress, self._relay,
                                                         self.name)
        self._running = False
        self._finished = False
        self._keepalive: Worker | None = None
        token = self._token
        # Closing the owner (dialog) while the job runs asks the job to stop.
        self.destroyed.connect(lambda *_: token.cancel(CancelMode.STOP_NOW))

    @property
    def running(self) -> bool:
        """True between :meth:`start` and ``finished``."""
        return self._running

    @property
    def is_finished(self) -> bool:
        """True once ``finished`` was emitted."""
        return self._finished

    @property
    def cancel_requested(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._token.cancelled

    def start(self, pool: QThreadPool | None = None) -> Worker:
        """Queue the job on *pool* (default: the global pool) and return self."""
        if self._running or self._finished:
            raise RuntimeError("a Worker runs once; create a new one")
        self._running = True
        if self.parent() is None:
            self._keepalive = self
        job, self._job = self._job, None
        assert job is not None
        (pool or QThreadPool.globalInstance()).start(job)
        return self

    def cancel(self, stop_now: bool = False) -> None:
        """Ask the job to stop; it ends with ``cancelled`` if it honours the request."""
        self._token.cancel(CancelMode.STOP_NOW if stop_now else CancelMode.FINISH_IN_FLIGHT)

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.emit(done, total, message)

    @Slot(object)
    def _on_snapshot(self, snapshot: object) -> None:
        self.snapshot.emit(snapshot)

    @Slot(object)
    def _on_item(self, obj: object) -> None:
        self.item.emit(obj)

    @Slot(str, object)
    def _on_done(self, outcome: str, payload: object) -> None:
        self._running = False
        self._finished = True
        try:
            if outcome == "ok":
                self.succeeded.emit(payload)
            elif outcome == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(payload)
        finally:
            self.finished.emit()
            self._keepalive = None

