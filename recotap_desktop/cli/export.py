"""``recotap export accounts`` and ``recotap unmapped``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from recotap_desktop.cli.context import (
    CliError,
    Context,
    TerminalProgress,
    Written,
    _preflight,
    _SigintCancel,
)
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.progress import (
    CancelToken,
    format_duration,
)
from recotap_desktop.engine.states import RunState
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_OK,
)

if TYPE_CHECKING:
    from recotap_desktop.engine.export import ExportResult


def cmd_export(ctx: Context) -> int:
    """``export accounts OUT``: pull scored accounts into a CSV or XLSX file.

    Exit codes: 0 the file was written; 3 the API could not be reached, refused the key
    or the pull aborted; 130 cancelled (no file written, last sync time unchanged);
    2 bad options.
    """
    from recotap_desktop.engine.export import (
        ExportError,
        ExportOptions,
        export_accounts,
    )

    args = ctx.args
    out = _preflight(ctx, args.out, inputs=[args.domains], label="The export file",
                     failures=False)
    assert out is not None
    conn = ctx.connection()
    domains = _export_domains(ctx)
    options = ExportOptions(
        mode=_export_mode(ctx, conn),
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
                conn, out, ctx.history, options, progress=progress, cancel=token,
                client_kwargs=ctx.client_kwargs,
            )
    except ExportError as exc:
        raise CliError(exc.message) from exc
    finally:
        progress.finish()
    return _export_summary(ctx, result)


def _export_domains(ctx: Context) -> list[str] | None:
    """The domains of ``--domains FILE`` (said on stderr, with the values skipped), or
    ``None`` without the option."""
    from recotap_desktop.engine.export import ExportError, load_domains

    args = ctx.args
    if not args.domains:
        return None
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
    return domains


def _export_mode(ctx: Context, conn: ConnectionSpec) -> str:
    """The pull's mode (``--since``, ``--delta``/``--full``, or what the history allows),
    said on stderr."""
    from recotap_desktop.engine.export import SYNC_RESOURCE, default_mode

    args = ctx.args
    mode: str = "since" if args.since is not None else args.mode or default_mode(ctx.history, conn)
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
    return mode


def _export_summary(ctx: Context, result: ExportResult) -> int:
    """The closing lines of an export (counts, score histogram, stages, the file) and
    its exit code."""
    from recotap_desktop.engine.export import HISTOGRAM_LABELS

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
        with _SigintCancel(token, ctx), conn.open(cancel_event=token.stop_event,
                                                 **ctx.client_kwargs) as client:
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





def add_parsers(sub: Any) -> None:
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
