"""``recotap``: the headless face of recotap-desktop (scripts, CI, support).

The contract below is fixed; scripts rely on it::

    recotap [--profile NAME] [--base-url URL] [--edition crm|external] [--data-dir DIR] COMMAND
      auth set | auth test | auth clear
      segments
      fields list | fields create LABEL --type TYPE [--option O ...] [--description D]
      import KIND FILE [--mapping FILE.json] [--sheet NAME] [--segment ID] [--upsert]
             [--dry-run] [--send-unchanged] [--concurrency N] [--report OUT.csv|OUT.xlsx]
             [--yes]
      history [RUN_ID]
      retry RUN_ID [--to-profile NAME] [--yes]
      revert RUN_ID [--dry-run] [--report OUT] [--created-list OUT] [--yes]
      resume RUN_ID [--to-profile NAME] [--yes]
      sandbox [--port P] [fault knobs]
      export accounts OUT.csv|OUT.xlsx [--delta | --since ISO8601 | --full] [--domains FILE]
      unmapped [--out FILE]
      backfill CRM_FILE [--mapping FILE.json] [--dry-run] [--report OUT] [--include-name-matches]

Exit codes: 0 every row ended created/updated/upserted/unchanged; 1 the run finished but some
rows failed, were invalid or skipped; 2 bad usage or unreadable input (nothing sent);
3 the API could not be reached or refused the key, or the run aborted; 130 cancelled
with Ctrl-C (the journal is consistent and ``resume`` continues).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from recotap_desktop import __version__
from recotap_desktop.domain.editions import Edition, rules_for
from recotap_desktop.engine.baseline import Baseline, prepare_baseline
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import load_custom_fields, resume, retry, retryable_rows
from recotap_desktop.engine.plan import ImportJob, ImportOptions, Plan, build_plan
from recotap_desktop.engine.preview import PREVIEW_KINDS, preview_plan
from recotap_desktop.engine.progress import (
    CancelMode,
    CancelToken,
    ProgressSnapshot,
    format_duration,
)
from recotap_desktop.engine.report import failures_path, write_report_file
from recotap_desktop.engine.revert import (
    RevertError,
    Verdict,
    describe_rows,
    plan_revert,
    run_revert,
    write_created_list,
)
from recotap_desktop.engine.run_target import RunTarget, run_target_problem
from recotap_desktop.engine.runner import ImportRunner, RunResult, summarise_failures
from recotap_desktop.engine.states import SUCCESS_STATES, RunState
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
    UserError,
)
from recotap_desktop.files.targets import TargetProblem, check_data_dir, check_target
from recotap_desktop.records import KINDS, ColumnMapping, get_kind, needs_custom_fields
from recotap_desktop.records.formats import undecided_message
from recotap_desktop.store.history import History, RunBusy
from recotap_desktop.store.mirror import AccountMirror, MirrorInfo
from recotap_desktop.store.paths import AppPaths, DataDirError, app_paths
from recotap_desktop.store.platform_checks import FirstKeychainUse, data_dir_warnings
from recotap_desktop.store.secrets import KeychainUnavailable, KeyStore, resolve_api_key
from recotap_desktop.store.settings import Settings, SettingsError

DEFAULT_PROFILE = "default"


class CliError(UserError):
    """A command cannot do what was asked; ends the command with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # per instance here


# ---------------------------------------------------------------- context
class Context:
    """What every command needs: paths, settings, the connection, the history."""

    def __init__(
        self,
        args: argparse.Namespace,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        env: dict[str, str],
    ) -> None:
        self.args = args
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.env = env
        self.paths: AppPaths = app_paths(args.data_dir)
        self._settings: Settings | None = None
        self._history: History | None = None
        self.keystore = KeyStore(before_first_use=self._explain_keychain)
        for warning in data_dir_warnings(self.paths, env):  # every command, once
            self.err(f"warning: {warning}")

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self.ensure_paths()
            try:
                self._settings = Settings.load(self.paths)
            except SettingsError as exc:
                raise CliError(exc.message) from exc
            for warning in self._settings.warnings:
                self.err(f"warning: {warning}")
        return self._settings

    def ensure_paths(self) -> AppPaths:
        """The app's folders, created; exit 2 with the reason when they cannot be."""
        try:
            return self.paths.ensure()
        except DataDirError as exc:
            raise CliError(exc.message) from exc

    @property
    def history(self) -> History:
        """The history; opening it marks runs whose owner is gone as interrupted."""
        if self._history is None:
            self._history = History.open(self.ensure_paths())
        return self._history

    def _explain_keychain(self) -> None:
        """macOS: say why the OS may now ask for the keychain (once per user)."""
        FirstKeychainUse(self.settings, lambda text: self.err(f"note: {text}"))()

    def close(self) -> None:
        if self._history is not None:
            self._history.close()

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr, flush=True)

    @property
    def profile_name(self) -> str:
        return self.args.profile or self.settings.active_profile or DEFAULT_PROFILE

    def connection(self, *, need_key: bool = True, name: str | None = None) -> ConnectionSpec:
        """The connection of profile ``name`` (default: ``--profile`` or the active one), with
        ``--base-url``/``--edition``/``RECOTAP_BASE_URL`` applied over its settings."""
        name = name or self.profile_name
        profile = self.settings.get_profile(name)
        edition = self.args.edition or (profile.edition if profile else None) or Edition.CRM.value
        base_url = (
            self.args.base_url
            or self.env.get("RECOTAP_BASE_URL")
            or (profile.base_url if profile else None)
        )
        insecure = bool(
            self.args.allow_insecure_http or (profile.allow_insecure_http if profile else False)
        )
        key = ""
        if need_key:
            try:
                found, _source = resolve_api_key(name, self.keystore, self.env)
            except KeychainUnavailable as exc:
                raise CliError(exc.message, EXIT_API) from exc
            if not found:
                raise CliError(
                    f"No API key for connection {name!r}. Store one with "
                    f"`recotap --profile {name} auth set`, or set RECOTAP_API_KEY.",
                    EXIT_API,
                )
            key = found
        return ConnectionSpec(
            base_url=base_url,
            edition=edition,
            api_key=key,
            allow_insecure_http=insecure,
            profile=name,
        )


# ---------------------------------------------------------------- progress
class TerminalProgress:
    """A live bar on a terminal, plain lines every few seconds otherwise (on stderr)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0
        self._lock = threading.Lock()
        self._drawn = False

    def update(self, snapshot: ProgressSnapshot) -> None:
        now = time.monotonic()
        with self._lock:
            final = snapshot.total is not None and snapshot.done >= snapshot.total
            if not final and now - self._last < (0.2 if self.tty else 5.0):
                return
            self._last = now
            rate = f"{snapshot.rate:,.0f} rows/s" if snapshot.rate else "-- rows/s"
            total = f"{snapshot.total:,}" if snapshot.total is not None else "?"
            line = (
                f"{self.label} [{snapshot.phase.value}] {snapshot.done:,}/{total} rows, {rate}, "
                f"ETA {format_duration(snapshot.eta)}"
            )
            if self.tty:
                frac = snapshot.fraction or 0.0
                bar = "#" * int(frac * 30)
                self.stream.write(f"\r[{bar:<30}] {line}\x1b[K")
                self._drawn = True
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self.tty and self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


class _SigintCancel:
    """First Ctrl-C: finish batches in flight; second: stop now. Restores the handler."""

    def __init__(self, token: CancelToken, ctx: Context) -> None:
        self.token = token
        self.ctx = ctx
        self._previous: Any = None

    def __enter__(self) -> _SigintCancel:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.token.cancelled:
            self.token.cancel(CancelMode.STOP_NOW)
            self.ctx.err("\nStopping now.")
        else:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)
            self.ctx.err(
                "\nCancelling: finishing the requests in flight (Ctrl-C again to stop now)."
            )

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


# ---------------------------------------------------------------- commands
def cmd_auth(ctx: Context) -> int:
    action = ctx.args.auth_action
    name = ctx.profile_name
    if action == "set":
        if ctx.stdin.isatty():
            key = getpass.getpass(f"API key for {name!r} (input hidden): ")
        else:
            key = ctx.stdin.readline()
        key = key.strip()
        if not key:
            raise CliError("No API key given; nothing was stored.")
        try:
            ctx.keystore.set(name, key)
        except KeychainUnavailable as exc:
            raise CliError(exc.message, EXIT_API) from exc
        settings = ctx.settings
        if settings.get_profile(name) is None:
            from recotap_desktop.store.settings import Profile

            settings.upsert_profile(
                Profile(name=name, edition=ctx.args.edition or "crm", base_url=ctx.args.base_url)
            )
            if settings.active_profile is None:
                settings.active_profile = name
            settings.save()
        ctx.out(f"API key for {name!r} stored in {ctx.keystore.backend_name()}.")
        return EXIT_OK
    if action == "clear":
        try:
            ctx.keystore.delete(name)
        except KeychainUnavailable as exc:
            raise CliError(exc.message, EXIT_API) from exc
        ctx.out(f"API key for {name!r} removed from {ctx.keystore.backend_name()}.")
        return EXIT_OK
    return _auth_test(ctx, name)


def _auth_test(ctx: Context, name: str) -> int:
    """Probe both editions' paths with the key and keep the one that answers (issue 18: 8)."""
    from datetime import UTC, datetime

    from recotap_desktop.api.detect import detect_edition

    conn = ctx.connection()
    found = detect_edition(conn.api_key, base_url=conn.base_url, preferred=conn.edition,
                           allow_insecure_http=conn.allow_insecure_http, timeout=conn.timeout)
    if found.chosen is None:
        raise CliError(found.message[:1].upper() + found.message[1:], EXIT_API)
    rules = found.chosen.rules
    ctx.out(f"OK: {conn.host} accepted the key. Detected edition: {rules.name} ({rules.title}).")
    if found.both_answered:
        ctx.out(f"Both editions answer; kept {rules.name} (choose with --edition).")
    settings = ctx.settings
    profile = settings.get_profile(name)
    if profile is not None:
        base = found.chosen.base_url if profile.base_url else profile.base_url
        settings.upsert_profile(replace(profile, edition=rules.name, base_url=base,
                                        last_verified=datetime.now(UTC).isoformat()))
        settings.save()
        if profile.edition != rules.name:
            ctx.out(f"Connection {name!r} now uses the {rules.title}.")
    return EXIT_OK


def cmd_segments(ctx: Context) -> int:
    conn = ctx.connection()
    with conn.open() as client:
        segments = client.list_segments()
    if not segments:
        ctx.out("No static segments (active or draft) in this workspace.")
        return EXIT_OK
    width = max(len(s.segment_id) for s in segments)
    for s in segments:
        ctx.out(f"{s.segment_id:<{width}}  {s.status:<7}  {s.name}")
    return EXIT_OK


def cmd_fields(ctx: Context) -> int:
    from recotap_desktop.api import Conflict, RequestRejected
    from recotap_desktop.records import custom_field_key

    creating = ctx.args.fields_action == "create"
    if creating:
        label = ctx.args.label.strip()
        if not label:
            raise CliError("The label is empty; Recotap derives the field's key from it.")
        options = [o.strip() for o in ctx.args.option or [] if o.strip()]
        if ctx.args.type in ("singleSelection", "multiSelection") and not options:
            raise CliError(
                f"A {ctx.args.type} field needs its choices: add --option CHOICE for each."
            )
        if options and ctx.args.type not in ("singleSelection", "multiSelection"):
            raise CliError("--option only applies to singleSelection and multiSelection fields.")
    conn = ctx.connection()
    with conn.open() as client:
        if creating:
            key = custom_field_key(label)
            try:
                created = client.create_custom_field(
                    label, ctx.args.type, description=ctx.args.description, options=options or None
                )
            except Conflict as exc:
                raise CliError(
                    f"A field with key {key} already exists ({exc.server_message})."
                ) from exc
            except RequestRejected as exc:
                raise CliError(f"Recotap refused the field: {exc.server_message}") from exc
            ctx.out(f"Created {created.key} ({created.label_type}).")
            return EXIT_OK
        fields = client.list_custom_fields()
    if not fields:
        ctx.out("No active account custom fields.")
    for f in fields:
        choices = f" [{', '.join(f.options)}]" if f.options else ""
        ctx.out(f"{f.key}\t{f.label_type}\t{f.label}{choices}")
    return EXIT_OK


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


def _preflight(
    ctx: Context,
    value: str | None,
    *,
    inputs: Sequence[str | Path | None] = (),
    label: str = "--report",
    failures: bool = True,
) -> Path | None:
    """Every path the run will write, checked before its first request (exit 2, nothing
    sent): the data folder (journal), and ``value`` with its failures-only file beside it
    (see :mod:`recotap_desktop.files.targets`). Returns the checked path, if any."""
    try:
        check_data_dir(ctx.ensure_paths().data_dir)
        if not value:
            return None
        target = check_target(value, inputs=inputs, label=label)
        if failures:
            check_target(failures_path(target), inputs=inputs,
                         label=f"The failures-only file of {label}")
        return target
    except TargetProblem as exc:
        raise CliError(f"{exc.message} Nothing was sent.") from exc


def _get_run(ctx: Context, run_id: int) -> Any:
    try:
        return ctx.history.get_run(run_id)
    except KeyError:
        raise CliError(
            f"There is no run {run_id} in the history (see `recotap history`)."
        ) from None


@dataclass
class Written:
    """The files a command wrote (or could not write), for its closing lines."""

    files: list[tuple[str, Path, Path]] = field(default_factory=list)  # (what, asked, path)
    error: str = ""

    def lines(self) -> list[str]:
        out = []
        for what, asked, path in self.files:
            if path != asked:
                out.append(f"{asked} could not be replaced (it is open in another program, "
                           f"such as Excel): the {what.lower()} was written to {path} instead.")
            out.append(f"{what}: {path}")
        if self.error:
            out.append(self.error)
        return out


def _write_reports(
    ctx: Context, run_id: int, report: Path | None, *, dry_run: bool = False
) -> Written:
    """Write the results (and failures-only) files; what was written, and the error."""
    written = Written()
    if report is None:
        return written
    try:
        path, _n = write_report_file(report, ctx.history, run_id)
        written.files.append(("Report", report, path))
        result_counts = ctx.history.counts(run_id)
        failed = any(
            n for s, n in result_counts.items() if s not in {x.value for x in SUCCESS_STATES}
        )
        if failed and not dry_run:
            asked = failures_path(report)
            path, _n = write_report_file(asked, ctx.history, run_id, failures_only=True)
            written.files.append(("Failures only (fix and import again as it is)", asked, path))
    except OSError as exc:
        written.error = (
            f"error: could not write the report {report}: {exc.strerror or exc}. The run itself is "
            f"in the history: `recotap history {run_id} --report OTHER.csv` writes it again."
        )
    return written


def _confirm(ctx: Context, question: str) -> bool:
    if ctx.args.yes or not ctx.stdin.isatty():
        return True
    ctx.err(question + " [y/N] ")
    answer = ctx.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


def _print_preview(ctx: Context, plan: Plan, conn: ConnectionSpec) -> int:
    """What the file will do, against Recotap's accounts (kinds the API lists); returns
    the number of rows that would be sent."""
    if plan.job.kind not in PREVIEW_KINDS:
        return plan.rows_to_send
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, "reading Recotap's accounts")
    with _SigintCancel(token, ctx):
        baseline = prepare_baseline(plan, conn, ctx.ensure_paths().data_dir, cancel=token,
                                    client_kwargs={}, progress=progress)
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
    path = Path(args.file)
    conn = ctx.connection()
    rules = conn.rules
    if args.upsert and not rules.supports_upsert:
        raise CliError(f"--upsert is not available in the {rules.title}; use --edition external.")
    if args.segment and kind.name != "accounts":
        raise CliError("--segment only applies to `import accounts`.")
    concurrency = args.concurrency
    if not 1 <= concurrency <= 16:
        raise CliError("--concurrency must be between 1 and 16.")
    report = _preflight(ctx, args.report, inputs=[args.file, args.mapping])
    from recotap_desktop.files import FileProblem, sniff
    from recotap_desktop.files.network import local_copy_if_remote

    try:
        path = local_copy_if_remote(path, ctx.paths.ensure().cache_dir)
        if path != Path(args.file):
            ctx.err(f"note: {args.file} is on a network share; it was read once into "
                    f"{path} and the run uses that copy.")
        # an unreadable file fails before any request
        source = sniff(
            path,
            sheet=args.sheet,
            encoding=args.encoding,
            delimiter=_delimiter_arg(args.delimiter),
        )
    except FileProblem as exc:
        raise CliError(exc.message) from exc
    with conn.open() as client:
        custom_fields = client.list_custom_fields() if kind.needs_custom_fields else []
    options = ImportOptions(
        segment_id=args.segment,
        upsert=args.upsert,
        concurrency=concurrency,
        dry_run=args.dry_run,
        date_order=args.date_order or "auto",
        decimal=args.decimal or "auto",
        send_unchanged=args.send_unchanged,
    )
    base_job = ImportJob(
        kind=kind.name,
        path=path,
        mapping=ColumnMapping({}, {}),
        rules=rules,
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
    job = replace(
        base_job,
        mapping=mapping,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sheet=source.sheet,
    )
    plan = build_plan(job)
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
        result = ImportRunner(plan, conn, ctx.history, progress=progress, cancel=token).run()
    progress.finish()
    _print_result(ctx, result, _write_reports(ctx, result.run_id, report, dry_run=args.dry_run))
    return _exit_code(result, dry_run=args.dry_run)


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
    overridden = ctx.args.base_url or ctx.env.get("RECOTAP_BASE_URL")
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
    custom_fields = load_custom_fields(conn) if needs_custom_fields(run.kind) else []
    if announce:  # only once the connection is settled: a refusal sends nothing
        ctx.err(announce)
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, f"{label} run {run_id}")
    with _SigintCancel(token, ctx):
        result = action(
            ctx.history, run_id, conn, custom_fields=custom_fields, progress=progress,
            cancel=token, other_connection=elsewhere,
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
    return _run_followup(ctx, retry, ctx.args.run_id, "retry",
                         announce=f"Retrying {len(rows)} rows of run {ctx.args.run_id}.")


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
                               cancel=token, progress=progress)
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
        ctx.err("Dry run: nothing was sent.")
        return EXIT_ROWS_FAILED if refused else EXIT_OK
    if not restores:
        ctx.err("Nothing to send back.")
        return EXIT_ROWS_FAILED if refused else EXIT_OK
    if not _confirm(ctx, f"Send {restores} values back to {conn.host} ({conn.profile})?"):
        ctx.err("Nothing was sent.")
        return EXIT_CANCELLED
    result = run_revert(ctx.history, plan, conn, cancel=token)
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


def cmd_export(ctx: Context) -> int:
    """``export accounts OUT``: pull scored accounts into a CSV or XLSX file.

    Exit codes: 0 the file was written; 3 the API could not be reached, refused the key
    or the pull aborted; 130 cancelled (no file written, last sync time unchanged);
    2 bad options.
    """
    from recotap_desktop.engine.export import (
        HISTOGRAM_LABELS,
        SYNC_RESOURCE,
        ExportError,
        ExportOptions,
        ExportResult,
        default_mode,
        export_accounts,
        load_domains,
    )

    args = ctx.args
    out = _preflight(ctx, args.out, inputs=[args.domains], label="The export file",
                     failures=False)
    assert out is not None
    conn = ctx.connection()
    domains: list[str] | None = None
    if args.domains:
        try:
            loaded = load_domains(args.domains)
        except ExportError as exc:
            raise CliError(exc.message) from exc
        domains = loaded.domains
        where = f"column {loaded.column!r} of " if loaded.column else ""
        ctx.err(f"Domain filter: {len(domains):,} domains from {where}{args.domains}.")
        if loaded.rejected:
            shown = ", ".join(f"row {row} {value!r}" for row, value in loaded.rejected[:5])
            more = f" and {len(loaded.rejected) - 5} more" if len(loaded.rejected) > 5 else ""
            ctx.err(
                f"warning: {len(loaded.rejected)} values are not domain names and were "
                f"skipped ({shown}{more})."
            )
    mode = "since" if args.since is not None else args.mode or default_mode(ctx.history, conn)
    last = ctx.history.last_sync(conn.profile, SYNC_RESOURCE, host=conn.host)
    if mode == "since":
        ctx.err(f"Mode: since - accounts changed after {args.since}.")
    elif mode == "delta" and last:
        ctx.err(f"Mode: delta - accounts changed since the last complete pull ({last}).")
    elif args.mode == "full":
        ctx.err("Mode: full - every account.")
    else:
        ctx.err(
            f"Mode: full - every account (no earlier complete pull of {conn.profile!r} "
            f"on {conn.host})."
        )
    options = ExportOptions(
        mode=mode,
        since=args.since,
        domains=domains,
        min_score=args.min_score,
        stages=args.stage or None,
        label_row=args.label_row,
    )
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, "export accounts")
    try:
        with _SigintCancel(token, ctx):
            result: ExportResult = export_accounts(
                conn, out, ctx.history, options, progress=progress, cancel=token
            )
    except ExportError as exc:
        raise CliError(exc.message) from exc
    finally:
        progress.finish()

    ctx.err(
        f"Run {result.run_id} {result.state.value} in {format_duration(result.duration)}: "
        f"{result.exported:,} exported, {result.duplicates:,} duplicates, "
        f"{result.filtered_out:,} filtered out ({result.received:,} received)."
    )
    if result.state is RunState.FINISHED and result.exported:
        widest = max(result.histogram) or 1
        ctx.err("Account score of the exported accounts:")
        for label, n in zip(HISTOGRAM_LABELS, result.histogram, strict=True):
            ctx.err(f"  {label:>6}  {n:>8,}  {'#' * round(30 * n / widest)}")
        ctx.err(f"  not yet scored: {result.unscored:,}")
        if result.stages:
            stages = [f"{name or '(no stage)'} {n:,}" for name, n in result.stages.items()]
            ctx.err("Journey stages: " + " · ".join(stages))
    ctx.err(result.message)
    if result.state is RunState.FINISHED:
        ctx.err(f"File: {result.path}")
        return EXIT_OK
    if result.state is RunState.CANCELLED:
        return EXIT_CANCELLED
    return EXIT_API


def cmd_unmapped(ctx: Context) -> int:
    """``unmapped [--out FILE] [--all]``: accounts that have no external ID yet.

    The API lists at most 100 at a time (no paging); ``--all`` pages through every
    account instead. Exit codes: 0 listed; 2 bad options; 3 API unreachable or key
    refused; 130 cancelled.
    """
    from recotap_desktop.engine.backfill import WINDOW, BackfillCancelled, list_unmapped
    from recotap_desktop.files import TableWriter

    args = ctx.args
    out = _preflight(ctx, args.out, label="--out", failures=False)
    conn = ctx.connection()
    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, "unmapped")
    try:
        with _SigintCancel(token, ctx), conn.open(cancel_event=token.stop_event) as client:
            listing = list_unmapped(client, scan=args.all, progress=progress, cancel=token)
    except BackfillCancelled:
        progress.finish()
        ctx.err("Cancelled.")
        return EXIT_CANCELLED
    progress.finish()
    accounts = listing.accounts
    if out is not None:
        try:
            with TableWriter.open(out, ["name", "domain"]) as writer:
                for acc in accounts:
                    writer.write_row([acc.name, acc.domain])
        except OSError as exc:
            raise CliError(f"Cannot write {out}: {exc.strerror}.") from exc
        for line in Written([("File", out, writer.path)]).lines()[:-1]:
            ctx.err(line)
        ctx.err(f"Wrote {len(accounts):,} accounts to {writer.path}.")
    elif accounts:
        width = min(60, max(len("NAME"), *(len(a.name) for a in accounts)))
        ctx.out(f"{'NAME':<{width}}  DOMAIN")
        for acc in accounts:
            ctx.out(f"{acc.name:<{width}}  {acc.domain}")
    n = len(accounts)
    if listing.scanned:
        ctx.err(
            f"{n:,} accounts have no external ID (found by paging through all "
            f"{listing.scanned_accounts:,} accounts)."
        )
    elif listing.complete:
        ctx.err(
            f"All {n} accounts without an external ID are shown."
            if n
            else "Every account has an external ID."
        )
    else:
        ctx.err(
            f"Shown: {n} accounts without an external ID, maybe not all of them. The API "
            f"lists at most {WINDOW} at a time; mapping them (`recotap backfill CRM_FILE`) "
            "reveals the next ones. Use --all to page through every account instead."
        )
    return EXIT_OK


def cmd_backfill(ctx: Context) -> int:
    """``backfill CRM_FILE``: match accounts without an external ID to a CRM export and
    write the CRM's IDs onto them (``PATCH /accounts/external-ids``, as id-mappings runs).

    Domain matches are sent; name matches only with --include-name-matches; ambiguous
    ones never (the report lists them with their candidates). Exit codes: 0 every
    mapping sent was written (or nothing to send, or --dry-run); 1 some failed (e.g. a
    domain not found); 2 bad input, nothing sent; 3 API unreachable, key refused or the
    run aborted; 130 cancelled or not confirmed.
    """
    from collections import Counter

    from recotap_desktop.engine.backfill import (
        WINDOW,
        AcceptedMapping,
        BackfillOptions,
        BackfillSession,
        MatchKind,
        Proposal,
        auto_decisions,
        load_crm_mapping,
        read_crm_file,
        run_backfill,
    )

    args = ctx.args
    if not 1 <= args.concurrency <= 16:
        raise CliError("--concurrency must be between 1 and 16.")
    report = _preflight(ctx, args.report, inputs=[args.file, args.mapping], failures=False)
    conn = ctx.connection()
    mapping = load_crm_mapping(args.mapping) if args.mapping else None
    crm = read_crm_file(args.file, mapping=mapping, sheet=args.sheet)
    ctx.err("CRM columns" + (" (mapped automatically):" if crm.automapped else ":"))
    for line in crm.describe_mapping():
        ctx.err("  " + line)
    ctx.err(f"Read {crm.path.name}: {crm.summary()}.")

    token = CancelToken()
    progress = TerminalProgress(ctx.stderr, "backfill")
    session = BackfillSession(
        conn,
        crm,
        ctx.history,
        ctx.paths.data_dir,
        options=BackfillOptions(scan=not args.no_scan, concurrency=args.concurrency),
        progress=progress,
        cancel=token,
    )
    asked: list[bool] = []
    declined: list[bool] = []

    def decide(proposals: Sequence[Proposal]) -> list[AcceptedMapping] | None:
        progress.finish()
        n = len(proposals)
        if session.rounds > 1:
            ctx.err(f"Round {session.rounds}: {n:,} more accounts without an external ID.")
        elif session.scanned:
            ctx.err(
                f"Found {n:,} accounts without an external ID (the API lists at most "
                f"{WINDOW} at a time, so all {session.scanned_accounts:,} accounts were "
                "paged through)."
            )
        elif session.last_window < WINDOW:
            ctx.err(f"Found {n:,} accounts without an external ID.")
        else:
            ctx.err(
                f"Round 1: the first {n:,} accounts without an external ID (the API lists at "
                f"most {WINDOW} at a time; mapping them reveals the next ones)."
            )
        kinds = Counter(p.match for p in proposals)
        name_note = (
            " (not sent: add --include-name-matches)"
            if kinds[MatchKind.NAME] and not args.include_name_matches
            else ""
        )
        ctx.err(f"  matched by domain: {kinds[MatchKind.DOMAIN]:,}")
        ctx.err(f"  matched by company name only: {kinds[MatchKind.NAME]:,}{name_note}")
        ctx.err(f"  ambiguous (never sent automatically): {kinds[MatchKind.AMBIGUOUS]:,}")
        ctx.err(f"  no match: {kinds[MatchKind.NONE]:,}")
        ambiguous = [p for p in proposals if p.match is MatchKind.AMBIGUOUS]
        for p in ambiguous[:10]:
            ctx.err(f"    {p.domain or p.name}: {p.reason}")
        if len(ambiguous) > 10:
            ctx.err(f"    ... and {len(ambiguous) - 10:,} more (all of them are in the report).")
        accepted = auto_decisions(proposals, include_name_matches=args.include_name_matches)
        if not accepted:
            ctx.err("  Nothing to send.")
            return []
        if args.dry_run:
            ctx.err(f"  Dry run: {len(accepted):,} external IDs would be written.")
            return accepted
        if not asked:
            asked.append(True)
            ctx.err(session.overwrite_check(accepted).message())
            later = (
                ""
                if session.listing_complete
                else " Later rounds are sent the same way without asking again."
            )
            question = (
                f"Write {len(accepted):,} external IDs to {conn.host} ({conn.profile})?{later}"
            )
            if not _confirm(ctx, question):
                declined.append(True)
                return None
        return accepted

    with _SigintCancel(token, ctx):
        result = run_backfill(session, decide, dry_run=args.dry_run)
    progress.finish()
    if report is not None:
        try:
            rows = session.write_report(report)
        except OSError as exc:
            ctx.err(f"error: could not write the report {report}: {exc.strerror or exc}.")
        else:
            where = session.report_path or report
            for line in Written([("Report", report, where)]).lines()[:-1]:
                ctx.err(line)
            ctx.err(f"Report: {where} ({rows:,} accounts).")
    if declined:
        ctx.err("Nothing was sent.")
        return EXIT_CANCELLED
    counts = result.match_counts
    if not sum(counts.values()):
        ctx.err("Every account already has an external ID: nothing to do.")
    sent = ", ".join(f"{n:,} {state}" for state, n in sorted(result.sent_counts.items()) if n)
    ctx.err(
        f"Backfill {result.state.value}: {result.updated:,} external IDs written"
        + (f" ({sent})" if sent and result.updated != result.sent else "")
        + f" in {len(result.runs)} run(s)."
    )
    if result.runs:
        ids = [str(r.run_id) for r in result.runs]
        shown = ", ".join(ids) if len(ids) <= 6 else f"{', '.join(ids[:3])}, ... {ids[-1]}"
        ctx.err(f"  history (id-mappings): run {shown}")
    for run in result.runs:
        if run.state is not RunState.FINISHED:
            ctx.err(f"  run {run.run_id} {run.state.value}: {run.message}")
    left = result.sent_counts
    stayed = sum(counts.values()) - sum(left.values())
    if stayed and not result.dry_run:
        ctx.err(f"{stayed:,} listed accounts stay without an ID (see the report for why).")
    if result.message:
        ctx.err(result.message)
    if result.blocked:
        ctx.err(
            f"More accounts without an external ID may be hidden: the API lists at most "
            f"{WINDOW} at a time and the first {WINDOW} could not be mapped. Run again "
            "without --no-scan to page through every account."
        )
    if result.state is RunState.CANCELLED:
        return EXIT_CANCELLED
    if result.state is RunState.ABORTED:
        return EXIT_API
    if result.dry_run or result.all_succeeded:
        return EXIT_OK
    return EXIT_ROWS_FAILED


def cmd_sandbox(ctx: Context) -> int:
    from recotap_desktop.sandbox.cli import run_sandbox_cli

    return int(run_sandbox_cli(ctx.args) or 0)


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recotap",
        description="Move CRM files in and out of Recotap from the command line.",
        epilog="The API key comes from RECOTAP_API_KEY if set, else from the OS keychain "
        "(`recotap auth set`). RECOTAP_BASE_URL overrides the base URL.",
    )
    parser.add_argument("--version", action="version", version=f"recotap-desktop {__version__}")
    parser.add_argument("--profile", help="connection profile name (default: the active one)")
    parser.add_argument(
        "--base-url",
        help="API base URL (the whole prefix, e.g. https://eapi.recotap.com/api/v1/crm/)",
    )
    parser.add_argument(
        "--edition", choices=[e.value for e in Edition], help="API edition (default crm)"
    )
    parser.add_argument("--data-dir", type=Path, help="keep history, settings and logs under DIR")
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain-http base URL that is not loopback (the key travels unencrypted)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    auth = sub.add_parser("auth", help="store, test or clear the API key")
    auth.add_argument("auth_action", choices=["set", "test", "clear"])
    auth.set_defaults(func=cmd_auth)

    seg = sub.add_parser("segments", help="list static segments (active or draft)")
    seg.set_defaults(func=cmd_segments)

    fields = sub.add_parser("fields", help="list or create account custom fields")
    fsub = fields.add_subparsers(dest="fields_action", required=True)
    fsub.add_parser("list", help="list active account custom fields")
    fcreate = fsub.add_parser("create", help="create an account custom field")
    fcreate.add_argument("label")
    fcreate.add_argument(
        "--type",
        required=True,
        choices=[
            "singleLineText",
            "multiLineText",
            "singleSelection",
            "multiSelection",
            "number",
            "date",
        ],
    )
    fcreate.add_argument("--option", action="append", help="a choice (selection types; repeat)")
    fcreate.add_argument("--description")
    fields.set_defaults(func=cmd_fields)

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

    exp = sub.add_parser("export", help="pull scored accounts into a CSV or XLSX file")
    exp.add_argument("what", choices=["accounts"], help="what to pull (accounts)")
    exp.add_argument("out", metavar="OUT", help="the file to write: OUT.csv or OUT.xlsx")
    exp_mode = exp.add_mutually_exclusive_group()
    exp_mode.add_argument(
        "--delta",
        dest="mode",
        action="store_const",
        const="delta",
        help="only accounts changed since the last complete pull (the default once there is one)",
    )
    exp_mode.add_argument(
        "--since",
        metavar="ISO8601",
        help="only accounts changed after this date or time (no offset = UTC)",
    )
    exp_mode.add_argument(
        "--full", dest="mode", action="store_const", const="full", help="every account"
    )
    exp.add_argument(
        "--domains",
        metavar="FILE",
        help="only these domains: one per line, or a CSV/XLSX with a domain column",
    )
    exp.add_argument(
        "--min-score",
        type=float,
        metavar="N",
        help="only accounts whose account score is at least N",
    )
    exp.add_argument(
        "--stage",
        action="extend",
        nargs="+",
        metavar="S",
        help="only accounts in these journey stages (repeatable)",
    )
    exp.add_argument(
        "--label-row",
        action="store_true",
        help="add a second header row with readable labels (for people; a re-import or a "
        "script would take it for an account)",
    )
    # the default since issue 14; still accepted so that existing scripts keep working
    exp.add_argument("--no-label-row", action="store_true", help=argparse.SUPPRESS)
    exp.set_defaults(func=cmd_export, mode=None)

    unm = sub.add_parser("unmapped", help="list accounts that have no external ID yet")
    unm.add_argument(
        "--out", metavar="FILE", help="write them to FILE.csv or FILE.xlsx instead of a table"
    )
    unm.add_argument(
        "--all",
        action="store_true",
        help="page through every account (GET /accounts) to list all of them; "
        "without it the API shows at most 100",
    )
    unm.set_defaults(func=cmd_unmapped)

    bf = sub.add_parser(
        "backfill", help="match accounts without an external ID to a CRM export and write IDs"
    )
    bf.add_argument("file", metavar="CRM_FILE", help="the CRM export (CSV/TSV/XLSX)")
    bf.add_argument(
        "--mapping",
        metavar="FILE.json",
        help='which CRM columns hold the ID, domain and name: {"externalId": "Record ID", '
        '"domain": "Website", "name": "Company name"} (default: detected)',
    )
    bf.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    bf.add_argument("--dry-run", action="store_true", help="match and report, send nothing")
    bf.add_argument("--report", metavar="OUT", help="write every listed account and its fate")
    bf.add_argument(
        "--include-name-matches",
        action="store_true",
        help="also send matches found by company name only (default: domain matches only)",
    )
    bf.add_argument(
        "--no-scan",
        action="store_true",
        help="do not page through every account: work in rounds of at most 100 "
        "(cheaper, but accounts behind 100 unmappable ones stay unseen, and two accounts "
        "matching one CRM row are only noticed when they are listed in the same round)",
    )
    bf.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight (1-16, default 4)"
    )
    bf.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    bf.set_defaults(func=cmd_backfill)

    sb = sub.add_parser("sandbox", help="run the local sandbox server (no account needed)")
    from recotap_desktop.sandbox.cli import add_sandbox_arguments

    add_sandbox_arguments(sb)
    sb.set_defaults(func=cmd_sandbox)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: dict[str, str] | None = None,
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    ctx = Context(args, stdin, stdout, stderr, dict(os.environ if env is None else env))
    try:
        if args.edition:
            rules_for(args.edition)
        return int(args.func(ctx))
    except UserError as exc:  # every error written for the user, whatever its layer
        ctx.err(f"error: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.err("Cancelled.")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # `recotap history | head`: the reader went away; not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
