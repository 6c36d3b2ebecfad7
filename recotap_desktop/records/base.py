"""Shared vocabulary of the records layer and the machinery every kind uses.

A *record kind* (accounts, deals, …) describes the target fields a file can feed
and turns one file row into one API payload item, reporting :class:`Problem` s
that name the row, the column, the raw value and what to do.

Fast path for the engine::

    to_item = kind.compile(ctx, mapping, headers)   # once per file
    item, problems = to_item(row_number, values)      # per row; values in header order

``item`` is ``None`` exactly when at least one problem is an *error*. Problems of
severity ``"warning"`` come with a usable item (a value was dropped; the row is
still sent) and should be shown to the user.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from itertools import repeat
from typing import Any, Protocol

from recotap_desktop.domain.editions import EditionRules, rules_for

from . import convert as cv
from .automap import automap as _automap
from .mapping import ColumnMapping

__all__ = [
    "ERROR",
    "WARNING",
    "BlockConverter",
    "Compiled",
    "ConvertContext",
    "Converter",
    "CustomFieldLike",
    "DuplicateTracker",
    "FieldType",
    "Group",
    "Grouper",
    "Problem",
    "RecordKind",
    "RowConverter",
    "TargetField",
    "custom_field_key",
    "custom_field_targets",
    "merge_scalars",
    "on_row",
]

ERROR = "error"
WARNING = "warning"


class FieldType(StrEnum):
    """How a raw cell is read (and how the GUI explains the field)."""

    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    DOMAIN = "domain"
    DATETIME = "datetime"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    CHOICE = "choice"
    LIST = "list"
    MULTI_CHOICE = "multi_choice"
    #: A length of time, sent as minutes (call duration). Extension of the contract.
    DURATION = "duration"


@dataclass(frozen=True, slots=True)
class TargetField:
    """One field a file column (or a constant) can feed.

    Custom-field columns are named ``customFields.<KEY>`` and carry ``custom_key``.
    Nested payload fields use dotted names (``contacts.email``, ``from.name``,
    ``associatedAccounts.domain``).
    """

    name: str
    label: str
    type: FieldType
    required: bool
    help: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    custom_key: str | None = None


#: :attr:`Problem.code` of a row whose key another row of the file already has.
DUPLICATE_IN_FILE = "duplicate in file"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one row (``row`` 0: with the mapping as a whole).

    ``column`` is the file header, or the field label when the value came from a
    constant or no column is mapped. ``value`` is the raw cell text.
    ``severity`` is ``"error"`` (the row is not sent) or ``"warning"`` (a value was
    dropped and the row is still sent).
    """

    row: int
    column: str
    value: str
    reason: str
    field: str = ""
    severity: str = ERROR
    #: What kind of problem, as data, for the rules that count them (``reason`` is for
    #: people): :data:`DUPLICATE_IN_FILE` or "".
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "Mapping"
        return f"{where}, column “{self.column}”: {self.reason}"


class CustomFieldLike(Protocol):
    """What the records layer reads from ``recotap_desktop.api.models.CustomField``."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def label_type(self) -> str: ...

    @property
    def options(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ConvertContext:
    """What conversion depends on besides the row.

    ``custom_fields``: active account custom fields by key. ``date_order``: how to
    read ``a/b/yyyy`` dates — ``"auto"`` (default: accept only unambiguous values),
    ``"DMY"``, ``"MDY"`` or ``"YMD"``; ``decimal``: how to read numbers — ``"auto"``,
    ``"point"`` or ``"comma"`` (see :mod:`recotap_desktop.records.convert`).
    ``formats``: field name → the convention decided for its column (see
    :mod:`recotap_desktop.records.formats`), which wins over the two defaults.
    """

    rules: EditionRules
    custom_fields: Mapping[str, CustomFieldLike] = field(default_factory=dict)
    date_order: str = "auto"
    decimal: str = "auto"
    formats: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.date_order not in cv.DATE_ORDERS:
            raise ValueError(
                f"date_order must be one of {', '.join(cv.DATE_ORDERS)}, not {self.date_order!r}"
            )
        if self.decimal not in cv.DECIMALS:
            raise ValueError(
                f"decimal must be one of {', '.join(cv.DECIMALS)}, not {self.decimal!r}"
            )

    @classmethod
    def build(
        cls,
        rules: EditionRules,
        custom_fields: Iterable[CustomFieldLike] = (),
        *,
        date_order: str = "auto",
        decimal: str = "auto",
        formats: Mapping[str, str] | None = None,
    ) -> ConvertContext:
        """Context from a list of custom fields (as ``list_custom_fields()`` returns)."""
        return cls(
            rules, {cf.key: cf for cf in custom_fields}, date_order, decimal, dict(formats or {})
        )


# ---------------------------------------------------------------- custom fields


def custom_field_key(label: str) -> str:
    """The key Recotap generates from a custom-field label (§8.3).

    Spaces become underscores, everything is upper-cased, ``_C`` is appended; no
    other character changes: ``Revenue (USD)`` → ``REVENUE_(USD)_C``.
    """
    return label.replace(" ", "_").upper() + "_C"


_LABEL_TYPES: dict[str, tuple[FieldType, str]] = {
    "singleLineText": (FieldType.TEXT, "text"),
    "multiLineText": (FieldType.TEXT, "text, may span lines"),
    "singleSelection": (FieldType.CHOICE, "one of its options"),
    "multiSelection": (FieldType.MULTI_CHOICE, "options separated by ; or ,"),
    "number": (FieldType.NUMBER, "a number"),
    "date": (FieldType.DATE, "a date; without a time zone it is taken as UTC"),
}


def custom_field_targets(ctx: ConvertContext) -> list[TargetField]:
    """One optional :class:`TargetField` per custom field of ``ctx`` (by label)."""
    out = []
    for key, cf in sorted(ctx.custom_fields.items(), key=lambda kv: kv[1].label.casefold()):
        ftype, words = _LABEL_TYPES.get(cf.label_type, (FieldType.TEXT, "text"))
        choices = tuple(cf.options) if ftype in (FieldType.CHOICE, FieldType.MULTI_CHOICE) else ()
        out.append(
            TargetField(
                name=f"customFields.{key}",
                label=cf.label,
                type=ftype,
                required=False,
                help=f"Custom field {key}: {words}. Empty cells leave it unchanged.",
                aliases=(key,),
                choices=choices,
                custom_key=key,
            )
        )
    return out


# ---------------------------------------------------------------- converters

Converter = Callable[[str], Any]
RowConverter = Callable[[int, Sequence[str]], tuple[dict[str, Any] | None, list[Problem]]]
#: The items of a block of rows and their values by field (``None`` or "" where an
#: item has no value for the field)
BlockItems = tuple[list[dict[str, Any]], dict[str, list[Any]]]
#: ``to_items(rows)``: see :meth:`RecordKind.compile_block`
BlockConverter = Callable[[Sequence[Sequence[str]]], "BlockItems | None"]


def converter_for(f: TargetField, ctx: ConvertContext, header: str = "") -> Converter | None:
    """The parser for one field (``None``: take the trimmed text as it is).

    ``header`` is the mapped column's header; durations read their unit from it.
    """
    t = f.type
    if t is FieldType.TEXT:
        return None
    if t is FieldType.EMAIL:
        return cv.parse_email
    if t is FieldType.URL:
        return cv.parse_linkedin_url
    if t is FieldType.DOMAIN:
        return cv.parse_domain
    if t in (FieldType.DATETIME, FieldType.DATE):
        order = ctx.formats.get(f.name, ctx.date_order)

        def to_datetime(raw: str) -> str:
            return cv.parse_datetime(raw, order)

        return to_datetime
    decimal = ctx.formats.get(f.name, ctx.decimal)
    if t is FieldType.NUMBER:
        return cv.parse_number if decimal == "auto" else partial(cv.parse_number, decimal=decimal)
    if t is FieldType.INTEGER:
        return partial(cv.parse_non_negative_int, decimal=decimal)
    if t is FieldType.DURATION:
        unit = cv.duration_unit_from_header(header)

        def to_minutes(raw: str) -> int | float:
            return cv.parse_duration_minutes(raw, unit, decimal)

        return to_minutes
    if t is FieldType.LIST:
        return cv.split_list
    what = f"“{f.label}”"
    options = f.choices
    if t is FieldType.MULTI_CHOICE:

        def to_options(raw: str) -> list[str]:
            return cv.match_multi_choice(raw, options, what)

        return to_options
    if t is FieldType.CHOICE:
        folded = {o.strip().casefold(): o for o in options}

        def to_option(raw: str) -> str:
            hit = folded.get(raw.casefold())
            if hit is not None:
                return hit
            return cv.match_choice(raw, options, what)

        return to_option
    raise AssertionError(f"unhandled field type {t}")  # pragma: no cover


# ---------------------------------------------------------------- record kinds


@dataclass(slots=True)
class Compiled:
    """Per-file facts a kind's :meth:`RecordKind.assemble` may use."""

    ctx: ConvertContext
    fields: dict[str, TargetField]
    #: field name → Problem column (header, or label for constants/unmapped fields)
    columns: dict[str, str]
    #: field name → index into the row values
    index: dict[str, int]
    #: field name → raw constant text
    constants: dict[str, str]
    #: (field name, custom-field key) of the custom fields fed by a column or constant
    custom: tuple[tuple[str, str], ...] = ()

    def raw(self, name: str, values: Sequence[str]) -> str:
        """The raw (trimmed) text that fed ``name`` in this row, for Problem values."""
        i = self.index.get(name)
        if i is not None and i < len(values):
            text = values[i].strip()
            if text:
                return text
        return self.constants.get(name, "")


_LIST_TYPES = frozenset({FieldType.LIST, FieldType.MULTI_CHOICE})
MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What :meth:`RecordKind.compile` works out from a mapping (see
    :func:`~recotap_desktop.records.codegen.generate_to_item` for the parts)."""

    cx: Compiled
    specs: list[tuple[str, int, str, Converter | None]]
    const_specs: list[tuple[str, str, str, Any, str | None]]
    required: list[tuple[str, str, str]]
    width: int
    list_fields: frozenset[str]
    plain: tuple[str, ...]


class RecordKind(ABC):
    """One resource the app can import (see the module notes for the fast path)."""

    name: str = ""
    title: str = ""
    batch_size: int = 100
    groups_rows: bool = False
    #: Whether the kind's fields include the workspace's account custom fields, which a
    #: job must load from the server before mapping or checking (issue 17: said once).
    needs_custom_fields: bool = False
    #: Entity words that prefix this kind's columns in exports ("Deal - Value").
    header_prefixes: tuple[str, ...] = ()
    #: For kinds whose payload item is just their converted fields: those fields in
    #: payload order. When a mapping feeds only these, :meth:`compile` builds the item
    #: itself (a field with a value is copied; a list only when not empty) instead of
    #: calling :meth:`assemble`, which must give the same item (tests compare both).
    plain_payload: tuple[str, ...] = ()

    # -- description ---------------------------------------------------------
    @abstractmethod
    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        """Target fields for the edition and custom fields in ``ctx``."""

    def automap(self, headers: Sequence[str], ctx: ConvertContext) -> ColumnMapping:
        """:func:`~recotap_desktop.records.automap.automap` with this kind's fields."""
        return _automap(headers, self.fields(ctx), prefixes=self.header_prefixes)

    def check_mapping(
        self, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
    ) -> list[Problem]:
        """Problems with the mapping itself (row 0): unknown fields or headers,
        required fields with neither a column nor a constant, invalid constants."""
        fields = {f.name: f for f in self.fields(ctx)}
        present = set(headers)
        problems: list[Problem] = []
        for name, header in mapping.columns.items():
            f = fields.get(name)
            if f is None:
                problems.append(
                    Problem(0, header, "", f"“{name}” is not a field of {self.title}; "
                            "choose another field for this column.", name)
                )
            elif header not in present:
                problems.append(
                    Problem(0, header, "", f"The file has no column “{header}” for "
                            f"{f.label}; pick a column of this file.", name)
                )
        for name, raw in mapping.constants.items():
            f = fields.get(name)
            if f is None:
                problems.append(
                    Problem(0, name, raw, f"“{name}” is not a field of {self.title}.", name)
                )
                continue
            conv = self.converter(f, ctx, "")
            if conv is not None and raw.strip():
                try:
                    conv(raw.strip())
                except cv.ConversionError as exc:
                    problems.append(Problem(0, f.label, raw, exc.reason, name))
        for f in fields.values():
            if f.required and not (
                (f.name in mapping.columns and mapping.columns[f.name] in present)
                or mapping.constants.get(f.name, "").strip()
            ):
                problems.append(
                    Problem(0, f.label, "", f"{f.label} is required: map a column to it "
                            "or set a fixed value.", f.name)
                )
        return problems

    # -- conversion ----------------------------------------------------------
    def converter(self, f: TargetField, ctx: ConvertContext, header: str) -> Converter | None:
        """Parser for one field; kinds override it for special fields."""
        return converter_for(f, ctx, header)

    @abstractmethod
    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        """Build the payload item from converted values (``flat``: field → value,
        only non-empty, valid cells). Append cross-field problems to ``problems``."""

    def compile(
        self, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
    ) -> RowConverter:
        """Return ``to_item(row, values) -> (item | None, problems)`` for this file.

        ``values`` is the raw row in ``headers`` order. Everything that depends only
        on the mapping is worked out here, once. Mapped columns missing from
        ``headers`` and unknown field names are ignored (see :meth:`check_mapping`).
        """
        p = self._prepare(ctx, mapping, headers)
        from recotap_desktop.records.codegen import generate_to_item

        return generate_to_item(
            self.name, self.assemble, p.cx, p.specs, p.const_specs, p.required, p.width,
            p.list_fields, p.plain,
        )

    def compile_block(
        self, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
    ) -> BlockConverter | None:
        """Return ``to_items(rows) -> (items, values by field) | None`` for this file, or
        ``None`` when the mapping has no block form.

        ``to_items`` converts a block of raw rows column by column and returns their
        items, exactly what :meth:`compile`'s ``to_item`` gives each row, when every row
        of the block is valid with no Problem; otherwise ``None``, and the caller takes
        the block row by row. The values by field are for
        :meth:`DuplicateTracker.check_block`. Only :attr:`plain_payload` mappings without constants
        have a block form (see :func:`_block_converter`).
        """
        p = self._prepare(ctx, mapping, headers)
        if not p.plain or p.const_specs or not p.specs:
            return None
        if any(name not in p.cx.index for name, _c, _r in p.required):
            return None  # a required field with no column: every row has a Problem
        return _block_converter(p.specs, p.required, p.width, p.list_fields, p.plain)

    def _prepare(
        self, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
    ) -> _Prepared:
        fields = {f.name: f for f in self.fields(ctx)}
        first_index: dict[str, int] = {}
        for i, h in enumerate(headers):
            first_index.setdefault(h, i)
        index: dict[str, int] = {}
        specs: list[tuple[str, int, str, Converter | None]] = []
        for name, header in mapping.columns.items():
            f = fields.get(name)
            position = first_index.get(header)
            if f is None or position is None:
                continue
            index[name] = position
            specs.append((name, position, header, self.converter(f, ctx, header)))
        columns = {n: mapping.columns[n] if n in index else f.label for n, f in fields.items()}
        constants: dict[str, str] = {}
        const_specs: list[tuple[str, str, str, Any, str | None]] = []
        for name, raw_const in mapping.constants.items():
            f = fields.get(name)
            raw = raw_const.strip()
            if f is None or not raw:
                continue
            constants[name] = raw
            conv = self.converter(f, ctx, "")
            value: Any = raw
            error: str | None = None
            if conv is not None:
                try:
                    value = conv(raw)
                except cv.ConversionError as exc:
                    error = exc.reason
            const_specs.append((name, f.label, raw, value, error))
        required = []
        for f in fields.values():
            if not f.required:
                continue
            if f.name in index:
                reason = f"{f.label} is required but this cell is empty. Fill it in."
            else:
                reason = f"{f.label} is required: map a column to it or set a fixed value."
            required.append((f.name, columns[f.name], reason))
        custom = tuple(
            (n, f.custom_key) for n, f in fields.items()
            if f.custom_key and (n in index or n in constants)
        )
        specs.sort(key=lambda spec: spec[1])  # problems come in the file's column order
        cx = Compiled(ctx, fields, columns, index, constants, custom)
        width = max(index.values(), default=-1) + 1
        fed = {name for name, *_ in specs} | {name for name, *_ in const_specs}
        plain = self.plain_payload if fed <= set(self.plain_payload) else ()
        list_fields = frozenset(n for n, f in fields.items() if f.type in _LIST_TYPES)
        return _Prepared(cx, specs, const_specs, required, width, list_fields, tuple(plain))

    def convert(
        self, row: int, values: Mapping[str, str], ctx: ConvertContext
    ) -> tuple[dict[str, Any] | None, list[Problem]]:
        """Convert one row given as field name → raw text (constants already applied).

        Convenience for tests and one-off use; Problems name the field as column.
        The engine should use :meth:`compile`.
        """
        names = list(values)
        to_item = self.compile(ctx, ColumnMapping(columns={n: n for n in names}), names)
        return to_item(row, [values[n] for n in names])

    # -- identity, duplicates, grouping ---------------------------------------
    #: field whose value identifies an item (duplicates / grouping)
    key_field: str = ""

    def item_key(self, item: Mapping[str, Any], ctx: ConvertContext | None = None) -> str | None:
        """The item's identity (``None`` when it has none)."""
        value = item.get(self.key_field)
        return value if isinstance(value, str) and value else None

    def duplicate_fields(self, ctx: ConvertContext | None) -> tuple[str, ...]:
        """Top-level item fields whose values must be unique within one file
        (non-grouping kinds). ``ctx`` ``None``: the strictest set over all editions."""
        return (self.key_field,) if self.key_field and not self.groups_rows else ()

    def source_field(self, item_field: str, ctx: ConvertContext | None) -> str:
        """The target field an item's top-level field comes from (usually the same)."""
        return item_field

    def start_group(self, key: str, row: int, item: dict[str, Any]) -> Group:
        """Open a group with its first row (grouping kinds)."""
        return Group(key=key, item=item, rows=[row])

    def merge(self, group: Group | dict[str, Any], item: dict[str, Any], row: int) -> list[Problem]:
        """Merge a later row's item into its group (grouping kinds only).

        ``group`` is a :class:`Group` (as :class:`Grouper` keeps them; Problems then
        name the earlier row) or, per the original contract, the merged payload dict
        itself (Problems then say "an earlier row"). On problems nothing is merged.
        Problems carry the field name and an empty column; :class:`Grouper` fills in
        the column.
        """
        raise NotImplementedError(f"{self.name} does not group rows")

    def _as_group(self, group: Group | dict[str, Any]) -> Group:
        if isinstance(group, Group):
            return group
        key = self.item_key(group) or ""
        return self.start_group(key, 0, group)


# The row converter for one mapping is generated code: see records/codegen.py.

MISS = object()  # "not in the memo" (a converter may return any value)


# ---------------------------------------------------------------- block converter
#
# Planning a large accounts file spends most of its time in per-row Python. For plain
# mappings (see RecordKind.plain_payload) without constants, ``compile_block`` gives a
# converter that works a block of rows a column at a time, in C loops: ``str.strip``
# mapped over a column, one ``findall`` over the column's cells joined by newlines for
# domains and LinkedIn URLs (convert.BLOCK_RULES), the per-column memo for other
# converters, and one comprehension with constant keys that builds the items. It
# answers only for blocks in which every row is valid with no Problem and would give
# exactly the items ``to_item`` gives; any doubt (a short row, a cell the block rule
# does not match, a conversion error, an empty required cell) returns ``None`` and the
# caller converts that block row by row, where the Problems are made. Tests compare
# the two on many generated rows.

_TEXT, _LINES, _MEMO = range(3)


def _block_converter(
    specs: Sequence[tuple[str, int, str, Converter | None]],
    required: Sequence[tuple[str, str, str]],
    width: int,
    list_fields: frozenset[str],
    plain: tuple[str, ...],
) -> BlockConverter:
    """``to_items(rows)`` for a plain mapping (see the notes above)."""
    required_names = {name for name, _c, _r in required}
    by_name = {name: (i, conv) for name, i, _column, conv in specs}
    keys = [name for name in plain if name in by_name]
    steps: list[tuple[int, int, Any, dict[str, Any], bool, bool]] = []
    for name in keys:
        i, conv = by_name[name]
        listy = name in list_fields
        rule = cv.BLOCK_RULES.get(conv) if conv is not None else None
        how: Any
        if conv is None:
            mode, how = _TEXT, None
        elif rule is not None and not listy:
            mode, how = _LINES, rule
        else:
            mode, how = _MEMO, conv
        steps.append((i, mode, how, {}, name in required_names, listy))
    # build(columns) -> [{"externalId": a0, "domain": a1, ...} for (a0, a1, ...) in zip(*columns)]
    names = [f"a{k}" for k in range(len(keys))]
    entries = ", ".join(f"{key!r}: {var}" for key, var in zip(keys, names, strict=True))
    src = (
        "def build(columns):\n"
        f"    return [{{{entries}}} for ({', '.join(names)},) in zip(*columns, strict=True)]\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(src, "<recotap block items>", "exec"), namespace)  # our own code
    build: Callable[[list[list[Any]]], list[dict[str, Any]]] = namespace["build"]
    strip = str.strip

    def to_items(rows: Sequence[Sequence[str]]) -> BlockItems | None:
        n = len(rows)
        if not n or min(map(len, rows)) < width:
            return None
        columns = list(zip(*rows, strict=False))  # every row has at least width cells
        out: list[list[Any]] = []
        gaps: list[tuple[str, list[Any], bool]] = []  # (key, values, absent means None)
        for key, (i, mode, how, memo, needed, listy) in zip(keys, steps, strict=True):
            cells = list(map(strip, columns[i]))
            values: list[Any] | None
            if mode == _TEXT:
                values = cells
            elif mode == _LINES:
                pattern, group, longest = how
                joined = "\n".join(cells)
                if joined.count("\n") != n - 1:
                    return None  # a cell with a line break
                found = pattern.findall(joined)
                if len(found) != n:
                    return None  # a cell the rule does not vouch for
                if longest is not None and max(map(len, found)) > longest:
                    return None
                values = found if group else cells
            else:
                values = _convert_cells(cells, how, memo, listy)
                if values is None:
                    return None
            if mode == _MEMO:
                if needed and None in values:
                    return None
                if listy:
                    if not all(values):
                        gaps.append((key, values, False))
                elif None in values:
                    gaps.append((key, values, True))
            elif not all(values):
                if needed:
                    return None
                gaps.append((key, values, False))
            out.append(values)
        items = build(out)
        for key, values, is_none in gaps:
            if is_none:
                for k in [k for k, v in enumerate(values) if v is None]:
                    del items[k][key]
            else:
                for k in [k for k, v in enumerate(values) if not v]:
                    del items[k][key]
        return items, dict(zip(keys, out, strict=True))

    return to_items


def _convert_cells(
    cells: list[str], conv: Converter, memo: dict[str, Any], listy: bool
) -> list[Any] | None:
    """The converted values of one column (``None`` for an empty cell), with the
    column's memo; ``None`` when a cell cannot be converted. List values come out as
    fresh lists."""
    values = list(map(memo.get, cells, repeat(MISS)))
    if MISS in values:
        for k in [k for k, v in enumerate(values) if v is MISS]:
            raw = cells[k]
            value: Any = None
            if raw:
                try:
                    value = conv(raw)
                except cv.ConversionError:
                    return None
                if listy and type(value) is list:
                    value = tuple(value)
            values[k] = value
            if len(memo) < MEMO_SIZE:
                memo[raw] = value
    if listy:
        return [list(v) if type(v) is tuple else v for v in values]
    return values


def merge_scalars(
    group: Group, item: Mapping[str, Any], row: int, skip: Iterable[str], what: str
) -> list[Problem]:
    """Compare a later row's top-level values with its group's.

    A value missing from the group is filled in (remembering the row); a differing
    value is a conflict naming both rows. Returns problems; fills nothing on conflict.
    """
    skip_set = set(skip)
    problems: list[Problem] = []
    fills: list[tuple[str, Any]] = []
    into = group.item
    for key, value in item.items():
        if key in skip_set:
            continue
        if key in into:
            if into[key] != value:
                first = group.origin.get(key, group.rows[0])
                problems.append(
                    Problem(
                        row, "", _as_text(value),
                        f"{what} “{group.key}” has {key} “{_as_text(into[key])}” "
                        f"{on_row(first)} but “{_as_text(value)}” here. Make the rows agree; this "
                        f"{what.lower()} is not sent until they do.",
                        key,
                    )
                )
        else:
            fills.append((key, value))
    if not problems:
        for key, value in fills:
            into[key] = value
            group.origin[key] = row
    return problems


def on_row(row: int) -> str:
    """ "on row 7", or "on an earlier row" when the row is not known (0)."""
    return f"on row {row}" if row else "on an earlier row"


def _as_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- whole-file checks
#
# Whole-file checks that need memory across rows: duplicates and row groups.
#
# :class:`DuplicateTracker` (non-grouping kinds) remembers, per key field, only
# ``value → first row`` (a string and an int per item), so a file of a million rows
# stays small. The first row with a key is kept; every later one gets an error
# Problem naming both rows.
#
# :class:`Grouper` (pipelines, activities) merges the rows that share a group key
# (``pipelineId`` / ``externalActivityId``) into one payload item. Rows need not be
# adjacent. A row that conflicts with its group gets a Problem naming both rows, and
# the whole group is held back (both endpoints are create-only, so a partial group
# could never be completed later): :meth:`Grouper.finish` returns the good groups
# and a Problem for every other row of a held-back group.


class _BlockRows:
    """The rows of keys that :meth:`DuplicateTracker.check_block` took together."""

    __slots__ = ("rows", "values")

    def __init__(self, rows: Sequence[int], values: Sequence[str]) -> None:
        self.rows = rows
        self.values = values

    def row_of(self, value: str) -> int:
        return self.rows[self.values.index(value)]


def _resolver(mapping: ColumnMapping | None, fields: Iterable[TargetField]) -> dict[str, str]:
    columns = mapping.columns if mapping is not None else {}
    return {f.name: columns.get(f.name) or f.label for f in fields}


class DuplicateTracker:
    """Flag repeated identity keys within one file.

    Feed it every *valid* item in file order: ``problems = tracker.check(row, item)``.
    """

    def __init__(
        self,
        kind: RecordKind,
        ctx: ConvertContext | None = None,
        mapping: ColumnMapping | None = None,
        *,
        fields: Iterable[TargetField] | None = None,
    ) -> None:
        """``ctx`` decides which keys are tracked (accounts: ``externalId`` only where it
        is the identity) and ``mapping`` which header a Problem names. Without ``ctx``
        the strictest key set is used and labels come from the default edition."""
        self._kind = kind
        self._ctx = ctx
        field_list = list(fields) if fields is not None else kind.fields(
            ctx if ctx is not None else ConvertContext(rules_for(None))
        )
        self._columns = _resolver(mapping, field_list)
        self._labels = {f.name: f.label for f in field_list}
        #: key field → value → first row (or the _BlockRows it came in with)
        self._seen: dict[str, dict[str, Any]] = {
            name: {} for name in kind.duplicate_fields(ctx)
        }
        self._pairs = tuple(self._seen.items())

    def check(self, row: int, item: Mapping[str, Any]) -> list[Problem]:
        """Remember the item's keys; return a Problem per key already seen."""
        problems: list[Problem] = []
        for name, seen in self._pairs:
            value = item.get(name)
            if not value or not isinstance(value, str):
                continue
            first = seen.setdefault(value, row)
            if first == row:
                continue
            if type(first) is _BlockRows:
                first = first.row_of(value)
            source = self._kind.source_field(name, self._ctx)
            label = self._labels.get(source, source)
            problems.append(
                Problem(
                    row,
                    self._columns.get(source, source),
                    value,
                    f"{label} “{value}” is already on row {first}; rows {first} and {row} "
                    f"describe the same record. Keep one of them (row {row} is not sent).",
                    source,
                    code=DUPLICATE_IN_FILE,
                )
            )
        return problems

    def check_block(self, rows: Sequence[int], columns: Mapping[str, Sequence[Any]]) -> bool:
        """:meth:`check` for a block of items that all pass, given as their values by
        field (``rows[k]`` has ``columns[name][k]``; a missing field has no values):
        remember their keys and return True; or, when any key is already known or
        repeats within the block, remember nothing and return False (check the block
        row by row instead).

        The keys of a block all point to one :class:`_BlockRows`, which finds a key's
        row when a later duplicate needs it: no row number object per key."""
        updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for name, seen in self._pairs:
            values = columns.get(name)
            if values is None:
                continue
            keyed = rows
            if not all(values) or not all(map(isinstance, values, repeat(str))):
                pairs = [
                    (v, r) for v, r in zip(values, rows, strict=True) if v and isinstance(v, str)
                ]
                values = [v for v, _r in pairs]
                keyed = [r for _v, r in pairs]
            new = dict.fromkeys(values, _BlockRows(keyed, values))
            if len(new) != len(values) or not seen.keys().isdisjoint(new):
                return False
            updates.append((seen, new))
        for seen, new in updates:
            seen.update(new)
        return True

    def first_row(self, name: str, value: str) -> int | None:
        """Row that first used ``value`` for key field ``name``."""
        first = self._seen.get(name, {}).get(value)
        if type(first) is _BlockRows:
            return first.row_of(value)
        return first

    def __len__(self) -> int:
        return sum(len(v) for v in self._seen.values())


@dataclass(slots=True)
class Group:
    """Rows merged into one payload item."""

    key: str
    item: dict[str, Any]
    rows: list[int]
    #: sub-item identity (stage id, contact e-mail) → row that added it
    seen: dict[str, int] = field(default_factory=dict)
    #: top-level field → row that set it, when not the first row
    origin: dict[str, int] = field(default_factory=dict)
    #: rows that conflicted with the group (the group is held back)
    bad_rows: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_rows


class Grouper:
    """Merge the rows of a grouping kind; see the module notes."""

    def __init__(
        self,
        kind: RecordKind,
        ctx: ConvertContext,
        mapping: ColumnMapping | None = None,
        *,
        fields: Iterable[TargetField] | None = None,
    ) -> None:
        if not kind.groups_rows:
            raise ValueError(f"{kind.name} does not group rows")
        self._kind = kind
        self._ctx = ctx
        self._columns = _resolver(mapping, fields if fields is not None else kind.fields(ctx))
        self._groups: dict[str, Group] = {}

    def add(self, row: int, item: dict[str, Any]) -> list[Problem]:
        """Add a valid item; returns Problems for this row when it conflicts."""
        key = self._kind.item_key(item, self._ctx)
        if key is None:  # pragma: no cover - items of grouping kinds always have keys
            raise ValueError("item has no group key")
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = self._kind.start_group(key, row, item)
            return []
        problems = self._kind.merge(group, item, row)
        group.rows.append(row)
        if problems:
            group.bad_rows.append(row)
            problems = [p if p.column else replace(p, column=self._column(p.field))
                        for p in problems]
        return problems

    def _column(self, name: str) -> str:
        column = self._columns.get(name)
        if column is None:  # a nested object such as "from": its first sub-field
            column = next(
                (c for n, c in self._columns.items() if n.startswith(name + ".")), name
            )
        return column

    def finish(self) -> tuple[list[Group], list[Problem]]:
        """Good groups in first-row order, and a Problem for each row of a held-back
        group that has no Problem of its own yet."""
        good: list[Group] = []
        held: list[Problem] = []
        key_column = self._columns.get(self._kind.key_field, self._kind.key_field)
        for group in self._groups.values():
            if group.ok:
                good.append(group)
                continue
            bad = ", ".join(str(r) for r in group.bad_rows)
            for r in group.rows:
                if r in group.bad_rows:
                    continue
                held.append(
                    Problem(
                        r, key_column, group.key,
                        f"Not sent: row(s) {bad} disagree with this row about "
                        f"“{group.key}”. Fix those rows and import again.",
                        self._kind.key_field,
                    )
                )
        return good, held

    def groups(self) -> list[Group]:
        """All groups so far (good and held back), in first-row order."""
        return list(self._groups.values())

    def __len__(self) -> int:
        return len(self._groups)
