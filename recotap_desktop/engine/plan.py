"""Check first, run second: build an import plan without touching the network.

:func:`build_plan` reads every row of the file, maps and validates it and counts
the batches to send. It returns a :class:`Plan` or raises :class:`PlanError` with a
message for the user. :func:`iter_planned` yields the same items again for the run
(the file is read twice so that memory does not grow with the file); the runner
first calls :func:`check_unchanged`, which refuses a file changed since it was planned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from recotap_desktop.domain.editions import EditionRules
from recotap_desktop.engine.progress import (
    CancelToken,
    Phase,
    ProgressSink,
    ProgressSnapshot,
    RateMeter,
)
from recotap_desktop.errors import UserError
from recotap_desktop.files import (
    FileProblem,
    SourceInfo,
    iter_row_blocks,
    iter_rows,
    sniff,
    source_title,
)
from recotap_desktop.records import ColumnMapping, ConvertContext, Problem, get_kind
from recotap_desktop.records.base import (
    DUPLICATE_IN_FILE,
    BlockConverter,
    DuplicateTracker,
    Grouper,
    RecordKind,
    RowConverter,
)
from recotap_desktop.records.formats import ColumnFormat, FormatScanner

#: Problems kept in memory for display; the count goes on beyond this.
MAX_PROBLEMS = 100_000
_PROGRESS_EVERY = 2_000
#: Rows read and counted together (and how often the cancel token is read).
_BLOCK = 512


class PlanError(UserError):
    """The import cannot start: the message says what is wrong and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PlanCancelled(PlanError):
    def __init__(self) -> None:
        super().__init__("Checking the file was cancelled.")


@dataclass(frozen=True)
class ImportOptions:
    segment_id: str | None = None
    segment_name: str | None = None
    upsert: bool = False
    concurrency: int = 4
    dry_run: bool = False
    #: Rows the user chose not to send (for example invalid rows acknowledged on the Check page).
    exclude_rows: frozenset[int] = frozenset()
    #: How to read dates such as 03/04/2026: "auto" (each column's values decide, see
    #: records.formats), or "DMY", "MDY", "YMD" for every date column.
    date_order: str = "auto"
    #: How to read numbers such as 1.234: "auto" (each column's values decide), or
    #: "point", "comma" for every number column.
    decimal: str = "auto"
    #: Send rows whose values Recotap already holds (normally left out as unchanged).
    send_unchanged: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id,
            "segment_name": self.segment_name,
            "upsert": self.upsert,
            "concurrency": self.concurrency,
            "dry_run": self.dry_run,
            "exclude_rows": sorted(self.exclude_rows),
            "date_order": self.date_order,
            "decimal": self.decimal,
            "send_unchanged": self.send_unchanged,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(
            segment_id=data.get("segment_id"),
            segment_name=data.get("segment_name"),
            upsert=bool(data.get("upsert", False)),
            concurrency=int(data.get("concurrency", 4)),
            dry_run=bool(data.get("dry_run", False)),
            exclude_rows=frozenset(int(r) for r in data.get("exclude_rows", ())),
            date_order=str(data.get("date_order", "auto")),
            decimal=str(data.get("decimal", "auto")),
            send_unchanged=bool(data.get("send_unchanged", False)),
        )


@dataclass(frozen=True)
class ImportJob:
    """Everything the user chose: which file, which kind, how columns map, options."""

    kind: str
    path: Path
    mapping: ColumnMapping
    rules: EditionRules
    custom_fields: Sequence[Any] = ()
    options: ImportOptions = field(default_factory=ImportOptions)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: field name → the convention :func:`build_plan` decided for its column
    formats: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> ConvertContext:
        return ConvertContext.build(
            self.rules,
            list(self.custom_fields),
            date_order=self.options.date_order,
            decimal=self.options.decimal,
            formats=self.formats,
        )

    def record_kind(self) -> RecordKind:
        return get_kind(self.kind)


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One payload item and the input rows it stands for (several for grouped kinds)."""

    rows: tuple[int, ...]
    payload: dict[str, Any]
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class InvalidRow:
    row: int
    problems: tuple[Problem, ...]

    @property
    def message(self) -> str:
        return "; ".join(f"{p.column}: {p.reason}" for p in self.problems if p.is_error)


@dataclass(frozen=True, slots=True)
class ExcludedRow:
    row: int


@dataclass
class Plan:
    job: ImportJob
    source: SourceInfo
    file_sha256: str
    file_size: int
    file_mtime_ns: int
    total_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    excluded_rows: int = 0
    duplicate_rows: int = 0
    items: int = 0
    batches: int = 0
    problem_count: int = 0
    warning_count: int = 0
    #: Errors (the row is not sent) and warnings (a value dropped), the first MAX_PROBLEMS.
    problems: list[Problem] = field(default_factory=list)
    #: How each date and number column is read, and why (records.formats).
    formats: list[ColumnFormat] = field(default_factory=list)

    @property
    def needs_choice(self) -> list[ColumnFormat]:
        """Columns that can be read in more than one way: nothing may be sent until chosen."""
        return [f for f in self.formats if f.needs_choice]

    @property
    def rows_to_send(self) -> int:
        return self.valid_rows - self.excluded_rows

    def summary(self) -> str:
        kind = self.job.record_kind()
        parts = [
            f"{self.total_rows} rows read",
            f"{self.valid_rows} valid",
            f"{self.invalid_rows} invalid",
        ]
        if self.duplicate_rows:
            parts.append(f"{self.duplicate_rows} duplicates")
        if self.excluded_rows:
            parts.append(f"{self.excluded_rows} excluded")
        parts.append(f"{self.items} {kind.title.lower()} in {self.batches} requests")
        return ", ".join(parts)


def missing_required(job: ImportJob) -> list[str]:
    """Labels of required fields that have neither a column nor a constant value."""
    kind = job.record_kind()
    mapped = set(job.mapping.columns) | {k for k, v in job.mapping.constants.items() if v != ""}
    return [f.label for f in kind.fields(job.context()) if f.required and f.name not in mapped]


def _is_duplicate(problem: Problem) -> bool:
    return problem.code == DUPLICATE_IN_FILE


def _file_identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_source(job: ImportJob) -> SourceInfo:
    try:
        return sniff(job.path, encoding=job.encoding, delimiter=job.delimiter, sheet=job.sheet)
    except FileProblem as exc:
        raise PlanError(exc.message) from exc


def _check_mapping(job: ImportJob, source: SourceInfo) -> None:
    problems = job.record_kind().check_mapping(job.context(), job.mapping, source.headers)
    if problems:
        raise PlanError(
            "The column mapping cannot be used:\n" + "\n".join(f"- {p.reason}" for p in problems)
        )


def iter_planned(
    job: ImportJob,
    source: SourceInfo,
    cancel: CancelToken | None = None,
) -> Iterator[PlannedItem | InvalidRow | ExcludedRow]:
    """Yield every row of the file as a payload item, an invalid row, or an excluded row.

    Non-grouping kinds stream in file order with constant memory (plus the duplicate
    keys). Grouping kinds (pipelines, activities) collect their groups first and
    yield them in the order of their first row. Warnings (a value dropped, the row
    still sent) travel with the item in ``PlannedItem.warnings``.
    """
    kind = job.record_kind()
    ctx = job.context()
    convert = kind.compile(ctx, job.mapping, source.headers)
    exclude = job.options.exclude_rows
    try:
        if not kind.groups_rows:  # a block of rows at a time, flattened
            for block in _planned_blocks(job, source, kind, ctx, convert, cancel):
                for row_no, payload in zip(block.rows, block.items, strict=True):
                    yield PlannedItem((row_no,), payload)
                yield from block.row_entries
            return
        rows = iter_rows(source)
        grouper = Grouper(kind, ctx, job.mapping)
        invalid: dict[int, list[Problem]] = {}
        warnings: dict[int, list[Problem]] = {}
        for n, (row_no, values) in enumerate(rows):
            if cancel is not None and n % 512 == 0 and cancel.cancelled:
                raise PlanCancelled()
            item, problems = convert(row_no, values)
            if item is None:
                invalid[row_no] = problems
                continue
            if problems:
                warnings[row_no] = problems
            conflicts = grouper.add(row_no, item)
            if conflicts:
                invalid.setdefault(row_no, []).extend(conflicts)
        good, held = grouper.finish()
    except FileProblem as exc:
        raise PlanError(exc.message) from exc
    for p in held:
        invalid.setdefault(p.row, []).append(p)
    ordered: list[tuple[int, PlannedItem | InvalidRow | ExcludedRow]] = [
        (row, InvalidRow(row, tuple(problems))) for row, problems in invalid.items()
    ]
    for group in good:
        if any(r in invalid for r in group.rows):  # pragma: no cover - finish() holds these back
            continue
        if any(r in exclude for r in group.rows):
            ordered.extend((r, ExcludedRow(r)) for r in group.rows)
            continue
        group_warnings = tuple(p for r in group.rows for p in warnings.get(r, ()))
        ordered.append(
            (min(group.rows), PlannedItem(tuple(sorted(group.rows)), group.item, group_warnings))
        )
    ordered.sort(key=lambda pair: pair[0])
    yield from (entry for _, entry in ordered)


def _clean_items(
    convert_block: BlockConverter | None,
    tracker: DuplicateTracker,
    numbers: Sequence[int],
    values_block: Sequence[Sequence[str]],
) -> list[dict[str, Any]] | None:
    """The payload items of a block whose rows are all valid, new and free of Problems
    (its keys are then remembered by ``tracker``); ``None`` for any other block, which
    the caller converts row by row."""
    if convert_block is None:
        return None
    converted = convert_block(values_block)
    if converted is None or not tracker.check_block(numbers, converted[1]):
        return None
    return converted[0]


class PlannedBlock(NamedTuple):
    """A block of rows of a non-grouping kind (:func:`iter_planned_blocks`): either clean
    items as parallel lists (``rows[i]`` is the row of ``items[i]``, one row each), or
    ``row_entries`` in row order (a block with an invalid, duplicate, excluded row or a
    warning)."""

    rows: Sequence[int]
    items: Sequence[dict[str, Any]]
    row_entries: Sequence[PlannedItem | InvalidRow | ExcludedRow]


def iter_planned_blocks(
    job: ImportJob,
    source: SourceInfo,
    cancel: CancelToken | None = None,
) -> Iterator[PlannedBlock]:
    """:func:`iter_planned` a block of rows at a time, for kinds that do not group rows:
    the same entries in the same order, but a block whose rows are all clean comes as
    two lists, without an object per row (what a preview of a big file reads)."""
    kind = job.record_kind()
    if kind.groups_rows:
        raise ValueError(f"{job.kind} rows are grouped: read them with iter_planned.")
    ctx = job.context()
    convert = kind.compile(ctx, job.mapping, source.headers)
    try:
        yield from _planned_blocks(job, source, kind, ctx, convert, cancel)
    except FileProblem as exc:
        raise PlanError(exc.message) from exc


def _planned_blocks(
    job: ImportJob,
    source: SourceInfo,
    kind: RecordKind,
    ctx: ConvertContext,
    convert: RowConverter,
    cancel: CancelToken | None,
) -> Iterator[PlannedBlock]:
    exclude = job.options.exclude_rows
    convert_block = kind.compile_block(ctx, job.mapping, source.headers)
    tracker = DuplicateTracker(kind, ctx, job.mapping)
    check = tracker.check
    for numbers, values_block in iter_row_blocks(source, _BLOCK):
        if cancel is not None and cancel.cancelled:
            raise PlanCancelled()
        items = _clean_items(convert_block, tracker, numbers, values_block)
        if items is not None:
            if not exclude or exclude.isdisjoint(numbers):
                yield PlannedBlock(numbers, items, ())
            else:
                yield PlannedBlock((), (), [
                    ExcludedRow(row_no) if row_no in exclude else PlannedItem((row_no,), payload)
                    for row_no, payload in zip(numbers, items, strict=True)])
            continue
        entries: list[PlannedItem | InvalidRow | ExcludedRow] = []
        for row_no, values in zip(numbers, values_block, strict=True):
            item, problems = convert(row_no, values)
            if item is not None:
                dupes = check(row_no, item)
                if dupes:
                    problems = [*problems, *dupes]
                    item = None
            if item is None:
                entries.append(InvalidRow(row_no, tuple(problems)))
            elif exclude and row_no in exclude:
                entries.append(ExcludedRow(row_no))
            else:
                entries.append(PlannedItem((row_no,), item, tuple(problems)))
        yield PlannedBlock((), (), entries)


def build_plan(
    job: ImportJob,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> Plan:
    """Read, map and validate the whole file; count what would be sent. No network."""
    if not job.path.exists():
        raise PlanError(f"The file {job.path} does not exist. Choose the file again.")
    source = _open_source(job)
    _check_mapping(job, source)
    size, mtime = _file_identity(job.path)
    formats = _decide_formats(job, source, cancel)
    job = replace(job, formats={f.target: f.convention for f in formats if f.convention})
    plan = Plan(job=job, source=source, file_sha256="", file_size=size, file_mtime_ns=mtime)
    kind = job.record_kind()
    meter = RateMeter()
    # The file's fingerprint is computed on another thread while the rows are checked
    # (hashlib works without the GIL): planning a big file does not wait for it.
    with ThreadPoolExecutor(1, thread_name_prefix="recotap-sha256") as hasher:
        sha256 = hasher.submit(_sha256, job.path)
        if kind.groups_rows:
            _count_entries(plan, iter_planned(job, source, cancel), progress, meter)
        else:
            _count_rows(plan, job, source, kind, progress, cancel, meter)
        plan.file_sha256 = sha256.result()
    plan.formats = formats
    plan.batches = -(-plan.items // kind.batch_size) if plan.items else 0
    if plan.total_rows == 0:
        raise PlanError(
            f"{source_title(job.path, source.sheet)} has a header but no data rows: "
            "nothing to import."
        )
    if progress is not None:
        progress.update(
            ProgressSnapshot(
                Phase.PLAN, plan.total_rows, plan.total_rows, meter.rate(), 0.0, {}, "Checked"
            )
        )
    return plan


def _decide_formats(
    job: ImportJob, source: SourceInfo, cancel: CancelToken | None
) -> list[ColumnFormat]:
    """How each date and number column will be read: a first pass over the file that
    looks only at those columns (none when the mapping has none)."""
    ctx = job.context()
    scanner = FormatScanner.for_mapping(
        job.record_kind().fields(ctx),
        job.mapping,
        source.headers,
        date_order=job.options.date_order,
        decimal=job.options.decimal,
    )
    if scanner is None:
        return []
    try:
        for numbers, values_block in iter_row_blocks(source, _BLOCK) if scanner.needs_pass else ():
            if cancel is not None and cancel.cancelled:
                raise PlanCancelled()
            scanner.add(numbers, values_block)
    except FileProblem as exc:
        raise PlanError(exc.message) from exc
    return scanner.decide(
        date_order=job.options.date_order,
        decimal=job.options.decimal,
        delimiter=source.delimiter,
        per_column=job.mapping.formats,
    )


def _report(progress: ProgressSink, meter: RateMeter, total: int) -> None:
    meter.add(total)
    progress.update(
        ProgressSnapshot(Phase.PLAN, total, None, meter.rate(), None, {}, "Checking rows")
    )


def _count_rows(
    plan: Plan,
    job: ImportJob,
    source: SourceInfo,
    kind: RecordKind,
    progress: ProgressSink | None,
    cancel: CancelToken | None,
    meter: RateMeter,
) -> None:
    """:func:`build_plan` for non-grouping kinds: what :func:`_count_entries` counts over
    :func:`iter_planned`, with local counters and no entry object per row.

    Rows come in blocks of 512. A block whose rows are all valid, new and free of
    Problems is counted in one step when the kind has a block converter (see
    :meth:`RecordKind.compile_block`); any other block is converted row by row.
    """
    ctx = job.context()
    convert = kind.compile(ctx, job.mapping, source.headers)
    convert_block = kind.compile_block(ctx, job.mapping, source.headers)
    exclude = job.options.exclude_rows
    kept = plan.problems
    total = items = excluded = invalid = duplicates = problem_count = warning_count = 0
    try:
        tracker = DuplicateTracker(kind, ctx, job.mapping)
        check = tracker.check
        for numbers, values_block in iter_row_blocks(source, _BLOCK):
            if cancel is not None and cancel.cancelled:
                raise PlanCancelled()
            before = total
            total += len(numbers)
            if _clean_items(convert_block, tracker, numbers, values_block) is not None:
                skipped = len(exclude.intersection(numbers)) if exclude else 0
                excluded += skipped
                items += len(numbers) - skipped
            else:
                for row_no, values in zip(numbers, values_block, strict=True):
                    item, problems = convert(row_no, values)
                    if item is not None:
                        dupes = check(row_no, item)
                        if not dupes:
                            if exclude and row_no in exclude:
                                excluded += 1
                            else:
                                items += 1
                                if problems:
                                    warning_count += len(problems)
                                    kept.extend(problems[: max(0, MAX_PROBLEMS - len(kept))])
                            continue
                        problems = [*problems, *dupes]
                    invalid += 1
                    if any(_is_duplicate(p) for p in problems):
                        duplicates += 1
                    problem_count += len(problems)
                    kept.extend(problems[: max(0, MAX_PROBLEMS - len(kept))])
            if progress is not None and total // _PROGRESS_EVERY > before // _PROGRESS_EVERY:
                _report(progress, meter, total)
    except FileProblem as exc:
        raise PlanError(exc.message) from exc
    plan.total_rows += total
    plan.valid_rows += items + excluded
    plan.items += items
    plan.excluded_rows += excluded
    plan.invalid_rows += invalid
    plan.duplicate_rows += duplicates
    plan.problem_count += problem_count
    plan.warning_count += warning_count


def _count_entries(
    plan: Plan,
    entries: Iterator[PlannedItem | InvalidRow | ExcludedRow],
    progress: ProgressSink | None,
    meter: RateMeter,
) -> None:
    """Add the entries of :func:`iter_planned` to the counts of ``plan``."""
    for entry in entries:
        if isinstance(entry, PlannedItem):
            plan.items += 1
            plan.valid_rows += len(entry.rows)
            plan.total_rows += len(entry.rows)
            for p in entry.warnings:
                plan.warning_count += 1
                if len(plan.problems) < MAX_PROBLEMS:
                    plan.problems.append(p)
        elif isinstance(entry, ExcludedRow):
            plan.valid_rows += 1
            plan.excluded_rows += 1
            plan.total_rows += 1
        else:
            plan.invalid_rows += 1
            plan.total_rows += 1
            if any(_is_duplicate(p) for p in entry.problems):
                plan.duplicate_rows += 1
            for p in entry.problems:
                plan.problem_count += 1
                if len(plan.problems) < MAX_PROBLEMS:
                    plan.problems.append(p)
        if progress is not None and plan.total_rows % _PROGRESS_EVERY == 0:
            _report(progress, meter, plan.total_rows)


def check_unchanged(plan: Plan) -> None:
    """Refuse to run when the file changed after it was checked."""
    try:
        size, mtime = _file_identity(plan.job.path)
    except OSError as exc:
        raise PlanError(f"The file {plan.job.path} can no longer be read: {exc.strerror}.") from exc
    if (size, mtime) != (plan.file_size, plan.file_mtime_ns):
        raise PlanError(
            f"The file {plan.job.path.name} changed after it was checked. "
            "Check it again before sending."
        )
