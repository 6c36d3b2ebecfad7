"""``recotap import``, its preview, and what follows a run: ``retry``, ``resume``,
``history`` and ``revert``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recotap_desktop.cli.context import (
    CliError,
    Context,
    TerminalProgress,
    Written,
    _confirm,
    _preflight,
    _SigintCancel,
    _write_reports,
)
from recotap_desktop.engine.baseline import Baseline, prepare_baseline
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import NothingToRetry, resume, retry, retryable_rows
from recotap_desktop.engine.plan import ImportJob, ImportOptions, Plan, build_plan
from recotap_desktop.engine.preview import PREVIEW_KINDS, preview_plan
from recotap_desktop.engine.progress import (
    CancelToken,
    format_duration,
)
from recotap_desktop.engine.report import write_report_file
from recotap_desktop.engine.revert import (
    RevertError,
    Verdict,
    describe_rows,
    plan_revert,
    run_revert,
    write_created_list,
    write_revert_plan,
)
from recotap_desktop.engine.run_target import RunTarget, run_target_problem
from recotap_desktop.engine.runner import ImportRunner, RunResult, summarise_failures
from recotap_desktop.engine.states import RunState
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
)
from recotap_desktop.records import KINDS, ColumnMapping, RecordKind, get_kind
from recotap_desktop.records.formats import undecided_message
from recotap_desktop.store.history import RunBusy
from recotap_desktop.store.mirror import AccountMirror, MirrorInfo

if TYPE_CHECKING:
    from recotap_desktop.files.readers import SourceInfo


def _load_mapping(path: str) -> ColumnMapping:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"Cannot read the mapping file {path}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise CliError(
            f"The mapping file {path} is not valid JSON (line {exc.lineno}): {exc.msg}."
        ) from exc
    try:
        return ColumnMapping.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise CliError(f"The mapping file {path} is not a column mapping: {exc}.") from exc


def _describe_mapping(mapping: ColumnMapping, job: ImportJob) -> list[str]:
    labels = {f.name: f for f in job.record_kind().fields(job.context())}
    lines = []
    for name, column in mapping.columns.items():
        field = labels.get(name)
        lines.append(f"  {field.label if field else name:<28} <- column {column!r}")
    for name, value in mapping.constants.items():
        field = labels.get(name)
        lines.append(f"  {field.label if field else name:<28} <- constant {value!r}")
    return lines


def _delimiter_arg(value: str | None) -> str | None:
    """``--delimiter``: the character itself, or ``tab`` / ``\\t`` for a tab."""
    if value is None:
        return None
    return "\t" if value.strip().lower() in ("tab", "\\t") else value


def _print_plan(ctx: Context, plan: Plan) -> None:
    ctx.err(f"Checked {plan.job.path.name}: {plan.summary()}.")
    if plan.formats:
        ctx.err("How dates and numbers are read:")
        for fmt in plan.formats:
            ctx.err(f"  {fmt.describe()}")
    for p in plan.problems[:20]:
        ctx.err(
            f"  row {p.row}, {p.column}: {p.reason}" + (f" (value {p.value!r})" if p.value else "")
        )
    if plan.problem_count > 20:
        ctx.err(
            f"  ... and {plan.problem_count - 20} more problems (all of them are in the report)."
        )


def _print_result(ctx: Context, result: RunResult, written: Written) -> None:
    counts = ", ".join(f"{n} {state}" for state, n in sorted(result.counts.items()) if n)
    ctx.err(
        f"Run {result.run_id} {result.state.value} in {format_duration(result.duration)}: {counts}."
    )
    if result.message:
        ctx.err(result.message)
    if result.isolation_requests:
        ctx.err(
            f"{result.isolated_rows} rows were rejected by the server's checks; "
            "isolating them took "
            f"{result.isolation_requests} extra requests ({result.requests} requests in all)."
        )
    if result.reconciled_rows:
        ctx.err(f"{result.reconciled_rows} rows were reconciled after a lost answer.")
    for line in summarise_failures(result.failure_groups):
        ctx.err("  " + line)
    if result.state in (RunState.CANCELLED, RunState.ABORTED):
        ctx.err(f"To send the rest: recotap resume {result.run_id}")
    for line in written.lines():
        ctx.err(line)


def _exit_code(result: RunResult, *, dry_run: bool = False) -> int:
    if result.state is RunState.CANCELLED:
        return EXIT_CANCELLED
    if result.state is RunState.ABORTED:
        return EXIT_API
    if result.all_succeeded:
        return EXIT_OK
    if dry_run and set(result.counts) <= {"not sent"}:
        return EXIT_OK  # every row would be sent
    return EXIT_ROWS_FAILED



def _get_run(ctx: Context, run_id: int) -> Any:
    try:
        return ctx.history.get_run(run_id)
    except KeyError:
        raise CliError(
            f"There is no run {run_id} in the history (see `recotap history`)."
        ) from None




def _print_preview(ctx: Context, plan: Plan, conn: ConnectionSpec) -> int:
    """What the file will do, against Recotap's accounts (kinds the API lists); returns
    the number of rows that would be sent."""
    if plan.job.kind not in PREVIEW_KINDS:
        return plan.rows_to_send
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, "reading Recotap's accounts")
    with _SigintCancel(token, ctx):
        baseline = prepare_baseline(plan, conn, ctx.ensure_paths().data_dir, cancel=token,
                                    client_kwargs=ctx.client_kwargs, progress=progress)
        assert baseline is not None
        if not baseline.compared:
            progress.finish()
            ctx.err(baseline.note)
            return plan.rows_to_send
        preview = preview_plan(plan, baseline.index, _mirror_info(baseline), token)
    progress.finish()
    ctx.err(preview.summary())
    if baseline.note:
        ctx.err(baseline.note)
    shown = 0
    for row, row_plan in sorted(preview.rows.items()):
        if row_plan.action.value in ("update", "conflict", "not found") and shown < 20:
            ctx.err(f"  row {row} {row_plan.action.value}: {row_plan.changes_text()}")
            shown += 1
    changing = sum(n for a, n in preview.counts.items() if a in ("update", "conflict",
                                                                  "not found"))
    if changing > shown:
        ctx.err(f"  ... and {changing - shown} more (every row's plan is in the report: "
                "recotap_planned, recotap_changes).")
    skipped = sum(1 for p in preview.rows.values() if baseline.skips(p) or baseline.refuses(p))
    return max(0, plan.rows_to_send - skipped)


def _mirror_info(baseline: Baseline) -> MirrorInfo | None:
    index = baseline.index
    return index.info() if isinstance(index, AccountMirror) else None


def cmd_import(ctx: Context) -> int:
    args = ctx.args
    kind = get_kind(args.kind)
    conn = ctx.connection()
    rules = conn.rules
    if args.upsert and not rules.supports_upsert:
        raise CliError(f"--upsert is not available in the {rules.title}; use --edition external.")
    if args.segment and kind.name != "accounts":
        raise CliError("--segment only applies to `import accounts`.")
    if not 1 <= args.concurrency <= 16:
        raise CliError("--concurrency must be between 1 and 16.")
    report = _preflight(ctx, args.report, inputs=[args.file, args.mapping])
    path, source = _read_source(ctx)
    plan = build_plan(_import_job(ctx, kind, path, source, conn))
    undecided = undecided_message(plan.formats)
    if undecided is not None:
        ctx.err(undecided)
        return EXIT_USAGE
    _print_plan(ctx, plan)
    if report is not None and path != Path(args.file):  # the local copy of a network file
        report = _preflight(ctx, args.report, inputs=[args.file, args.mapping, path])
    to_send = _print_preview(ctx, plan, conn)
    if (
        not args.dry_run
        and to_send
        and not _confirm(ctx, f"Send {to_send} rows to {conn.host} ({conn.profile})?")
    ):
        ctx.err("Nothing was sent.")
        return EXIT_CANCELLED
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, f"import {kind.name}")
    with _SigintCancel(token, ctx):
        result = ImportRunner(plan, conn, ctx.history, progress=progress, cancel=token,
                              client_kwargs=ctx.client_kwargs).run()
    progress.finish()
    _print_result(ctx, result, _write_reports(ctx, result.run_id, report, dry_run=args.dry_run))
    return _exit_code(result, dry_run=args.dry_run)


def _read_source(ctx: Context) -> tuple[Path, SourceInfo]:
    """The file to import (a local copy when it is on a network share) and its sniffed
    layout; an unreadable file fails here, before any request."""
    from recotap_desktop.files import FileProblem, sniff
    from recotap_desktop.files.network import local_copy_if_remote

    args = ctx.args
    path = Path(args.file)
    try:
        path = local_copy_if_remote(path, ctx.paths.ensure().cache_dir)
        if path != Path(args.file):
            ctx.err(f"note: {args.file} is on a network share; it was read once into "
                    f"{path} and the run uses that copy.")
        source = sniff(
            path,
            sheet=args.sheet,
            encoding=args.encoding,
            delimiter=_delimiter_arg(args.delimiter),
        )
    except FileProblem as exc:
        raise CliError(exc.message) from exc
    return path, source


def _import_job(
    ctx: Context, kind: RecordKind, path: Path, source: SourceInfo, conn: ConnectionSpec
) -> ImportJob:
    """The import as the command line asks it: options, custom fields, and the column
    mapping (``--mapping``, or mapped automatically and shown)."""
    args = ctx.args
    custom_fields = ctx.session.custom_fields(kind.name, conn, **ctx.client_kwargs)
    options = ImportOptions(
        segment_id=args.segment,
        upsert=args.upsert,
        concurrency=args.concurrency,
        dry_run=args.dry_run,
        date_order=args.date_order or "auto",
        decimal=args.decimal or "auto",
        send_unchanged=args.send_unchanged,
    )
    base_job = ImportJob(
        kind=kind.name,
        path=path,
        mapping=ColumnMapping({}, {}),
        rules=conn.rules,
        custom_fields=custom_fields,
        options=options,
        sheet=args.sheet,
    )
    if args.mapping:
        mapping = _load_mapping(args.mapping)
    else:
        mapping = kind.automap(source.headers, base_job.context())
        ctx.err("Columns mapped automatically:")
        job_for_print = replace(base_job, mapping=mapping)
        for line in _describe_mapping(mapping, job_for_print) or ["  (none)"]:
            ctx.err(line)
    return replace(
        base_job,
        mapping=mapping,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sheet=source.sheet,
    )


def _followup_connection(ctx: Context, run: Any, label: str) -> tuple[ConnectionSpec, bool]:
    """The connection a resume or retry of ``run`` sends to, and whether it is another one
    than the run's own (chosen with ``--to-profile`` and confirmed, naming both hosts).

    Without ``--to-profile`` it is the run's own connection, whatever the active profile:
    a run that cannot be continued there (connection gone, key gone, now pointing
    elsewhere, or not recorded) stops here with exit 2 and nothing sent.
    """
    recorded = RunTarget.of_run(run)
    how = (f"To send its remaining rows to another connection, name it: "
           f"`recotap {label} {run.id} --to-profile NAME`.")
    chosen = getattr(ctx.args, "to_profile", None)
    overridden = ctx.base_url_overridden()
    if chosen is not None and ctx.settings.get_profile(chosen) is None and not overridden:
        raise CliError(f"There is no connection named {chosen!r}; nothing was sent. Add it "
                       f"with `recotap --profile {chosen} --base-url URL auth set`.")
    if chosen is None:
        if ctx.args.profile and recorded is not None and ctx.args.profile != recorded.profile:
            raise CliError(
                f"Run {run.id} belongs to the connection {recorded.title}, not "
                f"{ctx.args.profile!r}; `recotap {label}` always uses the run's own connection. "
                f"To send its remaining rows to {ctx.args.profile!r} instead: "
                f"`recotap {label} {run.id} --to-profile {ctx.args.profile}`."
            )
        if recorded is None:
            problem = run_target_problem(run, RunTarget.make(ctx.profile_name, None, None))
            assert problem is not None
            raise CliError(f"{problem.message} {how}")
        if ctx.settings.get_profile(recorded.profile) is None and not overridden:
            raise CliError(
                f"Run {run.id} sent its rows to {recorded.title}; that connection no longer "
                f"exists, so nothing was sent. {how}"
            )
        try:
            conn = ctx.connection(name=recorded.profile)
        except CliError as exc:
            raise CliError(
                f"Run {run.id} belongs to the connection {recorded.title}, which cannot be "
                f"used now: {exc.message} Nothing was sent. {how}"
            ) from exc
        problem = run_target_problem(run, RunTarget.of(conn))
        if problem is not None:
            raise CliError(f"{problem.message} {how}")
        return conn, False
    conn = ctx.connection(name=chosen)
    target = RunTarget.of(conn)
    if run_target_problem(run, target) is None:
        return conn, False  # the run's own connection, named explicitly
    was = recorded.title if recorded is not None else (
        f"“{run.profile or '?'}” ({run.host or 'host not recorded'})")
    question = (
        f"Run {run.id} sent its rows to {was}. Send its remaining rows to {target.title} "
        "instead, as a new run?"
    )
    if not ctx.args.yes:
        if not ctx.stdin.isatty():
            raise CliError(f"{question} Add --yes to confirm; nothing was sent.")
        if not _confirm(ctx, question):
            raise CliError("Nothing was sent.", EXIT_CANCELLED)
    ctx.err(f"Sending the remaining rows of run {run.id} to {target.title} (was {was}).")
    return conn, True


def _run_followup(ctx: Context, action: Callable[..., RunResult], run_id: int, label: str,
                  announce: str = "") -> int:
    run = _get_run(ctx, run_id)
    owner = ctx.history.run_owner(run_id)
    if owner is not None:  # checked again, atomically, when the run is claimed
        raise RunBusy(run_id, owner)
    report = _preflight(ctx, getattr(ctx.args, "report", None), inputs=[run.file_path])
    if run.kind not in KINDS:
        raise CliError(f"Run {run_id} is a {run.kind} run; only imports can be {label}d.")
    conn, elsewhere = _followup_connection(ctx, run, label)
    custom_fields = ctx.session.custom_fields(run.kind, conn, **ctx.client_kwargs)
    if announce:  # only once the connection is settled: a refusal sends nothing
        ctx.err(announce)
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, f"{label} run {run_id}")
    with _SigintCancel(token, ctx):
        result = action(
            ctx.history, run_id, conn, custom_fields=custom_fields, progress=progress,
            cancel=token, other_connection=elsewhere, client_kwargs=ctx.client_kwargs,
        )
    progress.finish()
    _print_result(ctx, result, _write_reports(ctx, result.run_id, report))
    return _exit_code(result)


def cmd_resume(ctx: Context) -> int:
    return _run_followup(ctx, resume, ctx.args.run_id, "resume")


def cmd_retry(ctx: Context) -> int:
    _get_run(ctx, ctx.args.run_id)
    owner = ctx.history.run_owner(ctx.args.run_id)
    if owner is not None:  # its rows are still being answered
        raise RunBusy(ctx.args.run_id, owner)
    rows = retryable_rows(ctx.history, ctx.args.run_id)
    if not rows:
        ctx.err(f"Run {ctx.args.run_id} has no rows to retry.")
        return EXIT_OK
    try:
        return _run_followup(ctx, retry, ctx.args.run_id, "retry",
                             announce=f"Retrying {len(rows)} rows of run {ctx.args.run_id}.")
    except NothingToRetry as exc:  # read again first: every row had been processed
        ctx.err(exc.message)
        return EXIT_OK


def cmd_revert(ctx: Context) -> int:
    """``recotap revert RUN_ID``: send back the values a run overwrote (see engine.revert)."""
    args = ctx.args
    run = _get_run(ctx, args.run_id)
    report = _preflight(ctx, args.report, inputs=[run.file_path], failures=False)
    created_list = _preflight(ctx, args.created_list, inputs=[run.file_path],
                              label="--created-list", failures=False)
    conn, _elsewhere = _followup_connection(ctx, run, "revert")
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, f"reading Recotap's accounts for run {run.id}")
    with _SigintCancel(token, ctx):
        try:
            plan = plan_revert(ctx.history, run.id, conn, ctx.ensure_paths().data_dir,
                               cancel=token, progress=progress,
                               client_kwargs=ctx.client_kwargs)
        except RevertError as exc:
            raise CliError(exc.message) from exc
    progress.finish()
    ctx.err(plan.summary())
    for line in describe_rows(plan.rows)[:30]:
        ctx.err("  " + line)
    if len(plan.rows) > 30:
        ctx.err(f"  ... and {len(plan.rows) - 30} more rows.")
    if plan.created:
        if created_list is not None:
            n = write_created_list(plan, created_list)
            ctx.err(f"The {n} accounts run {run.id} created (they cannot be removed through "
                    f"the API): {created_list}")
        else:
            ctx.err("`--created-list FILE` writes the accounts it created to a file.")
    restores = sum(len(r.restores) for r in plan.rows)
    refused = plan.counts().get(Verdict.CHANGED.value, 0)
    if args.dry_run:
        if report is not None:
            n = write_revert_plan(plan, report)
            ctx.err(f"What the undo would do, field by field ({n} lines): {report}")
        ctx.err("Dry run: nothing was sent.")
        return EXIT_ROWS_FAILED if refused else EXIT_OK
    if not restores:
        ctx.err("Nothing to send back.")
        return EXIT_ROWS_FAILED if refused else EXIT_OK
    if not _confirm(ctx, f"Send {restores} values back to {conn.host} ({conn.profile})?"):
        ctx.err("Nothing was sent.")
        return EXIT_CANCELLED
    result = run_revert(ctx.history, plan, conn, cancel=token,
                        client_kwargs=ctx.client_kwargs)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts.items()))
    ctx.err(f"Run {result.run_id} (undo of run {run.id}) {result.state.value}: {counts}.")
    if result.message:
        ctx.err(result.message)
    for line in _write_reports(ctx, result.run_id, report, dry_run=True).lines():
        ctx.err(line)
    if result.state is not RunState.FINISHED:
        return EXIT_API
    bad = refused or result.counts.get("failed") or result.counts.get("skipped")
    return EXIT_ROWS_FAILED if bad else EXIT_OK


def cmd_history(ctx: Context) -> int:
    if ctx.args.run_id is None:
        if ctx.args.report:
            raise CliError("--report needs a RUN_ID: `recotap history RUN_ID --report OUT.csv`.")
        runs = ctx.history.list_runs()
        if not runs:
            ctx.out("No runs yet.")
        for run in runs:
            counts = ", ".join(f"{n} {s}" for s, n in sorted(run.counts.items()) if n)
            ctx.out(
                f"{run.id:>5}  {run.started_at[:19]}  {run.kind:<14} {run.state:<11} "
                f"{run.file_name}  [{counts}]"
            )
        return EXIT_OK
    run = _get_run(ctx, ctx.args.run_id)
    report = _preflight(ctx, ctx.args.report, inputs=[run.file_path], failures=False)
    data = asdict(run)
    for key in ("mapping_json", "options_json"):
        text = data.pop(key, None)
        try:
            data[key.removesuffix("_json")] = json.loads(text) if text else None
        except ValueError:
            data[key.removesuffix("_json")] = text
    ctx.out(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    if report is not None:
        try:
            path, n = write_report_file(
                report, ctx.history, run.id, failures_only=ctx.args.failures_only)
        except OSError as exc:
            raise CliError(f"Could not write {report}: {exc.strerror or exc}.") from exc
        for line in Written([("Report", report, path)]).lines():
            ctx.err(line if line != f"Report: {path}" else f"Report: {path} ({n} rows)")
    return EXIT_OK





def add_parsers(sub: Any) -> None:
    imp = sub.add_parser("import", help="import a CSV/TSV/XLSX file")
    imp.add_argument("kind", choices=sorted(KINDS))
    imp.add_argument("file")
    imp.add_argument("--mapping", help="column mapping template (JSON)")
    imp.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    imp.add_argument("--segment", help="add created/updated accounts to this static segment")
    imp.add_argument(
        "--upsert", action="store_true", help="update accounts that exist (external edition)"
    )
    imp.add_argument("--dry-run", action="store_true",
                     help="check, show what each row would do, report; send nothing")
    imp.add_argument(
        "--send-unchanged", action="store_true",
        help="also send rows whose values Recotap already holds (left out by default)",
    )
    imp.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight (1-16, default 4)"
    )
    imp.add_argument("--report", help="write the results to OUT.csv or OUT.xlsx")
    imp.add_argument(
        "--date-order",
        choices=["DMY", "MDY", "YMD"],
        type=str.upper,
        help="how every date column writes dates such as 03/04/2026 "
        "(default: decided per column from its values)",
    )
    imp.add_argument(
        "--decimal",
        choices=["comma", "point"],
        type=str.lower,
        help="the decimal mark of every number column, e.g. 1.234,50 (comma) or 1,234.50 "
        "(point) (default: decided per column from its values)",
    )
    imp.add_argument(
        "--encoding", help="the CSV file's text encoding, e.g. cp1252 (default: detected)"
    )
    imp.add_argument("--delimiter", help="the CSV delimiter: , ; | or tab (default: detected)")
    imp.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    imp.set_defaults(func=cmd_import)

    rev = sub.add_parser(
        "revert",
        help="undo a run's updates: send back the values it overwrote (never a value "
        "someone changed since)",
    )
    rev.add_argument("run_id", type=int)
    rev.add_argument("--dry-run", action="store_true",
                     help="show what would be sent back, send nothing")
    rev.add_argument("--report", help="write the undo run's results to OUT.csv or OUT.xlsx")
    rev.add_argument("--created-list",
                     help="write the accounts the run created (no delete exists) to a file")
    rev.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    rev.set_defaults(func=cmd_revert)
    hist = sub.add_parser("history", help="list runs, or show one")
    hist.add_argument("run_id", nargs="?", type=int)
    hist.add_argument("--report", help="with RUN_ID: write its results to OUT.csv or OUT.xlsx")
    hist.add_argument(
        "--failures-only", action="store_true", help="with --report: only rows that did not succeed"
    )
    hist.set_defaults(func=cmd_history)

    ret = sub.add_parser(
        "retry", help="send again a run's rows that failed for a retryable reason or were not sent"
    )
    res = sub.add_parser("resume", help="continue an interrupted or cancelled run")
    for followup, func in ((ret, cmd_retry), (res, cmd_resume)):
        followup.add_argument("run_id", type=int)
        followup.add_argument("--report")
        followup.add_argument(
            "--to-profile", metavar="NAME",
            help="send the rows to this connection instead of the run's own (which is gone, "
            "has no key or points elsewhere); asks to confirm, naming both hosts, and makes "
            "a new run linked to this one",
        )
        followup.add_argument(
            "--yes", "-y", action="store_true", help="with --to-profile: do not ask to confirm"
        )
        followup.set_defaults(func=func)
