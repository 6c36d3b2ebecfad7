"""The generated row converters (``RecordKind.compile``) against a plain reference.

``compile`` writes Python source per mapping (see ``records/base.py``). The reference
below is the loop it replaces, written straightforwardly; both must give equal items,
equal Problems in the same order, and the same payload key order, for every kind,
with columns, constants (good and bad), custom fields, short rows and odd values.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from recotap_desktop.records import KINDS, ColumnMapping, ConvertContext, Problem, RecordKind
from recotap_desktop.records import convert as cv
from recotap_desktop.records.base import ERROR, Compiled

# Cell values the fields of the kinds meet: good, bad, empty, padded, lists, dates ...
VALUES = [
    "", "  ", "x", "Acme Ltd", " Acme ", "acme.com", "https://www.acme.com/", "ACME.COM",
    "http://www.b1.example.org/", "www.www.acme.com", "not a domain", "a_b.com",
    "https://www.linkedin.com/company/acme", "linkedin.com/company/acme", "https://x.com/a",
    "jane@acme.com", "Jane <jane@acme.com>", "bad@", "2026-01-15", "15/01/2026", "03/04/2026",
    "2026-01-15T10:30:00Z", "75,000", "12.5", "-3", "abc", "0", "1:30", "45 min",
    "enterprise;q2", "a, b, a", ";", "inbound", "Partner", "EMEA; APAC", "Mars",
    "open", "won", "lost", "call", "email", "meeting", "inbound", "outbound", "1", "2",
]


def reference(
    kind: RecordKind, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
) -> Any:
    """The per-row loops that ``compile`` unrolls, as they were written before."""
    fields = {f.name: f for f in kind.fields(ctx)}
    first_index: dict[str, int] = {}
    for i, h in enumerate(headers):
        first_index.setdefault(h, i)
    index: dict[str, int] = {}
    specs = []
    for name, header in mapping.columns.items():
        f = fields.get(name)
        position = first_index.get(header)
        if f is None or position is None:
            continue
        index[name] = position
        specs.append((name, position, header, kind.converter(f, ctx, header)))
    columns = {n: mapping.columns[n] if n in index else f.label for n, f in fields.items()}
    constants: dict[str, str] = {}
    const_specs = []
    for name, raw_const in mapping.constants.items():
        f = fields.get(name)
        raw = raw_const.strip()
        if f is None or not raw:
            continue
        constants[name] = raw
        conv = kind.converter(f, ctx, "")
        value: Any = raw
        error = None
        if conv is not None:
            try:
                value = conv(raw)
            except cv.ConversionError as exc:
                error = exc.reason
        const_specs.append((name, f.label, raw, value, error))
    required = []
    for f in fields.values():
        if f.required:
            reason = (
                f"{f.label} is required but this cell is empty. Fill it in."
                if f.name in index
                else f"{f.label} is required: map a column to it or set a fixed value."
            )
            required.append((f.name, columns[f.name], reason))
    custom = tuple(
        (n, f.custom_key) for n, f in fields.items()
        if f.custom_key and (n in index or n in constants)
    )
    specs.sort(key=lambda spec: spec[1])
    cx = Compiled(ctx, fields, columns, index, constants, custom)
    width = max(index.values(), default=-1) + 1

    def to_item(row: int, values: Sequence[str]) -> tuple[dict[str, Any] | None, list[Problem]]:
        if len(values) < width:
            values = [*values, *([""] * (width - len(values)))]
        flat: dict[str, Any] = {}
        problems: list[Problem] = []
        failed: set[str] = set()
        for name, i, column, conv in specs:
            raw = values[i].strip()
            if not raw:
                continue
            if conv is None:
                flat[name] = raw
                continue
            try:
                flat[name] = conv(raw)
            except cv.ConversionError as exc:
                problems.append(Problem(row, column, raw, exc.reason, name))
                failed.add(name)
        for name, column, raw, value, error in const_specs:
            if name in flat or name in failed:
                continue
            if error is None:
                flat[name] = value.copy() if isinstance(value, list) else value
            else:
                problems.append(Problem(row, column, raw, error, name))
                failed.add(name)
        for name, column, reason in required:
            if name not in flat and name not in failed:
                problems.append(Problem(row, column, "", reason, name))
        item = kind.assemble(row, flat, problems, cx, values)
        if any(p.severity == ERROR for p in problems):
            return None, problems
        return item, problems

    return to_item


def _mappings(kind: RecordKind, ctx: ConvertContext, rnd: random.Random) -> list[ColumnMapping]:
    names = [f.name for f in kind.fields(ctx)]
    out = [ColumnMapping(columns={n: n for n in names})]
    for _ in range(6):
        chosen = rnd.sample(names, rnd.randint(1, len(names)))
        columns = {n: n for n in chosen if rnd.random() < 0.7}
        constants = {
            n: rnd.choice(VALUES) for n in chosen if n not in columns or rnd.random() < 0.2
        }
        out.append(ColumnMapping(columns=columns, constants=constants))
    plain = [n for n in kind.plain_payload if n in names]
    if plain:  # only the fields the item is made of directly
        out.append(ColumnMapping(columns={n: n for n in plain}))
        out.append(ColumnMapping(columns={n: n for n in plain[1:]}, constants={plain[0]: "k"}))
    return out


def _accepted(kind: RecordKind, ctx: ConvertContext, header: str) -> list[str]:
    """The VALUES that the field named ``header`` accepts (all of them if unknown)."""
    f = {f.name: f for f in kind.fields(ctx)}.get(header)
    conv = kind.converter(f, ctx, header) if f is not None else None
    if conv is None:
        return VALUES
    good = []
    for value in VALUES:
        try:
            if value.strip():
                conv(value.strip())
        except cv.ConversionError:
            continue
        good.append(value)
    return good


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_compiled_rows_match_the_reference(kind: RecordKind, ctx: ConvertContext) -> None:
    rnd = random.Random(f"{kind.name}-{ctx.rules.edition}")
    valid = 0
    for mapping in _mappings(kind, ctx, rnd):
        headers = [*mapping.columns.values(), "Unmapped"]
        rnd.shuffle(headers)
        compiled = kind.compile(ctx, mapping, headers)
        expected = reference(kind, ctx, mapping, headers)
        pools = [_accepted(kind, ctx, header) for header in headers]
        for row in range(2, 400):
            width = len(headers) if rnd.random() < 0.9 else rnd.randint(0, len(headers))
            # mostly values the field accepts (so that many rows are valid), some not
            values = [
                rnd.choice(pools[i] if rnd.random() < 0.8 else VALUES) for i in range(width)
            ]
            got_item, got_problems = compiled(row, values)
            want_item, want_problems = expected(row, list(values))
            assert got_problems == want_problems, (mapping, values)
            assert got_item == want_item, (mapping, values)
            if want_item is not None:
                valid += 1
                assert list(got_item or {}) == list(want_item), "payload key order"
    # many valid rows too (activities need matching values across fields: few)
    assert valid > (0 if kind.name == "activities" else 100)


def test_memoised_lists_are_not_shared(crm: ConvertContext) -> None:
    kind = KINDS["accounts"]
    headers = ["name", "domain", "externalId", "tags"]
    to_item = kind.compile(crm, ColumnMapping(columns={h: h for h in headers}), headers)
    first, _ = to_item(2, ["Acme", "acme.com", "a1", "x; y"])
    second, _ = to_item(3, ["Beta", "beta.com", "b1", "x; y"])
    assert first is not None and second is not None
    first["tags"].append("changed")
    assert second["tags"] == ["x", "y"]
    third, _ = to_item(4, ["Gamma", "gamma.com", "c1", "x; y"])
    assert third is not None and third["tags"] == ["x", "y"]


def test_generated_code_shows_in_tracebacks(crm: ConvertContext) -> None:
    import linecache

    kind = KINDS["accounts"]
    headers = ["name", "domain", "externalId"]
    to_item = kind.compile(crm, ColumnMapping(columns={h: h for h in headers}), headers)
    source = "".join(linecache.getlines(to_item.__code__.co_filename))
    assert source.startswith("def to_item(row, values):")
    assert "values[1].strip()" in source
