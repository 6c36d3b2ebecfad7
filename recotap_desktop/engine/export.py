"""Pull scored accounts back: ``GET /accounts`` to a CSV or XLSX file (Qt-free).

:func:`export_accounts` pages through ``GET /accounts`` to the end (the client applies
both editions' paging rules: integer offsets in the CRM API, opaque cursors in the
External API, a repeated cursor or an empty page ends a pull), and streams the
accounts into a file with :class:`~recotap_desktop.files.TableWriter`.

Columns (stable for a connection, decided before the first row is written)
    identity   ``externalId, domain, name, rtp_aid``
    scores     ``rtp_account_score, rtp_journey_stage, rtp_advertising_activity_score,
               rtp_website_intent_score, rtp_g2_intent_score, rtp_bombora_intent_score,
               rtp_last_account_date``
    custom     one column per *active* account custom field, headed by its key and
               sorted by key, when the edition's accounts carry custom fields
               (``rules.accounts_have_custom_fields``). The list is fetched once at the
               start (``GET /accounts/custom-fields``); keys that appear in accounts but
               are not in that list cannot get a column in a streamed file: they are
               named in the result's message instead.

    One header row (the API's names) by default, so that every tool reading the file
    (a spreadsheet's filter, pandas, a CRM import) sees only accounts below it. With
    ``label_row`` a second header row holds readable labels (the custom fields' own
    labels), for people reading the file. Multi-value custom
    fields are written as ``a; b`` (the separator the importer splits on).

De-duplication
    Rows are keyed by ``rtp_aid`` (falling back to the normalised domain); a row whose
    key was already written is counted as a duplicate and skipped (the first copy wins:
    a streamed file cannot be rewritten). Only the keys are kept in memory, as ints for
    24-hex ``rtp_aid`` values and short strings otherwise; nothing else per account.

Delta sync (recotap-api.md §6)
    ``full``   every account;
    ``delta``  accounts changed since the last *complete* pull of this connection
               (profile and host, :meth:`History.last_sync`); without one, a full pull;
    ``since``  accounts changed after an ISO 8601 date or datetime (no offset = UTC).

    The first page's ``syncTimestamp`` is stored as the next ``lastSync`` only after the
    whole pull finished and the file was moved into place, and only when the file holds
    every account changed since the previous sync point: a full or delta pull without
    filters, or a ``since`` pull reaching back at least to the stored sync time. A pull
    filtered by domain, score or stage leaves the sync time as it was (a later unfiltered
    delta would otherwise miss accounts that never reached any file). A cancelled or
    failed pull changes nothing and leaves no output file (rows go to a temporary file
    that replaces the target only on success).

Filters
    ``domains``  the External API filters on the server, in requests of at most 100
                 domains; the CRM API cannot, so every account is downloaded and the
                 domain filter is applied here (the result's message says so).
    ``min_score`` and ``stages`` are applied after download (``rtp_account_score >=
                 min_score``; journey stage compared ignoring case and surrounding space;
                 ``""`` selects accounts without a stage).

Speed and memory
    The next page is fetched in a background thread while the current one is written
    (at most three pages in memory), so the writer's cost hides behind the network:
    ``bench/bench_pull.py`` measures 100 000 accounts at 50 ms per request within
    1.1x (CSV) and 1.15x (XLSX) of ``pages x latency``, with a Python heap peak of
    11 MB (CSV) and 17 MB (XLSX).

The connection's account mirror (:mod:`recotap_desktop.engine.mirror`, what the import
preview compares with) is advanced with the same pages: an unfiltered full pull replaces
it, an unfiltered pull of the changes since a point no later than the mirror's own brings
it up to date; a failed or cancelled pull leaves it as it was.

Every pull is recorded in the history as a run of kind ``export-accounts`` (file name =
the output file; counts ``exported``, ``duplicates``, ``filtered``, ``received``;
state ``finished``, ``cancelled`` or ``aborted``; the message as the run's note).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from recotap_desktop.api import (
    MAX_DOMAINS_PER_CALL,
    Account,
    AccountPage,
    CancelledError,
    CustomField,
    RecotapClient,
    RecotapError,
    format_last_sync,
    normalise_domain,
)
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.mirror import MirrorFeed, mirror_for
from recotap_desktop.engine.prefetch import Prefetch
from recotap_desktop.engine.progress import (
    CancelToken,
    NullProgress,
    Phase,
    ProgressSink,
    ProgressSnapshot,
    RateMeter,
)
from recotap_desktop.engine.run_target import RunTarget
from recotap_desktop.engine.states import RunState
from recotap_desktop.engine.wording import join_sentences
from recotap_desktop.errors import UserError
from recotap_desktop.files import FileProblem, TableWriter, iter_rows, sniff
from recotap_desktop.files.targets import TargetProblem, check_target
from recotap_desktop.store.history import History, HistoryError, RunInfo

__all__ = [
    "EXPORT_KIND",
    "HISTOGRAM_LABELS",
    "IDENTITY_COLUMNS",
    "SCORE_COLUMNS",
    "SYNC_RESOURCE",
    "DomainList",
    "ExportError",
    "ExportMode",
    "ExportOptions",
    "ExportResult",
    "default_mode",
    "export_accounts",
    "load_domains",
    "parse_since",
]

#: History run kind of an account pull.
EXPORT_KIND = "export-accounts"
#: ``resource`` of the sync time in :meth:`History.last_sync`.
SYNC_RESOURCE = "accounts"
#: Accounts per page requested (the documented default and our maximum).
PAGE_SIZE = 100
#: Suffixes :class:`TableWriter` can write.
OUTPUT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")

#: ``(header, label)`` of the identity columns, in file order.
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("externalId", "External ID"),
    ("domain", "Domain"),
    ("name", "Name"),
    ("rtp_aid", "Recotap account ID"),
)
#: ``(header, label)`` of the ``rtp_`` columns, in file order.
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rtp_account_score", "Account score"),
    ("rtp_journey_stage", "Journey stage"),
    ("rtp_advertising_activity_score", "Advertising activity score"),
    ("rtp_website_intent_score", "Website intent score"),
    ("rtp_g2_intent_score", "G2 intent score"),
    ("rtp_bombora_intent_score", "Bombora intent score"),
    ("rtp_last_account_date", "Last updated in Recotap"),
)
#: Labels of :attr:`ExportResult.histogram` buckets (``rtp_account_score``).
HISTOGRAM_LABELS: tuple[str, ...] = (
    *(f"{lo}\u2013{lo + 9}" for lo in range(0, 100, 10)),
    "100+",
)
#: Journey stages seen in the wild (recotap-api.md Appendix A); used for ordering only.
KNOWN_STAGES: tuple[str, ...] = ("Unaware", "Aware", "Consideration", "Opportunity", "Customer")

_AID_HEX = re.compile(r"[0-9a-f]{24}")
_DOMAIN_LIKE = re.compile(r"[^\s.,;/@]+(?:\.[^\s.,;/@]+)+")
_DOMAIN_HEADERS = frozenset(
    {
        "domain",
        "domains",
        "domainname",
        "companydomain",
        "companydomainname",
        "accountdomain",
        "website",
        "websiteurl",
        "companywebsite",
        "url",
        "webaddress",
    }
)
_MAX_UNKNOWN_KEYS = 20


# ---------------------------------------------------------------------------- options


class ExportMode(StrEnum):
    FULL = "full"
    DELTA = "delta"
    SINCE = "since"


class ExportError(UserError):
    """The export cannot start as asked (bad options or output path); ``message`` says why.

    Raised before anything is sent or recorded in the history.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ExportOptions:
    """What to pull and how to write it.

    ``mode``: ``"full"``, ``"delta"`` (the default: falls back to full when this
    connection has no complete pull yet) or ``"since"`` (then ``since`` is an ISO 8601
    date or datetime). ``domains``: only these accounts. ``min_score``: only accounts
    whose ``rtp_account_score`` is at least this. ``stages``: only these journey
    stages (``None`` or empty: all). ``label_row``: a second header row with readable
    labels.
    """

    mode: str = ExportMode.DELTA.value
    since: str | None = None
    domains: list[str] | None = None
    min_score: float | None = None
    stages: list[str] | None = None
    label_row: bool = False

    def to_json(self) -> dict[str, Any]:
        """The options as JSON-ready data (recorded with the run)."""
        data = asdict(self)
        if self.domains is not None:
            data["domains"] = len(self.domains)  # a count: the list may be long
        return data

    @property
    def filtered(self) -> bool:
        """Whether any filter is set (a filtered pull does not move the sync time)."""
        return bool(self.domains is not None or self.min_score is not None or self.stages)


@dataclass
class ExportResult:
    """The outcome of :func:`export_accounts`; the summary describes the written rows.

    ``histogram`` counts scored accounts by ``rtp_account_score`` in the buckets of
    :data:`HISTOGRAM_LABELS`; ``stages`` counts scored accounts per journey stage
    (``""`` = no stage; known stages first, in journey order); ``unscored`` counts
    accounts whose scores are all 0 and whose stage is empty (Recotap scores on a
    schedule, so fresh accounts look like this), which are in neither of the two.
    ``sync_timestamp`` is the first page's server time; ``sync_saved`` whether it was
    stored as the next ``lastSync``. ``path`` is the file, ``None`` unless finished.
    """

    run_id: int
    state: RunState
    exported: int = 0
    duplicates: int = 0
    filtered_out: int = 0
    unscored: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(HISTOGRAM_LABELS))
    stages: dict[str, int] = field(default_factory=dict)
    sync_timestamp: str | None = None
    path: Path | None = None
    message: str = ""
    duration: float = 0.0
    received: int = 0
    mode: str = ExportMode.FULL.value
    last_sync: str | None = None
    sync_saved: bool = False
    columns: list[str] = field(default_factory=list)
    unknown_custom_keys: list[str] = field(default_factory=list)

    @property
    def histogram_labels(self) -> tuple[str, ...]:
        return HISTOGRAM_LABELS

    @property
    def scored(self) -> int:
        """Written accounts that have been scored (``exported - unscored``)."""
        return self.exported - self.unscored

    @property
    def counts(self) -> dict[str, int]:
        """The counts recorded with the run in the history."""
        return {
            "exported": self.exported,
            "duplicates": self.duplicates,
            "filtered": self.filtered_out,
            "received": self.received,
        }


# ---------------------------------------------------------------------------- helpers


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime (no offset = UTC).

    Raises :class:`ExportError` with a plain message when ``text`` is not one.
    """
    value = (text or "").strip()
    if not value:
        raise ExportError("No date given for --since; use e.g. 2026-04-01 or 2026-04-01T09:30:00Z.")
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ExportError(
            f"{value!r} is not an ISO 8601 date or date and time; use e.g. 2026-04-01 or "
            "2026-04-01T09:30:00Z (a time without an offset is taken as UTC)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_server_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text)
    except ExportError:
        return None


def default_mode(history: History, connection: ConnectionSpec) -> str:
    """``"delta"`` when this connection has a complete pull on record, else ``"full"``."""
    last = history.last_sync(connection.profile, SYNC_RESOURCE, host=connection.host)
    return ExportMode.DELTA.value if last else ExportMode.FULL.value


@dataclass
class DomainList:
    """Domains read from a file: normalised, unique, in file order.

    ``rejected`` holds ``(row, value)`` of values that are not domain names (skipped);
    ``column`` the header of the column read (``None`` for a plain list).
    """

    domains: list[str]
    rejected: list[tuple[int, str]] = field(default_factory=list)
    column: str | None = None


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _looks_like_domain(value: str) -> bool:
    return bool(_DOMAIN_LIKE.fullmatch(value))


def load_domains(path: str | Path) -> DomainList:
    """Read a domain list: one domain (or URL) per line, or a CSV/XLSX with a domain column.

    The domain column is found by its header (``domain``, ``Company Domain Name``,
    ``website``, ``url`` ... or any header containing "domain"). Values are normalised
    (:func:`normalise_domain`); blanks and repeats are dropped; values that are not
    domain names are listed in :attr:`DomainList.rejected`. Raises
    :class:`ExportError` when the file cannot be read or has no domain column.
    """
    p = Path(path)
    try:
        info = sniff(p)
    except FileProblem as exc:
        plain = _plain_list(p)
        if plain is None:
            raise ExportError(exc.message) from exc
        return plain
    headers = info.headers
    index: int | None = None
    for i, header in enumerate(headers):
        if _header_key(header) in _DOMAIN_HEADERS:
            index = i
            break
    if index is None:
        for i, header in enumerate(headers):
            if "domain" in header.casefold():
                index = i
                break
    out = DomainList(domains=[])
    seen: set[str] = set()

    def take(row: int, raw: str) -> None:
        value = normalise_domain(raw)
        if not value:
            return
        if not _looks_like_domain(value):
            out.rejected.append((row, raw))
            return
        if value not in seen:
            seen.add(value)
            out.domains.append(value)

    if index is None:
        if len(headers) != 1:
            raise ExportError(
                f"{p.name} has no domain column (columns: {', '.join(headers)}). Name the "
                "column with the domains 'domain', or give a plain list with one domain per line."
            )
        index = 0
        if _looks_like_domain(normalise_domain(headers[0])):
            take(1, headers[0])  # a plain list: its first line is a domain, not a header
        else:
            out.column = headers[0]
    else:
        out.column = headers[index]
    try:
        for row, values in iter_rows(info):
            take(row, values[index])
    except FileProblem as exc:
        raise ExportError(exc.message) from exc
    if not out.domains:
        raise ExportError(f"{p.name} holds no domain names.")
    return out


def _plain_list(p: Path) -> DomainList | None:
    """A short text file that :func:`sniff` refused (e.g. a single line) read as a list."""
    if p.suffix.lower() == ".xlsx":
        return None
    try:
        if p.stat().st_size > 1_000_000:
            return None
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    domains: list[str] = []
    for line in lines:
        value = normalise_domain(line)
        if not value:
            continue
        if not _looks_like_domain(value):
            return None
        if value not in domains:
            domains.append(value)
    return DomainList(domains=domains) if domains else None


def _dedupe_key(account: Account) -> int | str | None:
    aid = account.rtp_aid
    if aid:
        if _AID_HEX.fullmatch(aid):
            return int(aid, 16)
        return "a:" + aid
    domain = normalise_domain(account.domain) if account.domain else ""
    return "d:" + domain if domain else None


def _cell(value: object) -> object:
    """A custom-field value as one cell: lists as ``a; b``, objects as JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return "; ".join("" if v is None else str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _is_unscored(account: Account) -> bool:
    if (account.journey_stage or "").strip():
        return False
    return not any(
        s
        for s in (
            account.account_score,
            account.advertising_activity_score,
            account.website_intent_score,
            account.g2_intent_score,
            account.bombora_intent_score,
        )
    )


def _bucket(score: float) -> int:
    if score >= 100:
        return len(HISTOGRAM_LABELS) - 1
    if score < 0:
        return 0
    return int(score // 10)


def _ordered_stages(counts: Mapping[str, int]) -> dict[str, int]:
    known = {s.casefold(): i for i, s in enumerate(KNOWN_STAGES)}

    def sort_key(item: tuple[str, int]) -> tuple[int, int, str]:
        name, n = item
        pos = known.get(name.casefold())
        if pos is not None:
            return (0, pos, name)
        return (1 if name else 2, -n, name)

    return dict(sorted(counts.items(), key=sort_key))


def _active_fields(fields: Sequence[CustomField]) -> list[CustomField]:
    by_key: dict[str, CustomField] = {}
    for f in fields:
        if f.key and (not f.status or f.status.lower() == "active"):
            by_key.setdefault(f.key, f)
    return [by_key[k] for k in sorted(by_key)]


def _estimate_total(history: History, connection: ConnectionSpec) -> int | None:
    """Accounts received by this connection's last finished unfiltered full pull."""
    try:
        runs = history.list_runs(50, profile=connection.profile, kind=EXPORT_KIND)
    except HistoryError:
        return None
    for run in runs:
        if run.state != RunState.FINISHED.value or run.host != connection.host:
            continue
        try:
            opts = json.loads(run.options_json or "{}")
        except ValueError:
            continue
        if opts.get("mode_used") == ExportMode.FULL.value and not opts.get("filtered"):
            received = run.counts.get("received")
            return int(received) if received else None
    return None


class _Stop(Exception):
    """Internal: the caller asked to cancel."""


# ---------------------------------------------------------------------------- the job


class _Pull:
    """One export run; :func:`export_accounts` is its public face."""

    def __init__(
        self,
        connection: ConnectionSpec,
        out: Path,
        history: History,
        options: ExportOptions,
        progress: ProgressSink,
        cancel: CancelToken,
        client_kwargs: Mapping[str, Any],
    ) -> None:
        self.connection = connection
        self.rules = connection.rules
        self.out = out
        self.history = history
        self.options = options
        self.progress = progress
        self.cancel = cancel
        self.client_kwargs = dict(client_kwargs)
        self.started = time.monotonic()
        self.meter = RateMeter()
        self.notes: list[str] = []
        # validated options
        self.domains: list[str] | None = None
        self.client_domains: frozenset[str] | None = None
        self.stages: frozenset[str] | None = None
        self.min_score: float | None = None
        self.mode = ExportMode.FULL
        self.since: datetime | None = None
        self.last_sync: str | None = None
        self.total: int | None = None
        # counters (the only per-account memory is ``seen``)
        self.seen: set[int | str] = set()
        self.received = 0
        self.exported = 0
        self.duplicates = 0
        self.filtered = 0
        self.unscored = 0
        self.histogram = [0] * len(HISTOGRAM_LABELS)
        self.stage_counts: Counter[str] = Counter()
        self.unknown_keys: set[str] = set()
        self.sync_timestamp: str | None = None
        self.first_page_seen = False
        self.incomplete = False  # the server announced a page the client did not fetch
        self.custom_keys: list[str] = []
        self.custom_key_set: frozenset[str] = frozenset()
        self.columns: list[str] = []

    # -- checks before anything is sent -----------------------------------------------

    def check(self) -> None:
        out, options = self.out, self.options
        try:  # the one rule for every path a run writes (name, folder, not locked)
            check_target(out, label="The export file", suffixes=OUTPUT_SUFFIXES)
        except TargetProblem as exc:
            raise ExportError(exc.message) from exc
        try:
            mode = ExportMode(str(options.mode).strip().lower())
        except ValueError:
            raise ExportError(
                f"Unknown pull mode {options.mode!r}; use full, delta or since."
            ) from None
        if mode is ExportMode.SINCE:
            if not options.since:
                raise ExportError("A pull 'since' needs a date, e.g. 2026-04-01.")
            self.since = parse_since(options.since)
        if options.min_score is not None:
            try:
                score = float(options.min_score)
            except (TypeError, ValueError):
                score = math.nan
            if not math.isfinite(score):
                raise ExportError(f"The minimum score {options.min_score!r} is not a number.")
            self.min_score = score
        if options.stages:  # an empty list is no filter
            self.stages = frozenset(s.strip().casefold() for s in options.stages)
        if options.domains is not None:
            cleaned = list(dict.fromkeys(d for d in map(normalise_domain, options.domains) if d))
            if not cleaned:
                raise ExportError("The domain filter holds no domain names.")
            self.domains = cleaned
            if not self.rules.supports_domain_filter:
                self.client_domains = frozenset(cleaned)
        self.mode = mode

    def resolve_mode(self) -> None:
        """Turn the mode into the ``lastSync`` to send."""
        if self.mode is ExportMode.DELTA:
            stored = self.history.last_sync(
                self.connection.profile, SYNC_RESOURCE, host=self.connection.host
            )
            if stored:
                self.last_sync = stored
            else:
                self.mode = ExportMode.FULL
                self.notes.append(
                    "No earlier complete pull of this connection is on record, so every "
                    "account was pulled."
                )
        elif self.mode is ExportMode.SINCE:
            self.last_sync = format_last_sync(self.since)
        if self.domains is not None and self.rules.supports_domain_filter:
            self.total = len(self.domains)  # at most one account per domain
        elif self.mode is ExportMode.FULL and self.domains is None:
            self.total = _estimate_total(self.history, self.connection)

    def run_info(self) -> RunInfo:
        target = RunTarget.of(self.connection)
        opts = self.options.to_json()
        opts.update(
            mode_used=self.mode.value,
            last_sync=self.last_sync,
            filtered=self.options.filtered,
        )
        return RunInfo(
            kind=EXPORT_KIND,
            file_name=self.out.name,
            file_path=str(self.out.resolve()),
            options_json=json.dumps(opts),
            profile=target.profile,
            edition=target.edition,
            host=target.host,
            base_url=target.base_url,
            total_rows=0,
        )

    # -- the pull -----------------------------------------------------------------------

    def report(self, message: str = "") -> None:
        self.meter.add(self.received)
        total = self.total
        if total is not None and self.received > total:
            total = None  # the estimate was too low
        self.progress.update(
            ProgressSnapshot(
                phase=Phase.PULL,
                done=self.received,
                total=total,
                rate=self.meter.rate(),
                eta=self.meter.eta(self.received, total),
                counts={
                    "exported": self.exported,
                    "duplicates": self.duplicates,
                    "filtered": self.filtered,
                },
                message=message,
            )
        )

    def _check_cancel(self) -> None:
        if self.cancel.cancelled:
            raise _Stop

    def pages(self, client: RecotapClient) -> Iterator[list[Account]]:
        chunks: list[list[str] | None]
        if self.domains is not None and self.rules.supports_domain_filter:
            chunks = [
                self.domains[i : i + MAX_DOMAINS_PER_CALL]
                for i in range(0, len(self.domains), MAX_DOMAINS_PER_CALL)
            ]
        else:
            chunks = [None]
        for chunk in chunks:
            self._check_cancel()
            pages = client.iter_account_pages(
                last_sync=self.last_sync, domains=chunk, limit=PAGE_SIZE
            )
            last: AccountPage | None = None
            while True:
                self._check_cancel()
                page = next(pages, None)
                if page is None:
                    break
                last = page
                if not self.first_page_seen:
                    self.first_page_seen = True
                    self.sync_timestamp = page.sync_timestamp
                yield page.accounts
            if last is not None and last.has_next_page:
                # The client stopped although the server announced more (a repeated cursor):
                # the file lacks accounts, so it must not move the sync point.
                self.incomplete = True

    def write(self, writer: TableWriter, accounts: list[Account]) -> None:
        seen = self.seen
        client_domains = self.client_domains
        min_score = self.min_score
        stages = self.stages
        custom_keys = self.custom_keys
        for acc in accounts:
            self.received += 1
            key = _dedupe_key(acc)
            if key is not None:
                if key in seen:
                    self.duplicates += 1
                    continue
                seen.add(key)
            if client_domains is not None and normalise_domain(acc.domain) not in client_domains:
                self.filtered += 1
                continue
            score = acc.account_score
            if min_score is not None and (score is None or score < min_score):
                self.filtered += 1
                continue
            stage = (acc.journey_stage or "").strip()
            if stages is not None and stage.casefold() not in stages:
                self.filtered += 1
                continue
            row: list[object] = [
                acc.external_id,
                acc.domain,
                acc.name,
                acc.rtp_aid,
                score,
                acc.journey_stage,
                acc.advertising_activity_score,
                acc.website_intent_score,
                acc.g2_intent_score,
                acc.bombora_intent_score,
                acc.last_account_date,
            ]
            if custom_keys:
                values = acc.custom_fields
                row.extend(_cell(values.get(k)) for k in custom_keys)
                if len(self.unknown_keys) < _MAX_UNKNOWN_KEYS:
                    for k in values:
                        if k not in self.custom_key_set:
                            self.unknown_keys.add(k)
            writer.write_row(row)
            self.exported += 1
            if _is_unscored(acc):
                self.unscored += 1
                continue
            if score is not None:
                self.histogram[_bucket(score)] += 1
            self.stage_counts[stage] += 1

    def open_writer(self, fields: Sequence[CustomField]) -> TableWriter:
        active = _active_fields(fields)
        self.custom_keys = [f.key for f in active]
        self.custom_key_set = frozenset(self.custom_keys)
        fixed = (*IDENTITY_COLUMNS, *SCORE_COLUMNS)
        headers = [h for h, _ in fixed] + self.custom_keys
        labels = [label for _, label in fixed] + [f.label or f.key for f in active]
        self.columns = headers
        writer = TableWriter.open(self.out, headers, sheet_title="Accounts")
        if self.options.label_row:
            try:
                writer.write_row(labels)
            except BaseException:
                writer.abort()
                raise
        return writer

    def mirror_feed(self) -> MirrorFeed | None:
        """The connection's account mirror, advanced with the same pages (one pager, one
        delta rule): replaced by an unfiltered full pull; brought up to date by an
        unfiltered pull of the changes since a point no later than the mirror's own."""
        if self.options.filtered:
            return None
        mirror = mirror_for(self.connection, self.history.path.parent)
        lists_custom = self.rules.accounts_have_custom_fields
        if self.mode is ExportMode.FULL:
            return MirrorFeed(mirror, full=True, lists_custom_fields=lists_custom,
                              sync_timestamp=lambda: self.sync_timestamp)
        info = mirror.info()
        since = _parse_server_time(self.last_sync)
        current = _parse_server_time(info.sync_timestamp)
        if not info.exists or since is None or current is None or since > current:
            return None  # the changes would leave a gap after the mirror's own point
        if info.lists_custom_fields != lists_custom:
            return None
        return MirrorFeed(mirror, full=False, lists_custom_fields=lists_custom,
                          sync_timestamp=lambda: self.sync_timestamp)

    def finish_feed(self, feed: MirrorFeed) -> None:
        if self.incomplete:
            feed.abandon()  # the server repeated a page position: not every account came
            return
        error = feed.finish()
        if error is not None:
            self.notes.append(f"The local copy of the accounts was not updated ({error}).")

    def sync_complete(self) -> bool:
        """Whether the file holds every account changed since the stored sync point."""
        if self.options.filtered or self.incomplete:
            return False
        if self.mode in (ExportMode.FULL, ExportMode.DELTA):
            return True
        conn = self.connection
        stored = _parse_server_time(
            self.history.last_sync(conn.profile, SYNC_RESOURCE, host=conn.host)
        )
        return stored is not None and self.since is not None and self.since <= stored

    def result(self, run_id: int, state: RunState, message: str, *, saved: bool) -> ExportResult:
        return ExportResult(
            run_id=run_id,
            state=state,
            exported=self.exported,
            duplicates=self.duplicates,
            filtered_out=self.filtered,
            unscored=self.unscored,
            histogram=list(self.histogram),
            stages=_ordered_stages(self.stage_counts),
            sync_timestamp=self.sync_timestamp,
            path=self.out if state is RunState.FINISHED else None,
            message=message,
            duration=time.monotonic() - self.started,
            received=self.received,
            mode=self.mode.value,
            last_sync=self.last_sync,
            sync_saved=saved,
            columns=list(self.columns),
            unknown_custom_keys=sorted(self.unknown_keys),
        )

    def finished_message(self, saved: bool) -> str:
        what = {
            ExportMode.FULL: "full pull",
            ExportMode.DELTA: f"accounts changed since {self.last_sync}",
            ExportMode.SINCE: f"accounts changed since {self.last_sync}",
        }[self.mode]
        parts = [
            f"Received {self.received:,} accounts ({what}); wrote {self.exported:,} to "
            f"{self.out.name}."
        ]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} repeated rows were written once.")
        if self.filtered:
            parts.append(f"{self.filtered:,} accounts did not match the filters.")
        if self.client_domains is not None:
            parts.append(
                f"The {self.rules.title} cannot filter by domain, so every account was "
                "downloaded and the domain filter was applied here."
            )
        if self.unknown_keys:
            parts.append(
                "Custom fields that are not in the field list fetched at the start were "
                f"left out: {', '.join(sorted(self.unknown_keys))}."
            )
        parts.extend(self.notes)
        if saved:
            parts.append(
                f"Sync time {self.sync_timestamp} stored: the next delta pull fetches only "
                "accounts changed after it."
            )
        elif self.incomplete:
            parts.append(
                "The server announced more pages but repeated a page position, so the pull "
                "stopped early; the file may lack accounts and the last sync time is unchanged."
            )
        elif self.options.filtered:
            parts.append("A filtered pull leaves the last sync time unchanged.")
        elif self.mode is ExportMode.SINCE:
            parts.append(
                "A pull since a date later than the last complete pull does not move the sync time."
            )
        elif self.sync_timestamp is None:
            parts.append("The server sent no sync time, so none was stored.")
        return " ".join(parts)

    def run(self) -> ExportResult:
        self.check()
        self.resolve_mode()
        client = self.connection.open(cancel_event=self.cancel.stop_event, **self.client_kwargs)
        try:
            run_id = self.history.create_run(self.run_info())
            return self._run(client, run_id)
        finally:
            client.close()

    def _run(self, client: RecotapClient, run_id: int) -> ExportResult:
        writer: TableWriter | None = None
        feed: MirrorFeed | None = None
        self.report("Starting the pull")
        try:
            try:
                self._check_cancel()
                fields: list[CustomField] = []
                if self.rules.accounts_have_custom_fields:
                    fields = client.list_custom_fields()
                writer = self.open_writer(fields)
                feed = self.mirror_feed()
                prefetch = Prefetch(self.pages(client))
                try:
                    for accounts in prefetch:
                        self.write(writer, accounts)
                        if feed is not None:
                            feed.put([a.raw for a in accounts])
                        self.report()
                        self._check_cancel()
                finally:
                    prefetch.close()
                self._check_cancel()
                writer.close()
                if feed is not None:
                    self.finish_feed(feed)
                    feed = None
            except BaseException:
                if writer is not None:
                    writer.abort()
                if feed is not None:
                    feed.abandon()
                raise
        except (_Stop, CancelledError):
            return self._end(
                run_id,
                RunState.CANCELLED,
                "Cancelled: no file was written and the last sync time is unchanged.",
            )
        except RecotapError as exc:
            return self._end(
                run_id,
                RunState.ABORTED,
                join_sentences(
                    exc.message, "No file was written and the last sync time is unchanged."
                ),
            )
        except OSError as exc:
            return self._end(
                run_id,
                RunState.ABORTED,
                f"Could not write {self.out}: {exc.strerror or exc}. No file was written and "
                "the last sync time is unchanged.",
            )
        except BaseException as exc:
            # A bug or an interrupt: record the run as ended, then let the error through.
            state = RunState.CANCELLED if isinstance(exc, KeyboardInterrupt) else RunState.ABORTED
            with contextlib.suppress(Exception):
                self._end(
                    run_id,
                    state,
                    f"Stopped by an unexpected error: {exc!r}. No file "
                    "was written and the last sync time is unchanged.",
                )
            raise
        saved = False
        if self.sync_timestamp is not None and self.sync_complete():
            self.history.set_last_sync(
                self.connection.profile,
                self.sync_timestamp,
                SYNC_RESOURCE,
                host=self.connection.host,
            )
            saved = True
        return self._end(run_id, RunState.FINISHED, self.finished_message(saved), saved=saved)

    def _end(
        self, run_id: int, state: RunState, message: str, *, saved: bool = False
    ) -> ExportResult:
        result = self.result(run_id, state, message, saved=saved)
        self.history.finish_run(run_id, state.value, result.counts)
        self.history.set_note(run_id, message)
        self.report(message)
        return result


def export_accounts(
    connection: ConnectionSpec,
    out: str | Path,
    history: History,
    options: ExportOptions | None = None,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
    *,
    client_kwargs: Mapping[str, Any] | None = None,
) -> ExportResult:
    """Pull accounts of ``connection`` into ``out`` (``.csv``/``.xlsx``); see the module doc.

    Raises :class:`ExportError` for options that cannot work (before anything is sent or
    recorded) and :class:`~recotap_desktop.api.ConfigError` for an unusable connection;
    API failures, cancellation and write errors end the run (``aborted``/``cancelled``)
    and are reported in the result. ``client_kwargs`` go to :meth:`ConnectionSpec.open`
    (e.g. a :class:`~recotap_desktop.api.RetryPolicy`). Runs in the calling thread;
    ``progress`` is told after every page; ``cancel`` is checked between pages and its
    ``stop_event`` ends back-off waits at once.
    """
    job = _Pull(
        connection,
        Path(out),
        history,
        options or ExportOptions(),
        progress or NullProgress(),
        cancel or CancelToken(),
        client_kwargs or {},
    )
    return job.run()
