"""Keep a connection's account mirror current: one delta rule, one pager (Qt-free).

:func:`refresh_mirror` brings :class:`~recotap_desktop.store.mirror.AccountMirror` up to
the server:

* **delta** (the mirror exists and had a full pull within
  :data:`~recotap_desktop.store.mirror.FULL_PULL_AFTER`): ``GET /accounts`` with
  ``lastSync`` = the stored ``syncTimestamp``, keyset or offset paging as the client
  does it. When nothing changed that is one request.
* **full** (no mirror yet, asked for, or too old): every account. Edition ``crm``'s
  cursor is an integer offset, so pages are fetched concurrently (the connection's
  concurrency; the window halves on 429 and grows back, :class:`Throttle`), in offset
  order, until a page comes back short or says it is the last. The first page is asked
  for alone, so an unusable answer is met (and held in memory) once. Edition ``external``
  pages by an opaque keyset cursor: one page after another (the next request needs the
  previous answer), the next fetched while the current one is stored.

The sync point stored is the earliest ``syncTimestamp`` among the pages of the pull, so
an account changed while the pull ran is listed again by the next delta. A refresh that
fails or is cancelled changes nothing (the store swaps or commits only when complete);
the caller shows the mirror's age.

Every refresh counts its requests (:attr:`RefreshResult.requests`), which the bench and
the tests read: a refresh when nothing changed is one request.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recotap_desktop.api import AccountPage, CancelledError, RecotapClient, RetryInfo
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.prefetch import Prefetch
from recotap_desktop.engine.progress import (
    CancelToken,
    NullProgress,
    Phase,
    ProgressSink,
    ProgressSnapshot,
    RateMeter,
    join,
)
from recotap_desktop.engine.run_target import RunTarget
from recotap_desktop.engine.throttle import Throttle
from recotap_desktop.store.mirror import FULL_PULL_AFTER, AccountMirror, MirrorInfo

__all__ = ["PAGE_SIZE", "MirrorFeed", "RefreshResult", "mirror_for", "refresh_mirror"]

#: Accounts per page (the documented default and our maximum).
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did."""

    full: bool
    received: int
    requests: int
    info: MirrorInfo
    duration: float
    #: 429 answers seen (each halved the window of a concurrent pull).
    throttled: int = 0

    def describe(self) -> str:
        kind = "Full pull" if self.full else "Changes since the last refresh"
        return (
            f"{kind}: {self.received:,} accounts received in {self.requests:,} "
            f"request{'s' if self.requests != 1 else ''}; the local copy holds "
            f"{self.info.count:,} accounts."
        )


def mirror_for(connection: ConnectionSpec, data_dir: Path) -> AccountMirror:
    """The mirror of ``connection`` (by name, normalised base URL and edition)."""
    target = RunTarget.of(connection)
    return AccountMirror.for_connection(
        Path(data_dir), target.profile, target.base_url, target.edition
    )


class _Counter:
    """Counts requests and 429s (the client's ``on_retry`` plus our own sends)."""

    def __init__(self, throttle: Throttle | None) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        self.throttle = throttle

    def sent(self) -> None:
        with self.lock:
            self.requests += 1

    def on_retry(self, info: RetryInfo) -> None:
        with self.lock:
            self.requests += 1  # the attempt that is about to be sent again
            if info.status_code == 429:
                self.throttled += 1
        if self.throttle is not None:
            self.throttle.on_retry(info)


class _Refresh:
    def __init__(
        self,
        connection: ConnectionSpec,
        mirror: AccountMirror,
        progress: ProgressSink,
        cancel: CancelToken,
        concurrency: int,
        client_kwargs: Mapping[str, Any],
    ) -> None:
        self.connection = connection
        self.rules = connection.rules
        self.mirror = mirror
        self.progress = progress
        self.cancel = cancel
        self.concurrency = max(1, concurrency)
        self.client_kwargs = dict(client_kwargs)
        self.meter = RateMeter()
        self.received = 0
        self.total: int | None = None
        self.stamps: list[str] = []
        self.started = time.monotonic()

    # -- shared ------------------------------------------------------------------------

    def report(self, message: str = "") -> None:
        self.meter.add(self.received)
        total = self.total if self.total and self.total >= self.received else None
        self.progress.update(
            ProgressSnapshot(
                phase=Phase.PULL,
                done=self.received,
                total=total,
                rate=self.meter.rate(),
                eta=self.meter.eta(self.received, total),
                message=message,
            )
        )

    def check_cancel(self) -> None:
        if self.cancel.cancelled:
            raise CancelledError("Cancelled: the local copy of the accounts is unchanged.")

    def stamp(self, page: AccountPage) -> None:
        if page.sync_timestamp:
            self.stamps.append(page.sync_timestamp)

    def sync_point(self) -> str | None:
        # ISO 8601 UTC texts of one server sort as times; the earliest is the safe point.
        return min(self.stamps) if self.stamps else None

    def rows(self, page: AccountPage) -> list[dict[str, Any]]:
        self.received += len(page.accounts)
        self.report()
        return [a.raw for a in page.accounts]

    # -- delta and keyset pulls (one page after another) --------------------------------

    def sequential(self, client: RecotapClient, counter: _Counter, last_sync: str | None
                   ) -> Iterator[list[dict[str, Any]]]:
        pages = client.iter_account_pages(last_sync=last_sync, limit=PAGE_SIZE)
        while True:
            self.check_cancel()
            counter.sent()
            page = next(pages, None)
            if page is None:
                counter.requests -= 1  # the generator ended without a request
                return
            self.stamp(page)
            yield self.rows(page)
            if not page.has_next_page:
                return

    # -- concurrent offset pages (edition crm) -----------------------------------------

    def concurrent(self, client: RecotapClient, counter: _Counter, throttle: Throttle
                   ) -> Iterator[list[dict[str, Any]]]:
        stop = threading.Event()

        def fetch(offset: int) -> AccountPage:
            if not throttle.acquire(stop):
                raise CancelledError("Cancelled.")
            ok = False
            try:
                counter.sent()
                page = client.account_page(offset=offset, limit=PAGE_SIZE)
                ok = True
                return page
            finally:
                throttle.release(ok)

        pending: dict[int, Future[AccountPage]] = {}
        next_offset = 0
        end: int | None = None  # offset of the first page known to be past the end
        want = 0  # the next offset to yield, in order
        pool = ThreadPoolExecutor(max_workers=throttle.max, thread_name_prefix="recotap-mirror")
        try:
            while True:
                self.check_cancel()
                # The first page alone: an unusable answer (a huge body, an error page) is
                # met once, not once per request in flight; then the window opens.
                room = 1 if want == 0 else throttle.window + 1
                while (end is None and len(pending) < room
                       and next_offset not in pending):
                    pending[next_offset] = pool.submit(fetch, next_offset)
                    next_offset += PAGE_SIZE
                if want not in pending:
                    return
                future = pending[want]
                while not future.done():
                    self.check_cancel()
                    wait([future], timeout=0.2, return_when=FIRST_COMPLETED)
                page = future.result()
                del pending[want]
                self.stamp(page)
                yield self.rows(page)
                if len(page.accounts) < PAGE_SIZE or not page.has_next_page:
                    end = want
                    return
                want += PAGE_SIZE
        finally:
            stop.set()
            for fut in pending.values():
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    # -- the refresh ---------------------------------------------------------------------

    def run(self, *, full: bool) -> RefreshResult:
        before = self.mirror.info()
        now = datetime.now(UTC)
        too_old = before.full_at is None or now - before.full_at > FULL_PULL_AFTER
        lists_custom = self.rules.accounts_have_custom_fields
        do_full = (full or not before.exists or too_old
                   or before.lists_custom_fields != lists_custom)
        offset_paging = self.rules.paging != "cursor"
        throttle = Throttle(self.concurrency) if do_full and offset_paging else None
        counter = _Counter(throttle)
        self.total = (before.count or None) if do_full else None
        self.report("Refreshing the local copy of the accounts")
        client = self.connection.open(
            on_retry=counter.on_retry, cancel_event=self.cancel.stop_event, **self.client_kwargs
        )
        try:
            if do_full and throttle is not None:
                self.mirror.replace_all(
                    self.concurrent(client, counter, throttle),
                    sync_timestamp=self.sync_point, lists_custom_fields=lists_custom,
                )
            elif do_full:
                # Keyset pages come one after another: the next is fetched while the
                # current one is stored, so storing hides behind the network.
                prefetch = Prefetch(self.sequential(client, counter, None))
                try:
                    self.mirror.replace_all(
                        iter(prefetch), sync_timestamp=self.sync_point,
                        lists_custom_fields=lists_custom,
                    )
                finally:
                    prefetch.close()
            else:
                self.mirror.apply_delta(
                    self.sequential(client, counter, before.sync_timestamp),
                    sync_timestamp=self.sync_point,
                )
        finally:
            with contextlib.suppress(Exception):
                client.close()
        result = RefreshResult(
            full=do_full,
            received=self.received,
            requests=counter.requests,
            info=self.mirror.info(),
            duration=time.monotonic() - self.started,
            throttled=counter.throttled,
        )
        self.report(result.describe())
        return result


def refresh_mirror(
    connection: ConnectionSpec,
    mirror: AccountMirror,
    *,
    full: bool = False,
    concurrency: int = 4,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> RefreshResult:
    """Bring ``mirror`` up to the server (see the module doc); runs in the calling thread.

    Raises the API's errors (:class:`~recotap_desktop.api.RecotapError`) and
    :class:`~recotap_desktop.api.CancelledError`; either way the mirror is unchanged.
    """
    return _Refresh(
        connection,
        mirror,
        progress or NullProgress(),
        cancel or CancelToken(),
        concurrency,
        client_kwargs or {},
    ).run(full=full)


class _Abandon(Exception):
    """Ends a fed refresh without a change (the pull that fed it failed or stopped)."""


class MirrorFeed:
    """A refresh fed with pages pulled elsewhere: the export advances the mirror with the
    same pages it writes to its file (one pager, one delta rule).

    The mirror's writer (:meth:`AccountMirror.replace_all` for a full pull,
    :meth:`AccountMirror.apply_delta` for changes since the mirror's own sync point) runs
    on a thread and takes the pages from a small queue; :meth:`finish` commits once the
    pull is complete, :meth:`abandon` (a failed or cancelled pull) leaves the mirror as it
    was.
    """

    _END = object()

    def __init__(self, mirror: AccountMirror, *, full: bool, lists_custom_fields: bool,
                 sync_timestamp: Any) -> None:
        import queue

        self.mirror = mirror
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._full = full
        self._lists_custom = lists_custom_fields
        self._sync = sync_timestamp
        self._thread = threading.Thread(target=self._write, name="recotap-mirror-feed",
                                         daemon=True)
        self._thread.start()

    def _pages(self) -> Iterator[list[dict[str, Any]]]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _write(self) -> None:
        try:
            if self._full:
                self.mirror.replace_all(self._pages(), sync_timestamp=self._sync,
                                        lists_custom_fields=self._lists_custom)
            else:
                self.mirror.apply_delta(self._pages(), sync_timestamp=self._sync)
        except _Abandon:
            pass
        except BaseException as exc:  # reported by finish(); the pull itself goes on
            self._error = exc

    def put(self, rows: list[dict[str, Any]]) -> None:
        import queue

        while self._error is None and self._thread.is_alive():
            try:
                self._queue.put(rows, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> BaseException | None:
        """Commit what was fed; the error that kept the mirror from it, if any."""
        self.put(self._END)  # type: ignore[arg-type]
        join(self._thread)
        return self._error

    def abandon(self) -> None:
        self.put(_Abandon())  # type: ignore[arg-type]
        join(self._thread)
