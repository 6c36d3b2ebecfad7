"""How each date and number column of a file is written, decided from all its values.

A column's *convention* is its date order (``"DMY"``, ``"MDY"``) for date and
date-time fields, or its decimal mark (``"point"``, ``"comma"``) for number, count
and duration fields. Every value of the column is then read by that one convention
(:class:`~recotap_desktop.records.base.ConvertContext` ``formats``).

Decided, in this order:

1. **The user's choice** (CLI ``--date-order``/``--decimal``, the Check page, a mapping
   template) — for every column of that type.
2. **The column's own values**: a value that fits only one convention settles it
   (``31/01/2026`` only day-first, ``1/13/2026`` only month-first; ``206.000,25`` only a
   decimal comma, ``1,234.50``/``1'234.50`` only a decimal point). Values that fit only
   one convention on *both* sides make the column contradictory: it is reported once,
   with rows on each side, and needs a choice.
3. **File-level hints**, only when some value reads differently under the two
   conventions and no value settles it: the file's *other* columns (other date columns
   that all settle one order point to it; a number column with a decimal comma points
   to day-first dates; a date column that is month-first, as only US exports are,
   points to a decimal point), then the delimiter (Excel writes
   ``;``-separated CSV where the decimal mark is a comma, so ``;`` points to a decimal
   comma and day-first dates).
4. Otherwise **undecided**: the plan says so, the GUI asks, the CLI exits 2 naming the
   flag. A column whose every value reads the same either way (ISO dates, ``1234``)
   needs no decision.

XLSX typed cells reach this module as ISO dates and plain ``1234.5`` numbers, which
settle nothing and need nothing: only text cells are ever in question.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import convert as cv
from .base import FieldType, TargetField
from .mapping import ColumnMapping

__all__ = ["DATE", "NUMBER", "ColumnFormat", "FormatScanner", "convention_words"]

DATE = "date"
NUMBER = "number"
_DATE_TYPES = frozenset({FieldType.DATE, FieldType.DATETIME})
_NUMBER_TYPES = frozenset({FieldType.NUMBER, FieldType.INTEGER, FieldType.DURATION})
#: Rows/values kept per side as examples.
_EXAMPLES = 5
#: Distinct values remembered per column (classification cache); beyond, values are
#: classified again (correct, a little slower).
_CACHE = 20_000

_WORDS = {
    "DMY": "day/month/year",
    "MDY": "month/day/year",
    "YMD": "year/month/day",
    "point": "decimal point",
    "comma": "decimal comma",
}
#: The CLI flag that chooses each kind of convention.
FLAGS = {DATE: "--date-order", NUMBER: "--decimal"}
_ALLOWED = {DATE: ("DMY", "MDY", "YMD"), NUMBER: ("point", "comma")}


def convention_words(convention: str) -> str:
    """``"DMY"`` → ``"day/month/year"``; ``"comma"`` → ``"decimal comma"``."""
    return _WORDS.get(convention, convention)


@dataclass
class _Side:
    count: int = 0
    #: the first few (row, value), sorted when shown
    examples: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnFormat:
    """How one column will be read, and why.

    ``convention`` is ``None`` when the column needs a choice (``needs_choice``):
    undecided or contradictory. ``how``: ``"chosen"``, ``"values"``, ``"hint"``,
    ``"not needed"``, ``"undecided"`` or ``"conflict"``.
    """

    target: str
    column: str
    kind: str
    convention: str | None
    how: str
    reason: str
    #: convention → (values that fit only it, the first few (row, value))
    settled_by: Mapping[str, tuple[int, tuple[tuple[int, str], ...]]] = field(
        default_factory=dict
    )
    #: values that read differently under the two conventions, the first few
    ambiguous: tuple[int, tuple[tuple[int, str], ...]] = (0, ())

    @property
    def needs_choice(self) -> bool:
        return self.convention is None and self.how in ("undecided", "conflict")

    @property
    def choices(self) -> tuple[str, ...]:
        return _ALLOWED[self.kind]

    @property
    def flag(self) -> str:
        return FLAGS[self.kind]

    def describe(self) -> str:
        """``Close Date: day/month/year — 41 values such as 31/01/2026 fit only this order``."""
        if self.convention:
            head = convention_words(self.convention)
        else:
            head = "needs a choice" if self.needs_choice else "read as written"
        return f"{self.column}: {head} — {self.reason}"


class _Column:
    __slots__ = (
        "ambiguous", "cache", "classify", "field", "header", "index", "kind", "scan", "sides"
    )

    def __init__(self, f: TargetField, header: str, index: int) -> None:
        self.field = f.name
        self.header = header
        self.index = index
        self.kind = DATE if f.type in _DATE_TYPES else NUMBER
        self.classify = _date_sides if self.kind == DATE else _number_sides
        self.sides: dict[str, _Side] = {}
        self.ambiguous = _Side()
        self.cache: dict[str, tuple[str, ...]] = {}
        self.scan = True

    def add(self, numbers: Sequence[int], block: Sequence[Sequence[str]]) -> None:
        """Count the block's values by what they settle: each distinct value is
        classified once (and remembered), rows are looked at only for examples."""
        i = self.index
        cache = self.cache
        classify = self.classify
        cells = [values[i] if i < len(values) else "" for values in block]
        for raw, n in Counter(cells).items():
            fits = cache.get(raw)
            if fits is None:
                text = raw.strip()
                fits = classify(text) if text else ()
                if len(cache) < _CACHE:
                    cache[raw] = fits
            if not fits:
                continue
            if len(fits) == 1:
                side = self.sides.get(fits[0])
                if side is None:
                    side = self.sides[fits[0]] = _Side()
            else:
                side = self.ambiguous
            side.count += n
            if len(side.examples) < _EXAMPLES:
                text = raw.strip()
                side.examples.extend(
                    (row_no, text)
                    for row_no, cell in zip(numbers, cells, strict=True)
                    if cell == raw
                )
                del side.examples[_EXAMPLES:]


def _date_sides(text: str) -> tuple[str, ...]:
    return cv.date_orders(text)


def _number_sides(text: str) -> tuple[str, ...]:
    return () if text.isdigit() else cv.number_fits(text)


class FormatScanner:
    """Collects, block by block, what a file's date and number columns settle.

    ``FormatScanner.for_mapping(fields, mapping, headers)`` (``None`` when no mapped
    column needs it), ``add(numbers, block)`` per block of rows, then ``decide(...)``.
    """

    def __init__(self, columns: list[_Column]) -> None:
        self.columns = columns

    @classmethod
    def for_mapping(
        cls,
        fields: Iterable[TargetField],
        mapping: ColumnMapping,
        headers: Sequence[str],
        *,
        date_order: str = "auto",
        decimal: str = "auto",
    ) -> FormatScanner | None:
        """The scanner of the mapped date and number columns (``None`` when none is
        mapped). A column whose convention is chosen (``date_order``/``decimal``, or
        the mapping's ``formats``) is not scanned: its values cannot change it."""
        position = {h: i for i, h in reversed(list(enumerate(headers)))}
        columns = []
        for f in fields:
            if f.type not in _DATE_TYPES and f.type not in _NUMBER_TYPES:
                continue
            header = mapping.columns.get(f.name)
            if header is not None and header in position:
                column = _Column(f, header, position[header])
                chosen = date_order if column.kind == DATE else decimal
                column.scan = chosen == "auto" and f.name not in mapping.formats
                columns.append(column)
        return cls(columns) if columns else None

    @property
    def needs_pass(self) -> bool:
        """Whether any column's values are to be read (see :meth:`add`)."""
        return any(c.scan for c in self.columns)

    def add(self, numbers: Sequence[int], block: Sequence[Sequence[str]]) -> None:
        for column in self.columns:
            if column.scan:
                column.add(numbers, block)

    def decide(
        self,
        *,
        date_order: str = "auto",
        decimal: str = "auto",
        delimiter: str | None = None,
        per_column: Mapping[str, str] | None = None,
    ) -> list[ColumnFormat]:
        """One :class:`ColumnFormat` per scanned column (see the module notes).

        ``date_order``/``decimal`` (the CLI flags) choose for every column of their
        type; ``per_column`` (field name → convention: a mapping's ``formats``) for one.
        """
        chosen = {DATE: date_order, NUMBER: decimal}
        settled: dict[str, set[str]] = {DATE: set(), NUMBER: set()}
        for column in self.columns:
            if len(column.sides) == 1:
                settled[column.kind].update(column.sides)
        out = []
        for c in self.columns:
            choice, why = chosen[c.kind], f"as chosen ({FLAGS[c.kind]} {chosen[c.kind]})"
            own = (per_column or {}).get(c.field)
            if choice == "auto" and own in _ALLOWED[c.kind]:
                choice, why = own, "as chosen for this column"
            out.append(self._decide(c, choice, why, settled, delimiter))
        return out

    @staticmethod
    def _decide(
        c: _Column,
        chosen: str,
        chosen_why: str,
        settled: Mapping[str, set[str]],
        delimiter: str | None,
    ) -> ColumnFormat:
        for side in (*c.sides.values(), c.ambiguous):
            side.examples.sort()
        sides = {k: (s.count, tuple(s.examples)) for k, s in c.sides.items()}
        ambiguous = (c.ambiguous.count, tuple(c.ambiguous.examples))

        def made(convention: str | None, how: str, reason: str) -> ColumnFormat:
            return ColumnFormat(
                c.field, c.header, c.kind, convention, how, reason, sides, ambiguous
            )

        if chosen != "auto":
            return made(chosen, "chosen", chosen_why)
        if len(c.sides) == 1:
            (convention, side), = c.sides.items()
            return made(convention, "values", _settled_reason(c.kind, side))
        if len(c.sides) > 1:
            return made(None, "conflict", _conflict_reason(c))
        if not c.ambiguous.count:
            return made(None, "not needed", "every value reads the same in any order"
                        if c.kind == DATE else "every value reads the same with either mark")
        hint = _hint(c.kind, settled, delimiter)
        if hint is not None:
            convention, why = hint
            return made(convention, "hint", f"no value settles it; {why}")
        example = c.ambiguous.examples[0][1]
        what = "order" if c.kind == DATE else "mark"
        return made(
            None,
            "undecided",
            f"no value settles it: {c.ambiguous.count} "
            f"{'value' if c.ambiguous.count == 1 else 'values'} such as {example} "
            f"{'fits' if c.ambiguous.count == 1 else 'fit'} either {what}",
        )


def _settled_reason(kind: str, side: _Side) -> str:
    n = side.count
    example = side.examples[0][1]
    what = "order" if kind == DATE else "mark"
    return (
        f"{n} {'value' if n == 1 else 'values'} such as {example} "
        f"{'fits' if n == 1 else 'fit'} only this {what}"
    )


def _conflict_reason(c: _Column) -> str:
    parts = []
    for convention, side in sorted(c.sides.items()):
        rows = ", ".join(str(r) for r, _ in side.examples)
        extra = side.count - len(side.examples)
        more = f" and {extra} more" if extra else ""
        parts.append(
            f"row{'s' if side.count > 1 else ''} {rows}{more} "
            f"(such as {side.examples[0][1]}) {'fit' if side.count > 1 else 'fits'} only "
            f"{convention_words(convention)}"
        )
    return "the values contradict each other: " + "; ".join(parts)


def _hint(
    kind: str, settled: Mapping[str, set[str]], delimiter: str | None
) -> tuple[str, str] | None:
    if kind == DATE and settled[DATE] in ({"DMY"}, {"MDY"}):
        (order,) = settled[DATE]
        return order, f"the file's other dates are {convention_words(order)}"
    if kind == DATE and settled[NUMBER] == {"comma"}:
        return "DMY", "the file's numbers use a decimal comma, which goes with day-first dates"
    if kind == NUMBER and settled[DATE] == {"MDY"}:
        return "point", "the file's dates are month-first (US), which goes with a decimal point"
    if delimiter == ";":
        if kind == DATE:
            return "DMY", "the file is separated by “;”, as exports from day-first locales are"
        return "comma", "the file is separated by “;”, as exports with a decimal comma are"
    return None


def undecided_message(formats: Iterable[ColumnFormat]) -> str | None:
    """What the CLI prints when some column needs a choice (``None`` when none does)."""
    lines = []
    for fmt in formats:
        if not fmt.needs_choice:
            continue
        options = "|".join(fmt.choices)
        lines.append(f"- {fmt.describe()}.\n  Pass {fmt.flag} {options} to say how to read it.")
    if not lines:
        return None
    return "Some columns can be read in more than one way; nothing was sent:\n" + "\n".join(lines)
