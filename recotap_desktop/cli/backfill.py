"""``recotap backfill CRM_FILE``: write a CRM's IDs onto accounts without one."""

from __future__ import annotations

from collections.abc import Sequence
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
)
from recotap_desktop.engine.progress import (
    CancelToken,
)
from recotap_desktop.engine.states import RunState
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
)

if TYPE_CHECKING:
    from recotap_desktop.engine.backfill import (
        AcceptedMapping,
        BackfillResult,
        BackfillSession,
        Proposal,
    )
    from recotap_desktop.engine.connection import ConnectionSpec


def cmd_backfill(ctx: Context) -> int:
    """``backfill CRM_FILE``: match accounts without an external ID to a CRM export and
    write the CRM's IDs onto them (``PATCH /accounts/external-ids``, as id-mappings runs).

    Domain matches are sent; name matches only with --include-name-matches; ambiguous
    ones never (the report lists them with their candidates). Exit codes: 0 every
    mapping sent was written (or nothing to send, or --dry-run); 1 some failed (e.g. a
    domain not found); 2 bad input, nothing sent; 3 API unreachable, key refused or the
    run aborted; 130 cancelled or not confirmed.
    """
    from recotap_desktop.engine.backfill import (
        BackfillOptions,
        BackfillSession,
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
        client_kwargs=ctx.client_kwargs,
    )
    asked: list[bool] = []
    declined: list[bool] = []

    def decide(proposals: Sequence[Proposal]) -> list[AcceptedMapping] | None:
        progress.finish()
        accepted = _describe_round(ctx, session, proposals)
        if not accepted or args.dry_run or asked:
            return accepted
        asked.append(True)
        if not _confirm_first_round(ctx, conn, session, accepted):
            declined.append(True)
            return None
        return accepted

    with _SigintCancel(token, ctx):
        result = run_backfill(session, decide, dry_run=args.dry_run)
    progress.finish()
    if report is not None:
        _write_backfill_report(ctx, session, report)
    if declined:
        ctx.err("Nothing was sent.")
        return EXIT_CANCELLED
    _print_backfill_result(ctx, result)
    return _backfill_exit_code(result)


def _describe_round(
    ctx: Context, session: BackfillSession, proposals: Sequence[Proposal]
) -> list[AcceptedMapping]:
    """What one round found (by match kind, the ambiguous ones named) and the mappings
    that would be sent."""
    from collections import Counter

    from recotap_desktop.engine.backfill import WINDOW, MatchKind, auto_decisions

    args = ctx.args
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
    elif args.dry_run:
        ctx.err(f"  Dry run: {len(accepted):,} external IDs would be written.")
    return accepted


def _confirm_first_round(
    ctx: Context, conn: ConnectionSpec, session: BackfillSession, accepted: list[AcceptedMapping]
) -> bool:
    """Before the first round is sent: what it would overwrite, and the question."""
    ctx.err(session.overwrite_check(accepted).message())
    later = (
        ""
        if session.listing_complete
        else " Later rounds are sent the same way without asking again."
    )
    question = f"Write {len(accepted):,} external IDs to {conn.host} ({conn.profile})?{later}"
    return _confirm(ctx, question)


def _write_backfill_report(ctx: Context, session: BackfillSession, report: Path) -> None:
    try:
        rows = session.write_report(report)
    except OSError as exc:
        ctx.err(f"error: could not write the report {report}: {exc.strerror or exc}.")
    else:
        where = session.report_path or report
        for line in Written([("Report", report, where)]).lines()[:-1]:
            ctx.err(line)
        ctx.err(f"Report: {where} ({rows:,} accounts).")


def _print_backfill_result(ctx: Context, result: BackfillResult) -> None:
    from recotap_desktop.engine.backfill import WINDOW

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


def _backfill_exit_code(result: BackfillResult) -> int:
    if result.state is RunState.CANCELLED:
        return EXIT_CANCELLED
    if result.state is RunState.ABORTED:
        return EXIT_API
    if result.dry_run or result.all_succeeded:
        return EXIT_OK
    return EXIT_ROWS_FAILED



def add_parsers(sub: Any) -> None:
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
