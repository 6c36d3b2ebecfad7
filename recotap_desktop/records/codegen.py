"""The row converter of one mapping, written as Python source and compiled once per file.

``RecordKind.compile`` hands the mapping here: the loops over mapped columns, constants
and required fields are unrolled, so a row does only the work its mapping needs, with
constants and locals instead of tuple unpacking and dict look-ups. Tests compare the
generated code with a plain reference implementation on many rows. The source is
registered with ``linecache``, so tracebacks and debuggers show it.

Per row, in this order (the order of the Problems):

1. each mapped column, in file order: the trimmed cell; empty cells give no value;
   a converter's result is memoised per column (bounded; list results as tuples,
   handed out as fresh lists); a :class:`~.convert.ConversionError` gives a Problem
   and marks the field failed;
2. each constant, for a field that has no value and did not fail: its value (a fresh
   copy of a list) or its Problem (the field failed);
3. each required field that has no value and did not fail: a Problem;
4. the item: ``assemble(row, flat, problems, cx, values)`` with ``flat`` the values by
   field name; or, for a kind's plain payload, the values in that order (lists only
   when not empty); the item is dropped when any Problem is an error.

For example, ID mappings (``domain`` with its converter from column 0, ``externalId``
as trimmed text from column 1, both required) give exactly this source
(``tests/records/test_codegen.py`` checks that it does)::

    def to_item(row, values):
        if len(values) < 2:  # a short row: missing cells are empty
            values = [*values, *([''] * (2 - len(values)))]
        problems = []
        flat = {}
        failed0 = False
        raw = values[0].strip()
        if raw:
            value = memo0.get(raw, MISS)
            if value is MISS:
                try:
                    value = conv0(raw)
                except ConversionError as exc:
                    problems.append(Problem(row, column0, raw, exc.reason, 'domain'))
                    failed0 = True
                else:
                    flat['domain'] = value
                    if len(memo0) < 4096:
                        memo0[raw] = value
            else:
                flat['domain'] = value
        raw = values[1].strip()
        if raw:
            flat['externalId'] = raw
        if 'domain' not in flat and not failed0:
            problems.append(Problem(row, *required0))
        if 'externalId' not in flat:
            problems.append(Problem(row, *required1))
        item = assemble(row, flat, problems, cx, values)
        if problems:
            for p in problems:
                if p.severity == ERROR:
                    return None, problems
        return item, problems
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import convert as cv
from .base import ERROR, MEMO_SIZE, MISS, Compiled, Converter, Problem, RowConverter

__all__ = ["generate_to_item", "to_item_source"]


@dataclass(slots=True)
class _Field:
    """One field fed by a column and/or a constant, while writing ``to_item``."""

    name: str
    var: str  # the local holding its value (plain mode)
    text: bool = False  # fed by a column without converter: the value is the trimmed text
    flag: str = ""  # local that is True when the field failed (only when asked)


def generate_to_item(
    kind_name: str,
    assemble: Callable[..., dict[str, Any] | None],
    cx: Compiled,
    specs: Sequence[tuple[str, int, str, Converter | None]],
    const_specs: Sequence[tuple[str, str, str, Any, str | None]],
    required: Sequence[tuple[str, str, str]],
    width: int,
    list_fields: frozenset[str],
    plain: Sequence[str] = (),
) -> RowConverter:
    """Build ``to_item(row, values)`` for one mapping (see the module doc).

    ``specs``: (field, column index, header, converter or None) in column order;
    ``const_specs``: (field, label, raw, converted value, error or None);
    ``required``: (field, Problem column, reason) in field order; ``plain``: the
    kind's :attr:`RecordKind.plain_payload` when every mapped field is in it, else empty.
    """
    src, namespace = to_item_source(
        cx, specs, const_specs, required, width, list_fields, tuple(plain)
    )
    namespace["assemble"] = assemble
    filename = f"<recotap to_item {kind_name} {hashlib.sha1(src.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), namespace)  # our own code, written below
    to_item: RowConverter = namespace["to_item"]
    return to_item


class _Writer:
    """The source of one ``to_item``, written step by step (see :func:`to_item_source`)."""

    def __init__(self, cx: Compiled, plain: tuple[str, ...], list_fields: frozenset[str],
                 asked: set[str]) -> None:
        self.plain = plain
        self.list_fields = list_fields
        self.asked = asked
        self.state: dict[str, _Field] = {}
        self.ns: dict[str, Any] = {
            "Problem": Problem,
            "ConversionError": cv.ConversionError,
            "ERROR": ERROR,
            "MISS": MISS,
            "cx": cx,
        }
        self.out: list[str] = []

    def store(self, fs: _Field, expr: str) -> str:
        return f"{fs.var} = {expr}" if self.plain else f"flat[{fs.name!r}] = {expr}"

    def has_no_value(self, fs: _Field) -> str:
        if not self.plain:
            test = f"{fs.name!r} not in flat"
        else:
            test = f"not {fs.var}" if fs.text else f"{fs.var} is None"
        return f"{test} and not {fs.flag}" if fs.flag else test

    def start(self, width: int) -> None:
        self.out += [
            "def to_item(row, values):",
            f"    if len(values) < {width}:  # a short row: missing cells are empty",
            f"        values = [*values, *([''] * ({width} - len(values)))]",
            "    problems = []",
        ]
        if not self.plain:
            self.out.append("    flat = {}")

    def column(self, k: int, name: str, i: int, column: str, conv: Converter | None) -> None:
        """Step 1: one mapped column: the trimmed cell, converted through a memo."""
        out, plain, store = self.out, self.plain, self.store
        fs = self.state[name] = _Field(name, f"v{k}", text=conv is None)
        if conv is None:
            if plain:
                out.append(f"    v{k} = values[{i}].strip()")
            else:
                out += [f"    raw = values[{i}].strip()", "    if raw:"]
                out.append(f"        {store(fs, 'raw')}")
            return
        self.ns[f"conv{k}"] = conv
        self.ns[f"column{k}"] = column
        self.ns[f"memo{k}"] = {}
        on_error = [
            "            except ConversionError as exc:",
            f"                problems.append(Problem(row, column{k}, raw, exc.reason, {name!r}))",
        ]
        if name in self.asked:
            fs.flag = f"failed{k}"
            out.append(f"    failed{k} = False")
            on_error.append(f"                failed{k} = True")
        if plain:
            out.append(f"    v{k} = None")
        out += [f"    raw = values[{i}].strip()", "    if raw:"]
        if name in self.list_fields:  # the memo holds tuples; every row gets its own list
            out += [
                f"        hit = memo{k}.get(raw, MISS)",
                "        if hit is MISS:",
                "            try:",
                f"                value = conv{k}(raw)",
                *on_error,
                "            else:",
                f"                {store(fs, 'value')}",
                f"                if type(value) is list and len(memo{k}) < {MEMO_SIZE}:",
                f"                    memo{k}[raw] = tuple(value)",
                "        else:",
                f"            {store(fs, 'list(hit)')}",
            ]
        else:
            out += [
                f"        value = memo{k}.get(raw, MISS)",
                "        if value is MISS:",
                "            try:",
                f"                value = conv{k}(raw)",
                *on_error,
                "            else:",
                f"                {store(fs, 'value')}",
                f"                if len(memo{k}) < {MEMO_SIZE}:",
                f"                    memo{k}[raw] = value",
                "        else:",
                f"            {store(fs, 'value')}",
            ]

    def constant(self, k: int, name: str, column: str, raw: str, value: Any,
                 error: str | None) -> None:
        """Step 2: a constant, for a field that has no value and did not fail."""
        out = self.out
        fs = self.state.get(name) or self.state.setdefault(name, _Field(name, f"c{k}"))
        if self.plain and fs.var == f"c{k}":
            out.append(f"    c{k} = None")
        test = self.has_no_value(fs)
        if error is None:
            self.ns[f"const{k}"] = value
            copy = ".copy()" if isinstance(value, list) else ""
            out += [f"    if {test}:", f"        {self.store(fs, f'const{k}{copy}')}"]
            return
        self.ns[f"const_problem{k}"] = (column, raw, error, name)
        if not fs.flag:
            fs.flag = f"const_failed{k}"
            out.append(f"    const_failed{k} = False")
        out += [
            f"    if {test}:",
            f"        problems.append(Problem(row, *const_problem{k}))",
            f"        {fs.flag} = True",
        ]

    def required(self, k: int, name: str, column: str, reason: str) -> None:
        """Step 3: a required field that has no value and did not fail is a Problem."""
        self.ns[f"required{k}"] = (column, "", reason, name)
        fs = self.state.get(name)
        test = "True" if fs is None else self.has_no_value(fs)
        self.out += [f"    if {test}:", f"        problems.append(Problem(row, *required{k}))"]

    def finish(self) -> None:
        """Step 4: the item (built here in plain mode, else by ``assemble``)."""
        out = self.out
        if self.plain:
            out.append("    item = {}")
            for name in self.plain:
                fs = self.state.get(name)
                if fs is None:
                    continue
                present = fs.var if fs.text or name in self.list_fields else (
                    f"{fs.var} is not None"
                )
                out += [f"    if {present}:", f"        item[{name!r}] = {fs.var}"]
        else:
            out.append("    item = assemble(row, flat, problems, cx, values)")
        out += [
            "    if problems:",
            "        for p in problems:",
            "            if p.severity == ERROR:",
            "                return None, problems",
            "    return item, problems",
            "",
        ]


def to_item_source(
    cx: Compiled,
    specs: Sequence[tuple[str, int, str, Converter | None]],
    const_specs: Sequence[tuple[str, str, str, Any, str | None]],
    required: Sequence[tuple[str, str, str]],
    width: int,
    list_fields: frozenset[str],
    plain: tuple[str, ...],
) -> tuple[str, dict[str, Any]]:
    """Source text of ``to_item`` and its globals (see :func:`generate_to_item`).

    Without ``plain`` values go straight into ``flat``. With ``plain`` they stay in
    locals (``None``, or ``""`` for text, means no value) and the item is built last.
    """
    # fields whose "has no value" / "failed" state a later step asks about
    asked = {name for name, *_ in const_specs} | {name for name, _c, _r in required}
    writer = _Writer(cx, plain, list_fields, asked)
    writer.start(width)
    for k, (name, i, column, conv) in enumerate(specs):
        writer.column(k, name, i, column, conv)
    for k, (name, column, raw, value, error) in enumerate(const_specs):
        writer.constant(k, name, column, raw, value, error)
    for k, (name, column, reason) in enumerate(required):
        writer.required(k, name, column, reason)
    writer.finish()
    return "\n".join(writer.out), writer.ns
