"""Run an import plan: batches, concurrency, isolation, journal, cancellation.

Guarantees:

* every input row ends in exactly one final state (:class:`RowState`), written to the
  history database; rows that were never sent are ``not sent``;
* each batch is on disk in the journal before it is sent (and not earlier: a batch
  journaled but never sent would be reconciled on resume, turning real duplicates into
  "created"), and its answer is recorded in one transaction after (:class:`_Journal`:
  answers are committed in groups by a writer thread, off the workers' path),
  so that :func:`resume` re-sends exactly the rows that have no final answer, with
  reconciliation for batches that may have reached the server;
* batches wait for a worker in memory, a few ahead, so a worker that is done takes the
  next one at once;
* a whole-batch validation 400 is isolated by bisection: only the offending rows fail,
  with the server's message, at a cost of about 2*log2(batch) extra requests each;
* a whole-request error that is not about items (auth, a bad segment, a wrong path)
  stops the run with the server's message, because every batch would fail the same way;
* 429s halve the number of requests in flight (the client backs off and retries);
  it grows back by one after a run of successes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from recotap_desktop.api import (
    AmbiguousOutcome,
    AuthError,
    CancelledError,
    RateLimited,
    RecotapClient,
    RecotapError,
    RequestRejected,
    ServerError,
    TransportError,
)
from recotap_desktop.engine.baseline import UNCHANGED_MESSAGE, Baseline, prepare_baseline
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.plan import (
    ExcludedRow,
    InvalidRow,
    Plan,
    PlannedItem,
    check_unchanged,
    iter_planned,
)
from recotap_desktop.engine.preview import RowPlan
from recotap_desktop.engine.progress import (
    CancelMode,
    CancelToken,
    NullProgress,
    Phase,
    ProgressSink,
    ProgressSnapshot,
    RateMeter,
    join,
    wait_all,
)
from recotap_desktop.engine.run_target import RunTarget, check_run_target
from recotap_desktop.engine.senders import BULK_KINDS, SENDERS, Sender, SendOptions
from recotap_desktop.engine.states import (
    SUCCESS_STATES,
    ItemOutcome,
    Reason,
    RowState,
    RunState,
)
from recotap_desktop.engine.throttle import Throttle
from recotap_desktop.engine.wording import (
    ISOLATION_PREFIX,
    cause_of,
    identities_of,
    join_sentences,
    sentence,
    summarise_failures,
)
from recotap_desktop.files.targets import check_data_dir
from recotap_desktop.records.base import DUPLICATE_IN_FILE
from recotap_desktop.store.history import History, HistoryError, RowOutcome, RunInfo

log = logging.getLogger(__name__)

_REQUEST_LEVEL_RE = re.compile(
    r"^(accounts|deals|activities|mappings|pipelines)\s+(must be an array|must contain no more than"
    r"|must contain at least|should not be empty)",
    re.IGNORECASE,
)
_FLUSH_EVERY = 5_000


@dataclass
class RunResult:
    run_id: int
    state: RunState
    counts: dict[str, int]
    message: str = ""
    requests: int = 0
    isolation_requests: int = 0
    #: Attempts sent again after a 429, a 5xx or a lost connection (the client's retries).
    retries: int = 0
    #: Items sent in this run (one per sales activity, account...) by final state.
    item_counts: dict[str, int] = field(default_factory=dict)
    isolated_rows: int = 0
    reconciled_rows: int = 0
    failure_groups: list[tuple[str, int]] = field(default_factory=list)
    duration: float = 0.0

    @property
    def all_succeeded(self) -> bool:
        total = sum(self.counts.values())
        ok = sum(self.counts.get(s.value, 0) for s in SUCCESS_STATES)
        return self.state is RunState.FINISHED and total > 0 and ok == total


class _Journal:
    """The batch journal of one run: "about to send" now, answers in the background.

    :meth:`started` writes in the calling thread and returns once the entry is on disk: a
    batch is never sent before that. It writes nothing else, so that commit stays small (one
    statement; it is in front of every request). :meth:`answered` and :meth:`outcomes` only
    queue: a writer thread puts everything queued so far on disk in one transaction (a group
    commit), so a worker goes on to its next batch at once instead of waiting for the disk.
    If the app dies before an answer is committed, its
    batch is still open in the journal and resume reconciles it, exactly as for an answer
    lost on the network (the request was sent, so that is right). A write error stops the
    journal; every later call, and :meth:`close`, raise it (the entries of the failed commit
    stay open, and resume reconciles them).
    """

    def __init__(self, history: History, run_id: int) -> None:
        self._history = history
        self._run_id = run_id
        self._cond = threading.Condition()
        self._answered: list[tuple[int, list[RowOutcome]]] = []
        self._outcomes: list[RowOutcome] = []
        self._error: BaseException | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._write_loop, name="recotap-journal")
        self._thread.start()

    def started(self, batch_no: int, rows: list[int]) -> None:
        """Journal a batch as about to be sent; returns once that is on disk."""
        with self._cond:
            self._raise_error()
        self._write(self._history.batch_started, self._run_id, batch_no, rows)

    def answered(self, batch_no: int, outcomes: list[RowOutcome]) -> None:
        """Queue the answer of a batch: its outcomes, and its journal entry closed."""
        with self._cond:
            self._raise_error()
            self._answered.append((batch_no, outcomes))
            self._cond.notify_all()

    def outcomes(self, outcomes: list[RowOutcome]) -> None:
        """Queue outcomes that close no journal entry."""
        with self._cond:
            self._raise_error()
            self._outcomes.extend(outcomes)
            self._cond.notify_all()

    def close(self, *, raise_error: bool = True) -> None:
        """Write everything queued and stop the writer; raise its error, if any."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        join(self._thread)
        if raise_error:
            self._raise_error()

    def __enter__(self) -> _Journal:
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        self.close(raise_error=exc_type is None)  # never hide the error already raised

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error  # the store's own error, with its message for the user

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not (self._answered or self._outcomes or self._closing):
                    self._cond.wait()
                answered, outcomes = self._answered, self._outcomes
                if not (answered or outcomes):
                    return  # closing, and everything is written
                self._answered, self._outcomes = [], []
            try:
                self._write(
                    self._history.write_journal, self._run_id, answered=answered,
                    outcomes=outcomes,
                )
            except BaseException:
                return

    def _write(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Call a History write; its error stops the journal (kept for every later call)."""
        try:
            write(*args, **kwargs)
        except BaseException as exc:
            with self._cond:
                if self._error is None:
                    self._error = exc
            raise


_CANCELLED_NOTE = "Not sent: the run was cancelled before this row was sent."


def _payload_text(payload: Any) -> str:
    """An item as sent, as the report's ``recotap_payload`` shows it (compact JSON)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class _Abort(Exception):
    def __init__(self, message: str, *, processed_maybe: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.processed_maybe = processed_maybe


@dataclass
class _BatchState:
    #: Some request of the batch that got no answer may have been processed by the server.
    processed_maybe: bool = False
    #: Why the batch's last request ended without per-item answers (``None``: cancelled).
    cause: RecotapError | None = None


def unanswered_note(cause: RecotapError | None) -> str:
    """What an unanswered row of a batch that may have been processed says, from the
    error's type and status (issue 18: 6): a server that answered 5xx did not lose its
    answer."""
    if isinstance(cause, ServerError | RateLimited):
        tries = f" to all {cause.attempts} attempts" if cause.attempts > 1 else ""
        return (
            f"Not sent: the server answered {cause.status_code}{tries}. It may have processed "
            "part of the request, so resume sends these rows again and reconciles them."
        )
    if cause is None or isinstance(cause, CancelledError):
        return ("Not sent: the run was stopped while a request was unanswered; "
                "resume reconciles it.")
    if isinstance(cause, TransportError):
        return "Not sent: the answer was lost; resume reconciles it."
    return ("Not sent: the run stopped before the answer was read; "
            "resume reconciles it.")


def _abort_for(exc: RecotapError) -> _Abort:
    """The run-stopping reason for an error that is not about one item."""
    maybe = bool(getattr(exc, "possibly_repeated", False))
    if isinstance(exc, AuthError):
        return _Abort(sentence(exc.message), processed_maybe=maybe)
    if isinstance(exc, AmbiguousOutcome):
        return _Abort(
            join_sentences(
                exc.message,
                "The affected rows are marked 'not sent'; resume the run to reconcile them.",
            ),
            processed_maybe=True,
        )
    if isinstance(exc, (RateLimited, ServerError)):
        return _Abort(
            join_sentences(
                exc.message,
                "The server kept failing after several retries; resume the run later.",
            ),
            processed_maybe=maybe or isinstance(exc, ServerError),
        )
    if isinstance(exc, TransportError):
        return _Abort(
            join_sentences(exc.message, "Resume the run when the connection is back."),
            processed_maybe=maybe,
        )
    return _Abort(sentence(exc.message), processed_maybe=maybe)


@dataclass
class _Batch:
    no: int
    items: list[PlannedItem]
    reconcile: bool
    #: Each item's plan against the state before the run (``None``: not compared).
    plans: list[RowPlan] | None = None

    @property
    def rows(self) -> list[int]:
        return [r for item in self.items for r in item.rows]


@dataclass
class _Dispatch:
    """What the steps of :meth:`ImportRunner._dispatch_all` share. Only the dispatching
    thread touches it, but for ``ahead``, which the workers release."""

    run_id: int
    #: Outcomes of an earlier part of the run (a resume): rows with a final one are done.
    prior: dict[int, RowOutcome]
    #: Rows whose batch may have reached the server: they go in batches that reconcile.
    reconcile_rows: set[int]
    journal: _Journal
    client: RecotapClient
    pool: ThreadPoolExecutor
    #: Room for the batches that wait for a worker (a few ahead).
    ahead: threading.Semaphore
    #: Outcomes of rows not sent, written to the history in groups.
    outcomes: list[RowOutcome] = field(default_factory=list)
    #: The batches being filled: a dry run's, to reconcile, fresh.
    dry: list[PlannedItem] = field(default_factory=list)
    repeat: list[PlannedItem] = field(default_factory=list)
    fresh: list[PlannedItem] = field(default_factory=list)
    futures: list[Future[None]] = field(default_factory=list)

    def final(self, row: int) -> bool:
        """Whether ``row`` already has a final outcome from an earlier part of the run."""
        o = self.prior.get(row)
        return o is not None and o.state != RowState.NOT_SENT.value


class ImportRunner:
    """Send a checked plan. One runner runs once; build another to resume or retry.

    A resume (``run_id``) continues a run only on the connection it was started on, and a
    follow-up run (``parent_run_id``) goes to its parent's connection unless
    ``other_connection`` says the user chose another one explicitly:
    :class:`~recotap_desktop.engine.run_target.WrongConnection` otherwise, before anything
    is sent or recorded. ``skip_rows`` are left out entirely (rows a parent run already
    answered, when its remaining rows go to another connection). ``sender`` replaces the
    kind's sender of :data:`~recotap_desktop.engine.senders.SENDERS` (tests inject faults).
    A new run of accounts, account field values or ID mappings is compared with Recotap's
    accounts first (:mod:`~recotap_desktop.engine.baseline`): unchanged rows are left out
    and answers are read against the state before the run; ``compare=False`` sends every
    row as it is (the backfill, whose rows come from a listing it just made).
    """

    def __init__(
        self,
        plan: Plan,
        connection: ConnectionSpec,
        history: History,
        *,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
        run_id: int | None = None,
        only_rows: set[int] | None = None,
        parent_run_id: int | None = None,
        client_kwargs: dict[str, Any] | None = None,
        reconcile_rows: set[int] | None = None,
        other_connection: bool = False,
        skip_rows: set[int] | None = None,
        sender: Sender | None = None,
        compare: bool = True,
    ) -> None:
        self.plan = plan
        self.other_connection = other_connection
        self.skip_rows = frozenset(skip_rows or ())
        self._extra_reconcile = set(reconcile_rows or ())
        self.job = plan.job
        self.connection = connection
        self.history = history
        self.progress = progress or NullProgress()
        self.cancel = cancel or CancelToken()
        self.resume_run_id = run_id
        self.only_rows = only_rows
        self.parent_run_id = parent_run_id
        self.client_kwargs = client_kwargs or {}
        self.kind = plan.job.record_kind()
        self._sender = sender or SENDERS[plan.job.kind]
        self._send_options = SendOptions(
            segment_id=plan.job.options.segment_id, upsert=plan.job.options.upsert
        )
        self._throttle = Throttle(plan.job.options.concurrency)
        self._lock = threading.Lock()
        self._abort: _Abort | None = None
        self._abort_event = threading.Event()
        self._counts: Counter[str] = Counter()
        self._done_rows = 0
        self._total_rows = 0
        self._meter = RateMeter()
        self._requests = 0
        self._isolation_requests = 0
        self._isolated_rows = 0
        self._reconciled_rows = 0
        self._failure_reasons: Counter[str] = Counter()
        #: Sent items (sales activities, ...) by final state; rows are in ``_counts``.
        self._item_counts: Counter[str] = Counter()
        self._batch_no = 0
        self._last_report = 0.0
        #: The state before the run of what its rows name (accounts, account field values,
        #: ID mappings of a new run): unchanged rows are left out, answers read against it.
        self._baseline: Baseline | None = None
        self._compare = compare
        #: Why the rows were not compared with Recotap's accounts (a failed read).
        self._baseline_note = ""
        #: Items sent without an answer (their plans), settled after the run.
        self._unanswered: list[tuple[PlannedItem, RowPlan]] = []

    # ------------------------------------------------------------------ public
    def run(self) -> RunResult:
        started = time.monotonic()
        self._check_connection()
        check_unchanged(self.plan)
        # Room for the journal (both faces; TargetProblem before anything is recorded or sent).
        check_data_dir(self.history.path.parent, rows=self._count_rows_in_scope({}))
        prior: dict[int, RowOutcome] = {}
        reconcile_rows: set[int] = set()
        old_unanswered: list[tuple[int, list[int]]] = []
        reconcile_rows.update(self._extra_reconcile)
        if self.resume_run_id is None:
            run_id = self.history.create_run(self._run_info())
            if self._compare:
                # A resume keeps the rules it was started with: the mirror now holds the
                # first part's own writes, which are not "the state before the run".
                try:
                    self._baseline = prepare_baseline(
                        self.plan, self.connection, self.history.path.parent,
                        cancel=self.cancel, client_kwargs=self.client_kwargs,
                        progress=self.progress, history=self.history,
                    )
                except CancelledError:
                    pass  # nothing was sent: every row ends "not sent" (cancelled)
                if self._baseline is not None and not self._baseline.compared:
                    self._baseline_note = self._baseline.note  # sent as without a mirror
                    self._baseline = None
        else:
            run_id = self.resume_run_id
            prior = self.history.outcomes(run_id)
            old_unanswered = self.history.unanswered_batches(run_id)
            for batch_no, rows in old_unanswered:
                reconcile_rows.update(rows)
                self._batch_no = max(self._batch_no, batch_no)
            self._batch_no = max(self._batch_no, self.history.max_batch_no(run_id))
            self.history.set_run_state(run_id, RunState.RUNNING.value)
        self.run_id = run_id
        self._total_rows = self._count_rows_in_scope(prior)
        try:
            state, message = self._dispatch_all(run_id, prior, reconcile_rows)
            settled = self._settle(run_id)
            # A journal entry (a batch sent without an answer, by this run or an earlier
            # one) closes once each of its rows has an outcome: answered by a later
            # batch, or settled by reading Recotap again.
            open_batches = self.history.unanswered_batches(run_id)
            if open_batches:
                final = self.history.outcomes(run_id)
                self.history.mark_answered(
                    run_id,
                    [
                        no
                        for no, rows in open_batches
                        if all(r in final and final[r].state != RowState.NOT_SENT.value
                               for r in rows)
                    ],
                )
            counts = self.history.counts(run_id)
            state, message = self._ending_after_settling(state, message, settled, counts)
            if self._baseline is not None and self._baseline.note:
                message = join_sentences(message, self._baseline.note)
            message = join_sentences(message, self._baseline_note)
            self.history.finish_run(run_id, state.value, counts)
            # Always: a resumed run's note from its earlier stop (a 500...) is replaced by
            # this ending's own, empty when it finished cleanly (issue 18: 6).
            self.history.set_note(run_id, message)
        except HistoryError as exc:
            state, message, counts = self._journal_failed(run_id, exc)
        self._report(force=True)
        return RunResult(
            run_id=run_id,
            state=state,
            counts=counts,
            message=message,
            requests=self._requests,
            isolation_requests=self._isolation_requests,
            retries=self._throttle.retries,
            item_counts=dict(self._item_counts),
            isolated_rows=self._isolated_rows,
            reconciled_rows=self._reconciled_rows,
            failure_groups=self._failure_reasons.most_common(),
            duration=time.monotonic() - started,
        )

    # ----------------------------------------------------------------- helpers
    def _journal_failed(
        self, run_id: int, exc: HistoryError
    ) -> tuple[RunState, str, dict[str, int]]:
        """The history could not be written mid-run (disk full, I/O error): rows may have
        been sent, so the run is *aborted*, never "nothing sent", and resume continues it
        (batches whose answer was not recorded stay open and are reconciled)."""
        log.error("run %s stopped: the history could not be written: %s", run_id, exc.message)
        message = join_sentences(
            exc.message,
            "The run stopped; rows whose answer could not be recorded are reconciled when "
            "the run is resumed.",
        )
        try:
            counts = self.history.counts(run_id)
            self.history.finish_run(run_id, RunState.ABORTED.value, counts)
            self.history.set_note(run_id, message)
        except HistoryError:
            # Still failing: the run stays "running" until this process ends; the next
            # command or window that opens the history marks it interrupted.
            with self._lock:
                counts = dict(self._counts)
        return RunState.ABORTED, message, counts

    def _check_connection(self) -> None:
        """A run continues on its own connection only (see the class docstring)."""
        if self.resume_run_id is not None:
            check_run_target(self.history.get_run(self.resume_run_id), self.connection)
        elif self.parent_run_id is not None and not self.other_connection:
            check_run_target(self.history.get_run(self.parent_run_id), self.connection)

    def _run_info(self) -> RunInfo:
        job = self.job
        target = RunTarget.of(self.connection)
        options = job.options.to_json()
        options.update(
            {
                "encoding": self.plan.source.encoding,
                "delimiter": self.plan.source.delimiter,
                "sheet": self.plan.source.sheet,
            }
        )
        return RunInfo(
            kind=job.kind,
            file_name=job.path.name,
            file_path=str(job.path.resolve()),
            file_sha256=self.plan.file_sha256,
            mapping_json=job.mapping.to_json(),
            options_json=json.dumps(options),
            profile=target.profile,
            edition=target.edition,
            host=target.host,
            base_url=target.base_url,
            total_rows=self._count_rows_in_scope({}),
            parent_run_id=self.parent_run_id,
        )

    def _count_rows_in_scope(self, prior: dict[int, RowOutcome]) -> int:
        if self.only_rows is not None:
            return len(self.only_rows - self.skip_rows)
        return self.plan.total_rows - len(self.skip_rows)

    def _in_scope(self, row: int) -> bool:
        return (self.only_rows is None or row in self.only_rows) and row not in self.skip_rows

    def _stopping(self) -> bool:
        return self.cancel.cancelled or self._abort_event.is_set()

    def _dispatch_all(
        self, run_id: int, prior: dict[int, RowOutcome], reconcile_rows: set[int]
    ) -> tuple[RunState, str]:
        """Send every row in scope that has no final outcome yet, in batches on the pool;
        record the rows that are not sent (invalid, excluded, dry run, left out) in
        groups; wait for every batch; then say how the run ended."""
        with (
            _Journal(self.history, run_id) as journal,
            self.connection.open(
                on_retry=self._throttle.on_retry,
                cancel_event=self.cancel.stop_event,
                **self.client_kwargs,
            ) as client,
            ThreadPoolExecutor(
                max_workers=self._throttle.max, thread_name_prefix="recotap-send"
            ) as pool,
        ):
            # Batches wait in memory (never in the journal) for a worker, a few ahead, so a
            # worker that is done takes its next batch at once, without a thread hand-off.
            d = _Dispatch(run_id, prior, reconcile_rows, journal, client, pool,
                          ahead=threading.Semaphore(2 * self._throttle.max))
            for entry in iter_planned(self.job, self.plan.source):
                if self._dispatch_entry(d, entry) and len(d.outcomes) >= _FLUSH_EVERY:
                    self._flush_outcomes(d)
                    self._report()
            self._dispatch_rest(d)
            wait_all(d.futures)
        self._report(force=True)
        return self._dispatch_ending()

    def _dispatch_entry(
        self, d: _Dispatch, entry: PlannedItem | InvalidRow | ExcludedRow
    ) -> bool:
        """One entry of the plan: an item goes into its batch, a row that is not sent gets
        its outcome. False for an item with no row left to send (then nothing is flushed)."""
        if isinstance(entry, PlannedItem):
            if not any(self._in_scope(r) and not d.final(r) for r in entry.rows):
                return False
            self._batch_item(d, entry)
        elif self._in_scope(entry.row) and not d.final(entry.row):
            d.outcomes.append(self._left_out_outcome(entry))
        return True

    def _batch_item(self, d: _Dispatch, item: PlannedItem) -> None:
        """Put ``item`` in its batch (dry run, to reconcile, fresh); a full batch goes (a
        dry run's gets its outcomes) and a new one begins."""
        size = self.kind.batch_size
        if self.job.options.dry_run:
            d.dry.append(item)
            if len(d.dry) >= size:
                d.outcomes.extend(self._dry_run_outcomes(d.dry))
                d.dry = []
        elif any(r in d.reconcile_rows for r in item.rows):
            d.repeat.append(item)
            if len(d.repeat) >= size:
                self._submit_batch(d, d.repeat, reconcile=True)
                d.repeat = []
        else:
            d.fresh.append(item)
            if len(d.fresh) >= size:
                self._submit_batch(d, d.fresh, reconcile=False)
                d.fresh = []

    @staticmethod
    def _left_out_outcome(entry: InvalidRow | ExcludedRow) -> RowOutcome:
        """An invalid row (a duplicate in the file or its problems) or a row excluded
        before sending."""
        if isinstance(entry, InvalidRow):
            state, message = RowState.INVALID, entry.message or "Invalid row."
            reason = Reason.DUPLICATE_IN_FILE if any(
                p.code == DUPLICATE_IN_FILE for p in entry.problems
            ) else Reason.INVALID
        else:
            state, message = RowState.NOT_SENT, "Excluded before sending."
            reason = Reason.EXCLUDED
        return RowOutcome(entry.row, state.value, message, reason=reason)

    def _submit_batch(self, d: _Dispatch, items: list[PlannedItem], *, reconcile: bool) -> None:
        """Start a batch of ``items`` on the pool, the unchanged ones left out first, once
        there is room ahead; if the run stops first, its rows are not sent."""
        plans: list[RowPlan] | None = None
        if self._baseline is not None and not self._stopping():
            items, plans = self._leave_out_unchanged(items, d.outcomes)
            if not items:
                return
        if not self._wait_for_room(d.ahead):
            d.outcomes.extend(self._not_sent(r) for i in items for r in i.rows)
            return
        self._batch_no += 1
        batch = _Batch(self._batch_no, items, reconcile, plans)
        d.futures.append(d.pool.submit(self._run_batch, d.client, d.journal, batch, d.ahead))

    def _wait_for_room(self, ahead: threading.Semaphore) -> bool:
        """Wait until fewer batches than ``ahead`` allows wait for a worker (the workers
        release it); False when the run stops (cancel or abort) meanwhile."""
        while not self._stopping() and not ahead.acquire(timeout=0.1):
            pass
        return not self._stopping()

    def _dispatch_rest(self, d: _Dispatch) -> None:
        """The last, partly filled batches (to reconcile, then fresh, then the dry run's)
        and the outcomes still held."""
        if d.repeat:
            self._submit_batch(d, d.repeat, reconcile=True)
        if d.fresh:
            self._submit_batch(d, d.fresh, reconcile=False)
        if d.dry:
            d.outcomes.extend(self._dry_run_outcomes(d.dry))
        self._flush_outcomes(d)

    def _flush_outcomes(self, d: _Dispatch) -> None:
        """Write the outcomes held so far to the history and count them."""
        if d.outcomes:
            self.history.set_outcomes(d.run_id, d.outcomes)
            self._count_outcomes(d.outcomes)
            d.outcomes.clear()

    def _dispatch_ending(self) -> tuple[RunState, str]:
        """How the dispatch ended: aborted (why), cancelled, or finished (a dry run says
        that nothing was sent)."""
        if self._abort is not None:
            return RunState.ABORTED, self._abort.message
        if self.cancel.cancelled:
            return RunState.CANCELLED, (
                "Cancelled: rows not sent are marked 'not sent'; resume the run to send them."
            )
        if self.job.options.dry_run:
            return RunState.FINISHED, "Dry run: nothing was sent."
        return RunState.FINISHED, ""

    def _ending_after_settling(self, state: RunState, message: str, settled: str,
                               counts: Mapping[str, int]) -> tuple[RunState, str]:
        """A run stopped early (aborted or cancelled) whose every row has its outcome once
        the rows without an answer were read again is finished: nothing is left to
        resume, and its words must not say that rows are 'not sent'."""
        stopped = state in (RunState.ABORTED, RunState.CANCELLED)
        if (not stopped or not settled or counts.get(RowState.NOT_SENT.value)
                or sum(counts.values()) < self._total_rows):
            return state, join_sentences(message, settled)
        why = ("sending was cancelled" if state is RunState.CANCELLED
               else "sending stopped early on Recotap's errors")
        return RunState.FINISHED, join_sentences(
            f"Every row has its outcome, although {why}", settled)

    def _settle(self, run_id: int) -> str:
        """Rows sent without an answer, read again against Recotap (see Baseline.settle);
        their outcomes replace "not sent" where the answer can be known. Returns a note."""
        if self._baseline is None or not self._unanswered:
            return ""
        try:
            settled = self._baseline.settle(
                self._unanswered, self.connection, self.history.path.parent,
                cancel=CancelToken(), client_kwargs=self.client_kwargs)
        except RecotapError as exc:
            return join_sentences(
                "Rows without an answer could not be read again from Recotap "
                f"({exc.message}); resume reconciles them")
        # Each keeps its plan from before the run (what it changed, the values it
        # replaced), as answered rows do: the report's columns, and what undo sends back.
        plans = {id(item): row_plan for item, row_plan in self._unanswered}
        outcomes = [
            RowOutcome(r, state.value, text,
                       {"payload": _payload_text(item.payload), "settled": "re-read",
                        **Baseline.ids(plans[id(item)])},
                       state is not RowState.UNKNOWN,
                       Reason.RECONCILED if state is not RowState.UNKNOWN else Reason.UNANSWERED)
            for item, state, text in settled for r in item.rows
        ]
        if not outcomes:
            return ""
        self.history.set_outcomes(run_id, outcomes)
        with self._lock:
            self._counts.subtract({RowState.NOT_SENT.value: len(outcomes)})
            self._counts.update(o.state for o in outcomes)
            self._reconciled_rows += sum(1 for o in outcomes if o.reconciled)
        unknown = sum(1 for o in outcomes if o.state == RowState.UNKNOWN.value)
        known = len(outcomes) - unknown
        return join_sentences(
            f"{known:,} rows without an answer were settled by reading Recotap's accounts "
            "again" if known else "",
            f"{unknown:,} rows are unknown: retry reads them again first" if unknown else "",
        )

    def _leave_out_unchanged(
        self, items: list[PlannedItem], outcomes: list[RowOutcome]
    ) -> tuple[list[PlannedItem], list[RowPlan]]:
        """Plan ``items`` against the baseline; record the unchanged ones (not sent) in
        ``outcomes`` and return the others with their plans."""
        assert self._baseline is not None
        keep: list[PlannedItem] = []
        plans: list[RowPlan] = []
        for item, row_plan in zip(items, self._baseline.plans(items), strict=True):
            if self._baseline.skips(row_plan):
                ids = Baseline.ids(row_plan)
                outcomes.extend(
                    RowOutcome(r, RowState.UNCHANGED.value, UNCHANGED_MESSAGE, ids)
                    for r in item.rows
                )
                with self._lock:
                    self._item_counts[RowState.UNCHANGED.value] += 1
            elif self._baseline.refuses(row_plan):
                ids = {"payload": _payload_text(item.payload), **Baseline.ids(row_plan)}
                message = self._baseline.refused_message(row_plan)
                outcomes.extend(
                    RowOutcome(r, RowState.FAILED.value, message, ids,
                               reason=Reason.ALREADY_EXISTS)
                    for r in item.rows
                )
                with self._lock:
                    self._item_counts[RowState.FAILED.value] += 1
                    self._failure_reasons["Already in Recotap; not sent"] += len(item.rows)
            else:
                keep.append(item)
                plans.append(row_plan)
        return keep, plans

    def _dry_run_outcomes(self, items: list[PlannedItem]) -> list[RowOutcome]:
        """A dry run's rows: not sent, each with what it would do."""
        plans: list[RowPlan | None] = (
            list(self._baseline.plans(items)) if self._baseline is not None
            else [None] * len(items)
        )
        out: list[RowOutcome] = []
        for item, row_plan in zip(items, plans, strict=True):
            ids = {"payload": _payload_text(item.payload)}
            message = "Dry run: would be sent."
            if row_plan is not None:
                ids.update(Baseline.ids(row_plan))
                if self._baseline is not None and self._baseline.skips(row_plan):
                    message = "Dry run: unchanged, would not be sent."
                elif self._baseline is not None and self._baseline.refuses(row_plan):
                    refused = self._baseline.refused_message(row_plan)
                    message = "Dry run: " + refused[:1].lower() + refused[1:]
            out.extend(
                RowOutcome(r, RowState.NOT_SENT.value, message, ids, reason=Reason.DRY_RUN)
                for r in item.rows
            )
        return out

    def _not_sent(self, row: int, message: str = "", reason: Reason | None = None
                  ) -> RowOutcome:
        """A row this run did not get an answer for: cancelled, stopped, or (``reason``
        :attr:`Reason.UNANSWERED`, with its ``message``) sent without an answer."""
        if reason is None:
            reason = Reason.STOPPED if self._abort is not None else Reason.CANCELLED
        if not message:
            if reason is Reason.STOPPED and self._abort is not None:
                message = f"Not sent: the run stopped ({self._abort.message})"
            else:
                message = _CANCELLED_NOTE
        return RowOutcome(row, RowState.NOT_SENT.value, message, reason=reason)

    def _count_outcomes(self, outcomes: list[RowOutcome]) -> None:
        counts = Counter(o.state for o in outcomes)
        with self._lock:
            self._counts.update(counts)
            self._done_rows += len(outcomes)

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_report < 0.1:
                return
            self._last_report = now
            done, counts = self._done_rows, dict(self._counts)
        self._meter.add(done)
        self.progress.update(
            ProgressSnapshot(
                Phase.SEND,
                done,
                self._total_rows,
                self._meter.rate(),
                self._meter.eta(done, self._total_rows),
                counts,
                "",
            )
        )

    # ------------------------------------------------------------ per batch
    def _run_batch(
        self, client: RecotapClient, journal: _Journal, batch: _Batch, ahead: threading.Semaphore
    ) -> None:
        ahead.release()
        ok = False
        holding_slot = False
        try:
            if self._stopping() or not self._throttle.acquire(self._abort_event):
                self._finish_unsent(journal, batch)
                return
            holding_slot = True
            if self._stopping():
                self._finish_unsent(journal, batch)
                return
            try:
                journal.started(batch.no, batch.rows)
            except HistoryError as exc:  # nothing of this batch was sent; stop the others
                self._set_abort(_Abort(exc.message))
                raise
            state = _BatchState()
            outcomes = self._send_isolating(client, batch.items, batch.reconcile, state, top=True)
            if batch.plans is not None and self._baseline is not None:
                # Read against the state before the run, never guessed (issue 16).
                honest = self._baseline.honest
                outcomes = [o if o is None else honest(o, p)
                            for o, p in zip(outcomes, batch.plans, strict=True)]
            unanswered = any(o is None for o in outcomes)
            reason: Reason | None = None  # stopped or cancelled, as the run is
            if unanswered and state.processed_maybe:
                note, reason = unanswered_note(state.cause), Reason.UNANSWERED
            elif self._abort is not None:
                note = ""
            else:
                note, reason = _CANCELLED_NOTE, Reason.CANCELLED
            row_outcomes: list[RowOutcome] = []
            items = Counter(
                RowState.NOT_SENT.value if o is None else o.state.value for o in outcomes)
            with self._lock:
                self._item_counts.update(items)
            plans: Sequence[RowPlan | None] = batch.plans or [None] * len(batch.items)
            for item, outcome, row_plan in zip(batch.items, outcomes, plans, strict=True):
                if outcome is None:
                    if reason is Reason.UNANSWERED and row_plan is not None:
                        # Its plan from before the run stays with it: whoever reads
                        # Recotap again later (retry) can tell created from updated.
                        ids = {"payload": _payload_text(item.payload),
                               **Baseline.ids(row_plan)}
                        row_outcomes.extend(
                            replace(self._not_sent(r, note, reason), ids=ids)
                            for r in item.rows)
                        with self._lock:
                            self._unanswered.append((item, row_plan))
                    else:
                        row_outcomes.extend(self._not_sent(r, note, reason) for r in item.rows)
                    continue
                # The value as sent, beside the value as read in the report (issue 14): the
                # item exactly as this attempt sent it, once per item for all its rows.
                ids = {**outcome.ids, "payload": _payload_text(item.payload)}
                if row_plan is not None:
                    ids.update(Baseline.ids(row_plan))
                row_outcomes.extend(
                    RowOutcome(r, outcome.state.value, outcome.message, ids, outcome.reconciled,
                               outcome.reason)
                    for r in item.rows
                )
                if outcome.state is RowState.FAILED:
                    with self._lock:
                        cause = cause_of(
                            outcome.message, identities_of(item.payload, outcome.ids)
                        )
                        self._failure_reasons[cause] += len(item.rows)
                if outcome.reconciled:
                    with self._lock:
                        self._reconciled_rows += len(item.rows)
            if unanswered and state.processed_maybe:
                # Part of the batch may have reached the server: keep its journal entry open so
                # that resume re-sends the unanswered rows with reconciliation.
                journal.outcomes(row_outcomes)
            else:
                journal.answered(batch.no, row_outcomes)
            self._count_outcomes(row_outcomes)
            ok = not unanswered
        finally:
            if holding_slot:
                self._throttle.release(ok)
            self._report()

    def _finish_unsent(self, journal: _Journal, batch: _Batch) -> None:
        outcomes = [self._not_sent(r) for r in batch.rows]
        # Nothing reached the server: close the journal entry so resume sends it fresh.
        journal.answered(batch.no, outcomes)
        self._count_outcomes(outcomes)

    def _set_abort(self, abort: _Abort) -> None:
        with self._lock:
            if self._abort is None:
                self._abort = abort
        self._abort_event.set()

    def _send_isolating(
        self,
        client: RecotapClient,
        items: Sequence[PlannedItem],
        reconcile: bool,
        state: _BatchState,
        *,
        top: bool,
    ) -> list[ItemOutcome | None]:
        """Send ``items``; split on an item-level 400 until each offending item stands alone.

        Returns one outcome per item, ``None`` for items that got no answer because the
        run stopped (abort or cancel); answers already received are never thrown away.
        """
        if self.cancel.mode is CancelMode.STOP_NOW or self._abort_event.is_set():
            return [None] * len(items)
        with self._lock:
            self._requests += 1
            if not top:
                self._isolation_requests += 1
        try:
            return list(
                self._sender(client, [i.payload for i in items], self._send_options, reconcile)
            )
        except RequestRejected as exc:
            if not self._is_item_level(exc):
                self._stop_with(_Abort(_rejected_message(exc)), exc, state)
                return [None] * len(items)
            if len(items) == 1:
                with self._lock:
                    self._isolated_rows += len(items[0].rows)
                return [ItemOutcome(RowState.FAILED, _isolated_message(exc),
                                    reason=Reason.ISOLATED)]
            mid = len(items) // 2
            left = self._send_isolating(client, items[:mid], reconcile, state, top=False)
            right = self._send_isolating(client, items[mid:], reconcile, state, top=False)
            return left + right
        except CancelledError as exc:
            # Stop-now while backing off; an earlier attempt may have reached the server.
            state.processed_maybe |= bool(getattr(exc, "possibly_repeated", False))
            state.cause = exc
            return [None] * len(items)
        except RecotapError as exc:
            self._stop_with(_abort_for(exc), exc, state)
            return [None] * len(items)
        except Exception as exc:  # our bug: stop the run cleanly, keep every row accounted for
            log.exception("unexpected error while sending a batch")
            self._stop_with(
                _Abort(
                    f"Internal error while sending ({type(exc).__name__}: {exc}). "
                    "The log has the details; resume the run after updating the app.",
                    processed_maybe=True,
                ),
                RecotapError(str(exc)),
                state,
            )
            return [None] * len(items)

    def _stop_with(self, abort: _Abort, exc: RecotapError, state: _BatchState) -> None:
        state.processed_maybe |= abort.processed_maybe or bool(
            getattr(exc, "possibly_repeated", False)
        )
        state.cause = exc
        self._set_abort(abort)

    def _is_item_level(self, exc: RequestRejected) -> bool:
        """Whether a rejected bulk request is split to find the rows it is about.

        A validation 400 about items, and a 413 (the request was too large: a smaller
        one may pass, and a row too large alone is isolated).
        """
        if self.job.kind not in BULK_KINDS:
            return False
        if exc.status_code == 413:
            return True
        if not exc.is_validation or exc.status_code != 400:
            return False
        details = list(exc.details) or [exc.server_message]
        return not all(_REQUEST_LEVEL_RE.search(d.strip()) for d in details)


def _isolated_message(exc: RequestRejected) -> str:
    """The message of one row that a split request isolated."""
    if exc.status_code == 413:
        return ISOLATION_PREFIX + join_sentences(
            f"this row alone is larger than the server accepts in one request "
            f"(413: {exc.server_message})",
            "Shorten its longest values.",
        )
    return ISOLATION_PREFIX + exc.server_message


def _rejected_message(exc: RequestRejected) -> str:
    hint = ""
    if exc.status_code == 404:
        hint = "Check the connection's edition and base URL: the server does not know this path."
    return join_sentences(
        f"The server refused the request ({exc.status_code}): {exc.server_message}",
        hint,
        "Every batch would fail the same way, so the run stopped.",
    )


__all__ = ["ISOLATION_PREFIX", "ImportRunner", "RunResult", "summarise_failures"]
