"""External-ID backfill assistant: find Recotap accounts without an ID, match, review, send.

Qt-free; the CLI (``recotap unmapped`` / ``recotap backfill``) and the GUI both drive
:class:`BackfillSession`. Matching itself is pure and lives in
:mod:`recotap_desktop.records.backfill_match`.

Listing: why rounds, and why a scan
-----------------------------------
``GET /accounts/missing-external-ids`` (§9.4) takes only ``limit`` (at most 100) and has
no cursor: it always answers with the *first* ≤ 100 accounts that still have no ID.
Fetching it again without mapping anything returns the same accounts. Mapping some of
them (``PATCH /accounts/external-ids``) removes them from the list and reveals the
next ones — but accounts we cannot map (no match, ambiguous, skipped by the user) stay
at the front. Once 100 of those pile up, the list is stuck: every fetch returns the
same 100 and the accounts behind them can never be seen that way. The reference's
loop ("fetch, map, fetch again until the array is empty or contains only accounts you
cannot map") ends there.

So the session works like this:

1. **Window.** Each round fetches the list with ``limit=100`` and keeps the accounts
   not seen before in this session (identity: normalised domain). An answer with
   fewer than 100 accounts is the whole list.
2. **Scan (default on).** When the window is full (there may be more), the session
   pages once through ``GET /accounts`` (§9.1: every account, with its
   ``externalId``) and keeps those without an ID. That finds *every* unmapped account
   up front, so the user reviews them all at once and one history run sends them.
   Cost: one request per 100 accounts of the workspace (the window alone costs one per
   100 unmapped accounts, but cannot see past a stuck front). With ``scan=False`` the
   session follows the reference's loop round by round instead; then two accounts that
   claim the same CRM row are only recognised as ambiguous when they are listed in
   the same round (an earlier round may already have given the row's ID to one of them;
   the later one is then shown as ambiguous, never sent the same ID).
3. **Match** each new account against the CRM export (domain, then company name;
   ambiguous cases are never guessed) -> :class:`Proposal` list for the round.
4. **Review**: the caller turns proposals into :class:`AcceptedMapping` decisions
   (the CLI auto-accepts domain matches, name matches only when asked; the GUI lets
   the user choose).
5. **Send** the decisions through the import engine: they are written to
   ``<data dir>/backfill/backfill-<UTC time>-r<round>.csv`` (domain, externalId and
   provenance columns) and run as an ordinary ``id-mappings`` import
   (:class:`~recotap_desktop.engine.runner.ImportRunner`), so the history has a run
   with a journal, resume, retry and a per-row report; domains the server did not
   find (``notFound``) fail per row.
6. **Next round**: fetch the window again. It stops when a fetch brings no account
   not seen before. If that last window is full and no scan was made, more accounts
   may be hidden behind ones that could not be mapped (:attr:`BackfillSession.blocked`).

Overwrites: the API overwrites an existing ``externalId`` without warning (§9.5,
§11 item 18). Listed accounts had no ID when listed; the history is checked for IDs
earlier ``id-mappings`` runs of this connection wrote onto the same domains
(:meth:`BackfillSession.overwrite_check`, :attr:`Proposal.previous_external_id`) so
the user can be asked once. Read-model lag (Appendix A) can make an account mapped
minutes ago still look unmapped; the same check catches that.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recotap_desktop.api import RecotapClient, RecotapError
from recotap_desktop.api.models import UnmappedAccount
from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.plan import (
    ImportJob,
    ImportOptions,
    PlanCancelled,
    PlanError,
    build_plan,
)
from recotap_desktop.engine.progress import (
    CancelToken,
    NullProgress,
    Phase,
    ProgressSink,
    ProgressSnapshot,
)
from recotap_desktop.engine.runner import ImportRunner, RunResult
from recotap_desktop.engine.states import SUCCESS_STATES, RowState, RunState
from recotap_desktop.files import FileProblem, SourceInfo, TableWriter, iter_rows, sniff
from recotap_desktop.records import ACCOUNTS, ColumnMapping, ConvertContext, TargetField
from recotap_desktop.records.automap import automap
from recotap_desktop.records.backfill_match import (
    AcceptedMapping,
    CrmIndex,
    MatchKind,
    Proposal,
    auto_decisions,
    check_decisions,
    domain_key,
    match_accounts,
)
from recotap_desktop.store.history import History

__all__ = [
    "CRM_FIELD_NAMES",
    "REPORT_HEADERS",
    "WINDOW",
    "AcceptedMapping",
    "BackfillCancelled",
    "BackfillError",
    "BackfillOptions",
    "BackfillResult",
    "BackfillSession",
    "CrmFile",
    "MatchKind",
    "OverwriteCheck",
    "Proposal",
    "UnmappedListing",
    "auto_decisions",
    "automap_crm",
    "crm_fields",
    "list_unmapped",
    "load_crm_mapping",
    "previous_mappings",
    "read_crm_file",
    "run_backfill",
]

#: The most accounts ``GET /accounts/missing-external-ids`` lists at a time.
WINDOW = 100
#: Fields of the CRM column mapping.
CRM_FIELD_NAMES = ("externalId", "domain", "name")
_CRM_PREFIXES = ("company", "account", "organization", "organisation")
_SEND_MAPPING = ColumnMapping(columns={"domain": "domain", "externalId": "externalId"})
_SEND_HEADERS = ("domain", "externalId", "crm_row", "match", "recotap_name", "crm_name")
_SUCCESS = {s.value for s in SUCCESS_STATES}
_SCAN_PROGRESS_EVERY = 1_000

REPORT_HEADERS = (
    "recotap_name",
    "recotap_domain",
    "match",
    "externalId",
    "crm_row",
    "crm_name",
    "crm_domain",
    "candidates",
    "previous_externalId",
    "recotap_state",
    "recotap_message",
    "recotap_run",
)


class BackfillError(PlanError):
    """The backfill cannot go on: the message says what is wrong and what to do."""


class BackfillCancelled(BackfillError):
    """The user cancelled while the CRM file was read or the accounts were listed."""

    def __init__(self, message: str = "The backfill was cancelled.") -> None:
        super().__init__(message)


# ---------------------------------------------------------------- the CRM file
def crm_fields() -> list[TargetField]:
    """The CRM columns the assistant reads: external ID, domain, company name.

    They reuse the accounts kind's fields, so headers of real CRM exports (``Record
    ID``, ``Company Domain Name``, ``Website``, ``Account Name`` ...) map by themselves.
    """
    ctx = ConvertContext.build(rules_for("crm"), [])
    by_name = {f.name: f for f in ACCOUNTS.fields(ctx)}
    return [by_name[name] for name in CRM_FIELD_NAMES]


def automap_crm(headers: Sequence[str]) -> ColumnMapping:
    """Guess the CRM columns for ``externalId``, ``domain`` and ``name``."""
    return automap(headers, crm_fields(), prefixes=_CRM_PREFIXES)


def load_crm_mapping(path: str | os.PathLike[str]) -> ColumnMapping:
    """Read a column mapping JSON file for the CRM file.

    Either a saved :class:`ColumnMapping` (``{"columns": {"externalId": "Record ID",
    ...}}``) or a flat object ``{"externalId": "Record ID", "domain": "Website"}``.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BackfillError(f"Cannot read the mapping file {p}: {exc.strerror}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackfillError(f"The mapping file {p} is not valid JSON: {exc}.") from exc
    if (
        isinstance(data, dict)
        and "columns" not in data
        and data
        and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
    ):
        data = {"columns": data}
    try:
        return ColumnMapping.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise BackfillError(f"The mapping file {p} is not a column mapping: {exc}") from exc


def check_crm_mapping(mapping: ColumnMapping, headers: Sequence[str]) -> list[str]:
    """Problems with a CRM column mapping (empty list: usable)."""
    problems: list[str] = []
    labels = {f.name: f for f in crm_fields()}
    present = set(headers)
    for name, header in mapping.columns.items():
        if name not in labels:
            problems.append(f"{name!r} is not a CRM field here; use externalId, domain or name.")
        elif header not in present:
            problems.append(
                f"The file has no column {header!r} (for {labels[name].label}); its columns "
                f"are: {', '.join(headers)}."
            )
    if "externalId" not in mapping.columns:
        problems.append(
            "No column holds the CRM's account ID (looked for: "
            f"{', '.join(labels['externalId'].aliases[:6])} ...). Name it in a mapping "
            'file: {"externalId": "<column>", "domain": "<column>", "name": "<column>"}.'
        )
    if "domain" not in mapping.columns and "name" not in mapping.columns:
        problems.append(
            "No column holds the company's domain or name, so nothing can be matched "
            "(looked for: Domain, Website, Company Domain Name, Company name, Account Name "
            "...). Name them in a mapping file."
        )
    return problems


@dataclass
class CrmFile:
    """A CRM export read and indexed for matching."""

    path: Path
    source: SourceInfo
    mapping: ColumnMapping
    index: CrmIndex
    automapped: bool = False

    def describe_mapping(self) -> list[str]:
        """Lines like ``External ID <- column 'Record ID'``."""
        labels = {f.name: f.label for f in crm_fields()}
        return [
            f"{labels[name]} <- column {self.mapping.columns[name]!r}"
            for name in CRM_FIELD_NAMES
            if name in self.mapping.columns
        ]

    def summary(self) -> str:
        """``1,234 rows, 1,200 usable, 30 without an ID, 4 without domain or name``."""
        ix = self.index
        parts = [f"{ix.rows:,} rows", f"{ix.rows_indexed:,} usable"]
        if ix.rows_without_id:
            parts.append(f"{ix.rows_without_id:,} without an ID")
        if ix.rows_without_keys:
            parts.append(f"{ix.rows_without_keys:,} without a domain or name")
        if ix.bad_domains:
            parts.append(f"{ix.bad_domains:,} with a value that is not a domain")
        return ", ".join(parts)


def read_crm_file(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    cancel: CancelToken | None = None,
) -> CrmFile:
    """Read a CRM export (CSV/TSV/XLSX) and index it; columns are auto-detected unless
    ``mapping`` names them. Raises :class:`BackfillError` with a message for the user."""
    p = Path(path)
    if not p.is_file():
        raise BackfillError(f"The CRM file {p} does not exist. Choose the file again.")
    try:
        source = sniff(p, encoding=encoding, delimiter=delimiter, sheet=sheet)
    except FileProblem as exc:
        raise BackfillError(exc.message) from exc
    automapped = mapping is None
    used = automap_crm(source.headers) if mapping is None else mapping
    problems = check_crm_mapping(used, source.headers)
    if problems:
        raise BackfillError(
            f"The columns of {p.name} cannot be used:\n" + "\n".join(f"- {x}" for x in problems)
        )
    position = {h: i for i, h in reversed(list(enumerate(source.headers)))}
    i_ext = position[used.columns["externalId"]]
    i_dom = position.get(used.columns.get("domain", ""))
    i_name = position.get(used.columns.get("name", ""))
    index = CrmIndex()
    try:
        for n, (row, values) in enumerate(iter_rows(source)):
            if cancel is not None and n % 512 == 0 and cancel.cancelled:
                raise BackfillCancelled()
            index.add(
                row,
                values[i_ext],
                values[i_name] if i_name is not None else "",
                values[i_dom] if i_dom is not None else "",
            )
    except FileProblem as exc:
        raise BackfillError(exc.message) from exc
    if index.rows_indexed == 0:
        raise BackfillError(
            f"No row of {p.name} has both an ID and a domain or company name: nothing to "
            "match. Check the column mapping."
        )
    return CrmFile(p, source, used, index, automapped)


# ---------------------------------------------------------------- listing
@dataclass
class UnmappedListing:
    """Accounts without an external ID, as far as they could be seen."""

    accounts: list[UnmappedAccount]
    #: True when this is every unmapped account (window < 100, or a full scan).
    complete: bool
    #: True when ``GET /accounts`` was paged through.
    scanned: bool = False
    #: Accounts read by the scan.
    scanned_accounts: int = 0
    #: How many the ``missing-external-ids`` call returned.
    window: int = 0


def _scan(
    client: RecotapClient,
    progress: ProgressSink,
    cancel: CancelToken | None,
) -> tuple[list[UnmappedAccount], int]:
    found: list[UnmappedAccount] = []
    read = 0
    last = 0
    for page in client.iter_account_pages(limit=WINDOW):
        if cancel is not None and cancel.cancelled:
            raise BackfillCancelled()
        for acc in page.accounts:
            read += 1
            if not acc.external_id:
                found.append(UnmappedAccount(name=acc.name or "", domain=acc.domain or ""))
        if read - last >= _SCAN_PROGRESS_EVERY:
            last = read
            progress.update(
                ProgressSnapshot(
                    Phase.PULL,
                    read,
                    None,
                    None,
                    None,
                    {"unmapped": len(found)},
                    "Looking for accounts without an external ID",
                )
            )
    progress.update(
        ProgressSnapshot(
            Phase.PULL,
            read,
            read,
            None,
            0.0,
            {"unmapped": len(found)},
            "Looked through every account",
        )
    )
    return found, read


def _account_key(account: UnmappedAccount) -> str:
    return domain_key(account.domain) or "name:" + account.name.strip().casefold()


def _dedupe(accounts: Iterable[UnmappedAccount]) -> list[UnmappedAccount]:
    seen: dict[str, UnmappedAccount] = {}
    for a in accounts:
        seen.setdefault(_account_key(a), a)
    return list(seen.values())


def list_unmapped(
    client: RecotapClient,
    *,
    scan: bool = False,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> UnmappedListing:
    """List accounts without an external ID.

    One ``missing-external-ids`` call shows at most :data:`WINDOW` accounts; when it
    is full and ``scan`` is true, every account is paged through (``GET /accounts``)
    to find the rest. Without ``scan`` a full window is marked incomplete: the API
    lists at most 100 at a time and mapping them reveals the next ones.
    """
    if cancel is not None and cancel.cancelled:
        raise BackfillCancelled()
    window = client.list_unmapped_accounts(limit=WINDOW)
    if len(window) < WINDOW:
        return UnmappedListing(_dedupe(window), True, window=len(window))
    if not scan:
        return UnmappedListing(_dedupe(window), False, window=len(window))
    found, read = _scan(client, progress or NullProgress(), cancel)
    return UnmappedListing(_dedupe([*window, *found]), True, True, read, len(window))


# ---------------------------------------------------------------- history
def previous_mappings(history: History, profile: str, host: str) -> dict[str, str]:
    """Domain -> the ID the most recent successful ``id-mappings`` row of this
    connection (profile and host) wrote onto it."""
    found: dict[str, str] = {}
    runs = history.list_runs(limit=1_000_000, profile=profile, kind="id-mappings")
    for run in reversed(runs):  # oldest first: later runs win
        if run.host and host and run.host != host:
            continue
        for o in history.iter_outcomes(run.id):
            if o.state not in _SUCCESS or not o.ids:
                continue
            dom = domain_key(str(o.ids.get("domain", "")))
            ext = str(o.ids.get("externalId", "")).strip()
            if dom and ext:
                found[dom] = ext
    return found


@dataclass(frozen=True)
class OverwriteCheck:
    """What sending a set of decisions would overwrite, as far as the history knows."""

    #: ``(domain, ID written earlier, new ID)`` where the new ID differs.
    overwrites: tuple[tuple[str, str, str], ...] = ()
    #: Decisions that write again the ID an earlier run already wrote (harmless).
    repeats: int = 0

    @property
    def count(self) -> int:
        return len(self.overwrites)

    def message(self) -> str:
        """A sentence for the confirmation question."""
        base = (
            "Recotap overwrites an existing external ID without warning. These accounts "
            "had no ID when they were listed"
        )
        if not self.overwrites:
            text = base + ", and no earlier run of this connection wrote an ID onto them."
        else:
            text = (
                base + f", but {self.count} of their domains received a different ID from "
                "an earlier run of this connection; sending overwrites it"
                f" (e.g. {self.overwrites[0][0]}: {self.overwrites[0][1]} -> "
                f"{self.overwrites[0][2]})."
            )
        if self.repeats:
            text += f" {self.repeats} repeat an ID an earlier run already wrote."
        return text


# ---------------------------------------------------------------- the session
@dataclass(frozen=True)
class BackfillOptions:
    """How the assistant works.

    ``scan``: page through ``GET /accounts`` when the 100-account window is full, so
    that every unmapped account is seen (see the module notes). ``concurrency``:
    requests in flight while sending. ``max_rounds``: a safety stop.
    """

    scan: bool = True
    concurrency: int = 4
    max_rounds: int = 10_000


@dataclass
class _Sent:
    decision: AcceptedMapping
    run_id: int
    row: int
    state: str
    message: str


class BackfillSession:
    """One backfill: rounds of list -> match -> (caller reviews) -> send.

    GUI use, from a worker thread::

        crm = read_crm_file(path, mapping=mapping)
        session = BackfillSession(connection, crm, history, paths.data_dir,
                                  progress=sink, cancel=token)
        while proposals := session.next_round():
            decisions = ask_the_user(proposals)          # Proposal.accept(choice)
            check = session.overwrite_check(decisions)   # ask once if check.count
            result = session.send(decisions)             # RunResult (history run)
            if result.state is not RunState.FINISHED:
                break
        session.write_report(path)

    :func:`run_backfill` is the same loop with a ``decide`` callback. Not thread-safe:
    one thread drives a session; ``cancel`` may be set from anywhere.
    """

    def __init__(
        self,
        connection: ConnectionSpec,
        crm: CrmFile,
        history: History,
        data_dir: str | os.PathLike[str],
        *,
        options: BackfillOptions | None = None,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.connection = connection
        self.crm = crm
        self.history = history
        self.data_dir = Path(data_dir)
        #: Where :meth:`write_report` last wrote the report (None before).
        self.report_path: Path | None = None
        self.options = options or BackfillOptions()
        self.progress = progress or NullProgress()
        self.cancel = cancel or CancelToken()
        self.client_kwargs = client_kwargs or {}
        self.rounds = 0
        #: True once a fetch brought nothing new (or the safety stop hit).
        self.finished = False
        #: True when GET /accounts was paged through.
        self.scanned = False
        self.scanned_accounts = 0
        #: Size of the last ``missing-external-ids`` answer.
        self.last_window = 0
        self._fetched = False
        #: True when the last window was full of accounts already seen and no scan was
        #: made: more unmapped accounts may be hidden behind them.
        self.blocked = False
        self.runs: list[RunResult] = []
        self._proposals: dict[str, Proposal] = {}
        self._sent: dict[str, _Sent] = {}
        self._extra_sent: list[_Sent] = []
        self._dry: dict[str, AcceptedMapping] = {}
        self._written: dict[str, str] = {}  # ID -> domain, written in this session
        self._previous = previous_mappings(history, connection.profile, connection.host)

    # -------------------------------------------------------------- queries
    @property
    def proposals(self) -> list[Proposal]:
        """Every proposal of every round, in the order the accounts were listed."""
        return list(self._proposals.values())

    @property
    def listing_complete(self) -> bool:
        """True when every unmapped account has been seen (as of the last fetch)."""
        return self.scanned or (self._fetched and self.last_window < WINDOW)

    def match_counts(self) -> dict[str, int]:
        """Proposals per match kind (every kind present, zeros included)."""
        counts = Counter(p.match.value for p in self._proposals.values())
        return {k.value: counts.get(k.value, 0) for k in MatchKind}

    def sent_counts(self) -> dict[str, int]:
        """Final row states of everything sent in this session."""
        return dict(Counter(s.state for s in self._all_sent()))

    def _all_sent(self) -> list[_Sent]:
        return [*self._sent.values(), *self._extra_sent]

    def _taken(self, with_history: bool) -> dict[str, str]:
        taken: dict[str, str] = {}
        if with_history:
            for dom, ext in self._previous.items():
                taken[ext] = dom
        taken.update(self._written)
        return taken

    # -------------------------------------------------------------- rounds
    def next_round(self) -> list[Proposal]:
        """Fetch, keep accounts not seen before, match them. ``[]`` when nothing is new
        (the session is then :attr:`finished`). Raises :class:`BackfillCancelled`, and
        the API's :class:`~recotap_desktop.api.RecotapError` when the listing fails."""
        if self.finished:
            return []
        if self.cancel.cancelled:
            raise BackfillCancelled()
        if self.rounds >= self.options.max_rounds:
            self.finished = True
            return []
        with self.connection.open(cancel_event=self.cancel.stop_event, **self.client_kwargs) as c:
            window = c.list_unmapped_accounts(limit=WINDOW)
            self.last_window = len(window)
            self._fetched = True
            fresh = self._fresh(window)
            full = len(window) >= WINDOW
            if full and self.options.scan and not self.scanned and (self.rounds == 0 or not fresh):
                found, read = _scan(c, self.progress, self.cancel)
                self.scanned = True
                self.scanned_accounts = read
                fresh = self._fresh([*window, *found])
        if not fresh:
            self.finished = True
            self.blocked = full and not self.scanned
            return []
        self.rounds += 1
        proposals = match_accounts(fresh, self.crm.index, taken_ids=self._taken(True))
        out: list[Proposal] = []
        for p in proposals:
            previous = self._previous.get(p.domain) if p.domain else None
            if previous is not None:
                p = replace(p, previous_external_id=previous)
            self._proposals[p.domain or "name:" + p.name.strip().casefold()] = p
            out.append(p)
        return out

    def _fresh(self, accounts: Iterable[UnmappedAccount]) -> list[UnmappedAccount]:
        return [a for a in _dedupe(accounts) if _account_key(a) not in self._proposals]

    # -------------------------------------------------------------- review helpers
    def overwrite_check(self, decisions: Iterable[AcceptedMapping]) -> OverwriteCheck:
        """IDs earlier ``id-mappings`` runs of this connection wrote onto these domains."""
        overwrites: list[tuple[str, str, str]] = []
        repeats = 0
        for d in decisions:
            dom = domain_key(d.domain)
            old = self._previous.get(dom)
            if old is None:
                continue
            if old == d.external_id.strip():
                repeats += 1
            else:
                overwrites.append((dom, old, d.external_id.strip()))
        return OverwriteCheck(tuple(overwrites), repeats)

    def check(self, decisions: Sequence[AcceptedMapping]) -> list[str]:
        """Problems that would stop :meth:`send` (empty list: fine)."""
        return check_decisions(decisions, taken_ids=self._written)

    def record_dry_run(self, decisions: Iterable[AcceptedMapping]) -> None:
        """Remember decisions that a dry run would have sent (for the report)."""
        for d in decisions:
            self._dry[domain_key(d.domain) or d.domain] = d

    # -------------------------------------------------------------- sending
    def send(self, decisions: Sequence[AcceptedMapping]) -> RunResult | None:
        """Send accepted mappings as one ``id-mappings`` run (journal, resume, report).

        Returns the run's result, or ``None`` when there is nothing to send. Raises
        :class:`BackfillError` when the decisions conflict (:meth:`check`).
        """
        decisions = list(decisions)
        if not decisions:
            return None
        if self.cancel.cancelled:
            raise BackfillCancelled()
        problems = self.check(decisions)
        if problems:
            shown = "\n".join(f"- {x}" for x in problems[:20])
            more = f"\n- ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise BackfillError(f"These mappings cannot be sent:\n{shown}{more}")
        path = self._write_send_file(decisions)
        job = ImportJob(
            kind="id-mappings",
            path=path,
            mapping=_SEND_MAPPING,
            rules=self.connection.rules,
            options=ImportOptions(concurrency=self.options.concurrency),
        )
        try:
            plan = build_plan(job, cancel=self.cancel)
        except PlanCancelled as exc:
            raise BackfillCancelled() from exc
        result = ImportRunner(
            plan,
            self.connection,
            self.history,
            progress=self.progress,
            cancel=self.cancel,
            client_kwargs=self.client_kwargs,
            # The proposals were made from the accounts just listed, which lack the ids.
            compare=False,
        ).run()
        self.runs.append(result)
        outcomes = self.history.outcomes(result.run_id)
        for i, d in enumerate(decisions):
            row = i + 2
            o = outcomes.get(row)
            state = o.state if o is not None else RowState.NOT_SENT.value
            sent = _Sent(d, result.run_id, row, state, o.message if o is not None else "")
            dom = domain_key(d.domain)
            if dom in self._proposals:
                self._sent[dom] = sent
            else:
                self._extra_sent.append(sent)
            if state in _SUCCESS:
                self._written[d.external_id.strip()] = dom
                self._previous[dom] = d.external_id.strip()
        return result

    def _write_send_file(self, decisions: Sequence[AcceptedMapping]) -> Path:
        folder = self.data_dir / "backfill"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        target = folder / f"backfill-{stamp}-r{max(self.rounds, 1)}.csv"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"backfill-{stamp}-r{max(self.rounds, 1)}-{n}.csv"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\r\n")
                writer.writerow(_SEND_HEADERS)
                for d in decisions:
                    crm_name = ""
                    p = self._proposals.get(domain_key(d.domain))
                    if p is not None:
                        crm_name = next(
                            (c.name for c in p.candidates if c.crm_row == d.crm_row), ""
                        )
                    writer.writerow(
                        [
                            domain_key(d.domain),
                            d.external_id.strip(),
                            d.crm_row,
                            MatchKind(d.match).value,
                            d.name,
                            crm_name,
                        ]
                    )
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    # -------------------------------------------------------------- report
    def report_rows(self) -> list[list[object]]:
        """One row per listed account (and per sent mapping no account was listed for),
        in :data:`REPORT_HEADERS` order."""
        rows: list[list[object]] = []
        for key, p in self._proposals.items():
            sent = self._sent.get(key)
            dry = self._dry.get(key)
            chosen = sent.decision if sent is not None else dry
            cand = None
            if chosen is not None:
                cand = next((c for c in p.candidates if c.crm_row == chosen.crm_row), None)
            elif len(p.candidates) == 1:
                cand = p.candidates[0]
            if sent is not None:
                state, message, run = sent.state, sent.message, sent.run_id
            elif dry is not None:
                state, message, run = RowState.NOT_SENT.value, "Dry run: would be sent.", None
            else:
                state, run = RowState.SKIPPED.value, None
                if p.match is MatchKind.NAME:
                    message = "Name match not accepted. " + p.reason
                elif p.match is MatchKind.DOMAIN:
                    message = "Not accepted. " + p.reason
                else:
                    message = p.reason
            candidates = (
                "; ".join(
                    f"row {c.crm_row}: {c.external_id} ({c.name or c.domain})" for c in p.candidates
                )
                if p.match is MatchKind.AMBIGUOUS
                else ""
            )
            rows.append(
                [
                    p.name,
                    p.domain,
                    p.match.value,
                    chosen.external_id if chosen is not None else (p.external_id or ""),
                    cand.crm_row if cand is not None else "",
                    cand.name if cand is not None else "",
                    cand.domain if cand is not None else "",
                    candidates,
                    p.previous_external_id or "",
                    state,
                    message,
                    run if run is not None else "",
                ]
            )
        for s in self._extra_sent:
            d = s.decision
            rows.append(
                [
                    d.name,
                    domain_key(d.domain) or d.domain,
                    MatchKind(d.match).value,
                    d.external_id,
                    d.crm_row,
                    "",
                    "",
                    "",
                    "",
                    s.state,
                    s.message,
                    s.run_id,
                ]
            )
        return rows

    def write_report(self, path: str | os.PathLike[str]) -> int:
        """Write :meth:`report_rows` to CSV/XLSX (by suffix, formula-safe); returns rows.

        :attr:`report_path` is where it went (beside ``path`` when that was locked at the
        end, e.g. open in Excel; see :class:`~recotap_desktop.files.writers.TableWriter`)."""
        rows = self.report_rows()
        with TableWriter.open(path, REPORT_HEADERS) as writer:
            for row in rows:
                writer.write_row(row)
        self.report_path = writer.path
        return len(rows)


# ---------------------------------------------------------------- the whole loop
Decide = Callable[[Sequence[Proposal]], Sequence[AcceptedMapping] | None]


@dataclass
class BackfillResult:
    """How a backfill ended. ``state``: finished, cancelled or aborted."""

    state: RunState
    message: str = ""
    rounds: int = 0
    match_counts: dict[str, int] = field(default_factory=dict)
    sent_counts: dict[str, int] = field(default_factory=dict)
    runs: list[RunResult] = field(default_factory=list)
    listing_complete: bool = False
    blocked: bool = False
    dry_run: bool = False

    @property
    def sent(self) -> int:
        return sum(self.sent_counts.values())

    @property
    def updated(self) -> int:
        return sum(n for s, n in self.sent_counts.items() if s in _SUCCESS)

    @property
    def all_succeeded(self) -> bool:
        """Finished, and every mapping sent was written (vacuously true if none)."""
        return self.state is RunState.FINISHED and self.updated == self.sent


def run_backfill(
    session: BackfillSession, decide: Decide, *, dry_run: bool = False
) -> BackfillResult:
    """Loop rounds until nothing new: ``decide(proposals)`` returns the mappings to
    send (``[]`` for none this round, ``None`` to stop). With ``dry_run`` one round is
    listed and decided, nothing is sent. API failures end the loop as ``aborted``."""
    state, message = RunState.FINISHED, ""
    try:
        while True:
            proposals = session.next_round()
            if not proposals:
                break
            decisions = decide(proposals)
            if decisions is None:
                state, message = RunState.CANCELLED, "Stopped before sending."
                break
            if dry_run:
                session.record_dry_run(decisions)
                message = "Dry run: nothing was sent."
                break
            result = session.send(decisions)
            if result is not None and result.state is not RunState.FINISHED:
                state, message = result.state, result.message
                break
    except BackfillCancelled as exc:
        state, message = RunState.CANCELLED, exc.message
    except RecotapError as exc:
        state, message = RunState.ABORTED, exc.message
    return BackfillResult(
        state=state,
        message=message,
        rounds=session.rounds,
        match_counts=session.match_counts(),
        sent_counts=session.sent_counts(),
        runs=list(session.runs),
        listing_complete=session.listing_complete,
        blocked=session.blocked,
        dry_run=dry_run,
    )
