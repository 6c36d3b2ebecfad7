"""High-level import jobs shared by the CLI and the GUI: plan+run, resume, retry.

These glue the plan, the runner and the history together; both faces call them.

A run belongs to the connection it was started on (:mod:`~recotap_desktop.engine.run_target`):
:func:`resume` and :func:`retry` refuse any other connection with
:class:`~recotap_desktop.engine.run_target.WrongConnection` before anything is sent. With
``other_connection=True`` (the user chose that connection explicitly, having seen both
hosts) the rows go to it as a NEW run linked to the old one, so every run's rows are on
one connection and its history says which.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.plan import ImportJob, ImportOptions, Plan, PlanError, build_plan
from recotap_desktop.engine.preview import Planned
from recotap_desktop.engine.progress import CancelToken, ProgressSink
from recotap_desktop.engine.run_target import RunTarget, check_run_target, run_target_problem
from recotap_desktop.engine.runner import ImportRunner, RunResult
from recotap_desktop.engine.states import (
    NOT_RETRYABLE_FAILURES,
    RESUMABLE_RUN_STATES,
    Reason,
    RowState,
    RunState,
)
from recotap_desktop.records import ColumnMapping
from recotap_desktop.store.history import History, RowOutcome


def load_custom_fields(connection: ConnectionSpec, **client_kwargs: Any) -> list[Any]:
    """The connection's active account custom fields (needed to map and check them)."""
    with connection.open(**client_kwargs) as client:
        return list(client.list_custom_fields())


def job_from_run(
    history: History, run_id: int, connection: ConnectionSpec, custom_fields: Sequence[Any]
) -> ImportJob:
    """Rebuild the job a run was made from (file, mapping, options) for resume or retry."""
    run = history.get_run(run_id)
    path = Path(run.file_path or "")
    if not run.file_path or not path.is_file():
        raise PlanError(
            f"The file of run {run_id} is no longer at {path}. "
            "Put it back there to resume or retry."
        )
    options_data: dict[str, Any] = json.loads(run.options_json or "{}")
    return ImportJob(
        kind=run.kind,
        path=path,
        mapping=_mapping_from_history(run.mapping_json),
        rules=connection.rules,
        custom_fields=custom_fields,
        options=ImportOptions.from_json(options_data),
        encoding=options_data.get("encoding"),
        delimiter=options_data.get("delimiter"),
        sheet=options_data.get("sheet"),
    )


def _mapping_from_history(text: str | None) -> ColumnMapping:
    data: Any = json.loads(text or "{}")
    if isinstance(data, str):  # written double-encoded by early development builds
        data = json.loads(data)
    return ColumnMapping.from_dict(data)


def _check_same_file(history: History, run_id: int, plan: Plan) -> None:
    run = history.get_run(run_id)
    if run.file_sha256 and run.file_sha256 != plan.file_sha256:
        raise PlanError(
            f"The file {plan.job.path.name} has changed since run {run_id}: its rows may no longer "
            "match the history. Start a new import instead."
        )


def resume(
    history: History,
    run_id: int,
    connection: ConnectionSpec,
    *,
    custom_fields: Sequence[Any] = (),
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
    concurrency: int | None = None,
    client_kwargs: dict[str, Any] | None = None,
    other_connection: bool = False,
) -> RunResult:
    """Continue an interrupted, cancelled or aborted run: send only rows with no final answer.

    On the run's own connection the run itself goes on. On another one only with
    ``other_connection`` (an explicit choice): a new run, linked to this one, sends the rows
    this one has no final answer for (see :func:`_continue_elsewhere`).
    """
    run = history.get_run(run_id)
    if RunState(run.state) not in RESUMABLE_RUN_STATES:
        raise PlanError(f"Run {run_id} is {run.state}; only unfinished runs can be resumed.")
    elsewhere = run_target_problem(run, RunTarget.of(connection)) is not None
    if elsewhere and not other_connection:
        check_run_target(run, connection)
    history.claim_run(run_id)  # RunBusy while another process sends it; ours until it ends
    try:
        return _resume_claimed(history, run_id, connection, elsewhere, custom_fields=custom_fields,
                               progress=progress, cancel=cancel, concurrency=concurrency,
                               client_kwargs=client_kwargs)
    finally:
        history.release_run(run_id)


def _resume_claimed(
    history: History,
    run_id: int,
    connection: ConnectionSpec,
    elsewhere: bool,
    *,
    custom_fields: Sequence[Any],
    progress: ProgressSink | None,
    cancel: CancelToken | None,
    concurrency: int | None,
    client_kwargs: dict[str, Any] | None,
) -> RunResult:
    job = job_from_run(history, run_id, connection, custom_fields)
    if concurrency is not None:
        job = _with_concurrency(job, concurrency)
    plan = build_plan(job, cancel=cancel)
    _check_same_file(history, run_id, plan)
    if elsewhere:
        answered = {
            o.row for o in history.iter_outcomes(run_id) if o.state != RowState.NOT_SENT.value
        }
        return _follow_up(history, run_id, plan, connection, progress=progress, cancel=cancel,
                          client_kwargs=client_kwargs, skip_rows=answered,
                          other_connection=True)
    # Rows whose answer was lost are read again first: those the server processed end
    # created / updated by this run, as its plan from before said (never 'updated'
    # because the lost request had created the account meanwhile).
    unsent = {o.row for o in history.iter_outcomes(run_id)
              if o.state == RowState.NOT_SENT.value}
    settle_first(history, run_id, plan, connection, unsent, cancel=cancel,
                 client_kwargs=client_kwargs)
    runner = ImportRunner(
        plan,
        connection,
        history,
        progress=progress,
        cancel=cancel,
        run_id=run_id,
        client_kwargs=client_kwargs,
    )
    return runner.run()


def retryable_rows(history: History, run_id: int) -> set[int]:
    """Rows worth sending again: not sent (but never a dry run's), unknown (what a lost
    answer did could not be told), or failed for a reason other than the server refusing
    the row itself (its own data, or a record that exists).

    Read from each outcome's reason code (:class:`Reason`), never from its message.
    """
    rows = set()
    for o in history.iter_outcomes(run_id):
        if o.state == RowState.NOT_SENT.value:
            if o.reason != Reason.DRY_RUN:
                rows.add(o.row)
        elif o.state == RowState.FAILED.value and o.reason not in NOT_RETRYABLE_FAILURES:
            rows.add(o.row)
        elif o.state == RowState.UNKNOWN.value:
            rows.add(o.row)  # read again first (the retry's own comparison), then sent
    return rows


class NothingToRetry(PlanError):
    """Every row to retry was settled by reading Recotap again: nothing is sent."""

    def __init__(self, message: str, settled: int) -> None:
        super().__init__(message)
        self.settled = settled


def settle_first(
    history: History,
    run_id: int,
    plan: Plan,
    connection: ConnectionSpec,
    rows: set[int],
    *,
    cancel: CancelToken | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> set[int]:
    """Settle, in run ``run_id`` itself, its rows among ``rows`` whose request may have
    been processed but whose answer was lost (``unknown``, or ``not sent`` without an
    answer) before a retry or a resume sends anything: Recotap's accounts are read again and a row
    whose account now holds its values ends ``created`` (it was planned to create: the
    account did not exist before that run) or ``updated`` (planned to update), as that
    run's own outcome. Rows without a plan from before their run, or whose account does
    not hold their values, are left to the retry. Returns the rows settled."""
    from recotap_desktop.engine.baseline import holds_row, prepare_baseline
    from recotap_desktop.engine.plan import PlannedItem, iter_planned

    if plan.job.kind != "accounts":
        return set()
    before = history.outcomes(run_id)
    candidates = {
        r for r in rows
        if (o := before.get(r)) is not None
        and (o.state == RowState.UNKNOWN.value
             or (o.state == RowState.NOT_SENT.value and o.reason == Reason.UNANSWERED))
        and (o.ids or {}).get("planned") in (Planned.CREATE.value, Planned.UPDATE.value)
    }
    if not candidates:
        return set()
    token = cancel or CancelToken()
    baseline = prepare_baseline(plan, connection, history.path.parent, cancel=token,
                                client_kwargs=client_kwargs or {})
    if baseline is None or not baseline.compared or not baseline.fresh:
        return set()  # Recotap could not be read now: the retry compares and sends
    items = [e for e in iter_planned(plan.job, plan.source, token)
             if isinstance(e, PlannedItem) and e.rows[0] in candidates]
    settled: list[RowOutcome] = []
    for item, now in zip(items, baseline.plans(items), strict=True):
        if not holds_row(now):
            continue
        old = before[item.rows[0]]
        created = (old.ids or {}).get("planned") == Planned.CREATE.value
        state = RowState.CREATED if created else RowState.UPDATED
        message = (
            f"{'Created' if created else 'Updated'}: the answer was lost, and reading "
            "Recotap's accounts again before a retry shows the account with this row's "
            "values" + (" (it did not exist before this run)." if created else ".")
        )
        settled.extend(
            RowOutcome(r, state.value, message, {**(old.ids or {}), "settled": "retry"},
                       True, Reason.RECONCILED)
            for r in item.rows)
    if settled:
        history.settle_outcomes(run_id, settled)
    return {o.row for o in settled}


def retry(
    history: History,
    run_id: int,
    connection: ConnectionSpec,
    *,
    custom_fields: Sequence[Any] = (),
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
    rows: set[int] | None = None,
    client_kwargs: dict[str, Any] | None = None,
    other_connection: bool = False,
) -> RunResult:
    """A new run (linked to the old one) that sends again only the retryable rows, on the
    old run's connection (another one only with ``other_connection``: an explicit choice)."""
    if not other_connection:
        check_run_target(history.get_run(run_id), connection)
    wanted = retryable_rows(history, run_id) if rows is None else rows
    if not wanted:
        raise PlanError(f"Run {run_id} has no rows to retry.")
    history.claim_run(run_id)  # RunBusy while another process sends it; ours until it ends
    try:
        job = job_from_run(history, run_id, connection, custom_fields)
        job = replace(job, options=replace(job.options, dry_run=False))
        plan = build_plan(job, cancel=cancel)
        _check_same_file(history, run_id, plan)
        settled = settle_first(history, run_id, plan, connection, wanted,
                               cancel=cancel, client_kwargs=client_kwargs)
        wanted = wanted - settled
        if not wanted:
            raise NothingToRetry(
                f"Reading Recotap's accounts again settled every row of run {run_id} to "
                "retry (their requests had been processed; their answers were lost): "
                "nothing is left to send.", len(settled))
        return _follow_up(history, run_id, plan, connection, progress=progress, cancel=cancel,
                          client_kwargs=client_kwargs, only_rows=wanted,
                          other_connection=other_connection)
    finally:
        history.release_run(run_id)


def _follow_up(
    history: History,
    run_id: int,
    plan: Plan,
    connection: ConnectionSpec,
    *,
    progress: ProgressSink | None,
    cancel: CancelToken | None,
    client_kwargs: dict[str, Any] | None,
    only_rows: set[int] | None = None,
    skip_rows: set[int] | None = None,
    other_connection: bool = False,
) -> RunResult:
    """A new run linked to ``run_id`` sending its rows in scope; when it finishes, the old
    run is finished too (its open journal entries handed over)."""
    # Rows of the old run whose batch may have reached the server are reconciled, not
    # reported as duplicates; the old run's journal entries are then handed over.
    open_batches = history.unanswered_batches(run_id)
    maybe_sent = {r for _no, batch_rows in open_batches for r in batch_rows}
    if only_rows is not None:
        maybe_sent &= only_rows
    runner = ImportRunner(
        plan,
        connection,
        history,
        progress=progress,
        cancel=cancel,
        only_rows=only_rows,
        parent_run_id=run_id,
        client_kwargs=client_kwargs,
        reconcile_rows=maybe_sent,
        other_connection=other_connection,
        skip_rows=skip_rows,
    )
    result = runner.run()
    if result.state is RunState.FINISHED:
        history.mark_answered(run_id, [no for no, _rows in open_batches])
        parent = history.get_run(run_id)
        if RunState(parent.state) in RESUMABLE_RUN_STATES:
            history.finish_run(run_id, RunState.FINISHED.value, history.counts(run_id))
            target = RunTarget.of(connection)
            where = f" to {target.title}" if other_connection else ""
            history.set_note(
                run_id, f"Its unsent rows were sent again by run {result.run_id}{where}."
            )
    return result


def _with_concurrency(job: ImportJob, concurrency: int) -> ImportJob:
    return replace(job, options=replace(job.options, concurrency=concurrency))


def run_import(
    job: ImportJob,
    connection: ConnectionSpec,
    history: History,
    *,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
    plan: Plan | None = None,
    client_kwargs: dict[str, Any] | None = None,
) -> RunResult:
    """Plan (unless given) and run an import."""
    plan = plan or build_plan(job, progress=progress, cancel=cancel)
    return ImportRunner(
        plan, connection, history, progress=progress, cancel=cancel, client_kwargs=client_kwargs
    ).run()
