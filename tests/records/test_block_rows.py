"""The block converter (``RecordKind.compile_block``) and ``DuplicateTracker.check_block``
against the row-by-row path they speed up.

A block converter may decline any block (it returns ``None`` and the caller goes row
by row), but when it answers, its items must be exactly the items ``compile`` gives,
with the same key order, and only for blocks in which every row is valid with no
Problem. The block rules for domains and LinkedIn URLs must vouch only for cells the
converters return unchanged (LinkedIn) or as the captured group (domains).
"""

from __future__ import annotations

import random
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from recotap_desktop.records import KINDS, ColumnMapping, ConvertContext
from recotap_desktop.records import convert as cv
from recotap_desktop.records.base import DuplicateTracker

ACCOUNTS = KINDS["accounts"]

# Cells that are valid but awkward, invalid, or that the block rules must not vouch for.
ODD = [
    "", " ", "ACME.COM", "www.www.acme.com", "www.com", "a_b.com", "not a domain",
    "acme.com\nbeta.com", "\u2028acme.com", "\xa0acme.com\xa0", "\tacme.com ",
    "https://www." + "a" * 60 + ".com/", "a" * 59 + ".com", "a" * 60 + ".com",
    "http://b1.example.org", "https://acme.com//", "acme.com/path", "-acme.com", "acme-.com",
    "acme..com", "acme.c", "acme.co1", "xn--bcher-kva.example", "https://www.linkedin.com/",
    "https://www.linkedin.com//x", "https://www.linkedin.com/company/a b",
    "linkedin.com/company/acme", "HTTPS://WWW.LINKEDIN.COM/company/acme", "x;y", ";", "a, b, a",
]


def _good_row(rnd: random.Random, i: int) -> dict[str, str]:
    return {
        "externalId": f"id-{i}",
        "name": rnd.choice([f"Company {i}", f"  Company {i} Ltd ", f"Société {i}"]),
        "domain": rnd.choice(
            [f"c{i}.example.org", f"https://www.c{i}.example.org/", f"http://c-{i}.example.co.uk",
             f"www.c{i}.io", f" c{i}.example.com "]
        ),
        "shortName": rnd.choice(["", f"C{i}", "  "]),
        "linkedinUrl": rnd.choice(["", f"https://www.linkedin.com/company/c{i}", " "]),
        "tags": rnd.choice(["", "enterprise;q2", "a, b, a", "solo", ";"]),
        "Unmapped": rnd.choice(["", "anything", "not a domain"]),
    }


def _rows(
    rnd: random.Random, fields: list[str], start: int, n: int, odd: float
) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        good = _good_row(rnd, i)
        row = [good[f] if rnd.random() >= odd else rnd.choice(ODD) for f in fields]
        rows.append(row)
    return rows


def _mappings(ctx: ConvertContext) -> list[list[str]]:
    names = [f.name for f in ACCOUNTS.fields(ctx) if f.name in ACCOUNTS.plain_payload]
    required = [f.name for f in ACCOUNTS.fields(ctx) if f.required]
    optional = [n for n in names if n not in required]
    return [
        names,
        list(reversed(names)),
        required,
        [*required, "tags"],
        [*required, "linkedinUrl", "shortName"],
    ] + [[*required, *random.Random(k).sample(optional, 2)] for k in range(3)]


def test_block_items_equal_row_items(ctx: ConvertContext) -> None:
    rnd = random.Random(f"blocks-{ctx.rules.edition}")
    answered = declined = 0
    for fields in _mappings(ctx):
        headers = [*fields, "Unmapped"]
        rnd.shuffle(headers)
        mapping = ColumnMapping(columns={f: f for f in fields})
        to_item = ACCOUNTS.compile(ctx, mapping, headers)
        to_items = ACCOUNTS.compile_block(ctx, mapping, headers)
        assert to_items is not None, fields
        for b in range(60):
            odd = rnd.choice([0.0, 0.0, 0.001, 0.01, 0.2])
            size = rnd.choice([1, 2, 7, 64])
            rows = _rows(rnd, headers, b * 100, size, odd)
            if rnd.random() < 0.05:  # a short row
                rows[-1] = rows[-1][: rnd.randint(0, len(headers) - 1)]
            expected = [to_item(2 + k, row) for k, row in enumerate(rows)]
            got = to_items(rows)
            if got is None:
                declined += 1
                continue
            answered += 1
            items, columns = got
            assert all(item is not None and not problems for item, problems in expected), rows
            assert items == [item for item, _ in expected], rows
            for mine, theirs in zip(items, expected, strict=True):
                assert list(mine) == list(theirs[0] or {}), "payload key order"
            for name, values in columns.items():
                assert len(values) == len(rows)
                for item, value in zip(items, values, strict=True):
                    if name in item:
                        assert item[name] == value
    # most blocks are answered: the fast path is really taken
    assert answered > 3 * declined > 0


def test_block_lists_are_fresh(crm: ConvertContext) -> None:
    headers = ["externalId", "name", "domain", "tags"]
    to_items = ACCOUNTS.compile_block(crm, ColumnMapping(columns={h: h for h in headers}), headers)
    assert to_items is not None
    got = to_items([["a", "A", "a.com", "x; y"], ["b", "B", "b.com", "x; y"]])
    assert got is not None
    first, second = got[0]
    first["tags"].append("changed")
    assert second["tags"] == ["x", "y"]
    again = to_items([["c", "C", "c.com", "x; y"]])
    assert again is not None and again[0][0]["tags"] == ["x", "y"]


def test_no_block_form_for_constants_or_assembled_items(
    crm: ConvertContext, external: ConvertContext
) -> None:
    headers = ["externalId", "name", "domain"]
    with_constant = ColumnMapping(columns={"name": "name", "domain": "domain"},
                                  constants={"externalId": "k"})
    assert ACCOUNTS.compile_block(crm, with_constant, headers) is None
    missing_required = ColumnMapping(columns={"name": "name", "externalId": "externalId"})
    assert ACCOUNTS.compile_block(crm, missing_required, headers) is None
    assert KINDS["deals"].compile_block(
        crm, ColumnMapping(columns={"name": "name"}), ["name"]
    ) is None


def _vouched(rule: tuple[Any, bool, int | None], cells: list[str]) -> list[str] | None:
    pattern, group, longest = rule
    joined = "\n".join(cells)
    if joined.count("\n") != len(cells) - 1:
        return None
    found = pattern.findall(joined)
    if len(found) != len(cells):
        return None
    if longest is not None and max(map(len, found)) > longest:
        return None
    return found if group else cells


_DOMAINISH = st.lists(
    st.sampled_from(["https://", "http://", "www.", "a", "b1", "-", ".", "com", "/", "x", "_",
                     "Z", " ", "\n", "www", "org", "é", "0"]),
    max_size=12,
).map("".join)


# near-domains: right shape, with upper case, underscores, long labels, odd prefixes
_NEAR_DOMAIN = st.from_regex(
    r"(https?://|HTTP://)?(www\.|WWW\.)?([a-zA-Z0-9_-]{1,70}\.){1,3}[a-zA-Z0-9]{1,5}/?",
    fullmatch=True,
)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_DOMAINISH, _NEAR_DOMAIN, st.text(string.printable, max_size=20)),
                min_size=1, max_size=6))
def test_domain_rule_vouches_only_for_what_parse_domain_returns(cells: list[str]) -> None:
    cells = [c.strip() for c in cells]
    found = _vouched(cv.BLOCK_RULES[cv.parse_domain], cells)
    if found is None:
        return
    for cell, value in zip(cells, found, strict=True):
        if not cell:
            assert value == ""
        else:
            assert cv.parse_domain(cell) == value


_LINKEDINISH = st.lists(
    st.sampled_from(["https://", "http://", "www.", "linkedin.com", "/", "company", "a", " ",
                     "\n", "\t", "Ü", "x.com"]),
    max_size=8,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_LINKEDINISH, st.text(max_size=20)), min_size=1, max_size=6))
def test_linkedin_rule_vouches_only_for_what_the_parser_keeps(cells: list[str]) -> None:
    cells = [c.strip() for c in cells]
    found = _vouched(cv.BLOCK_RULES[cv.parse_linkedin_url], cells)
    if found is None:
        return
    for cell in cells:
        if cell:
            assert cv.parse_linkedin_url(cell) == cell


def test_the_domain_rule_answers_for_common_forms() -> None:
    cells = ["acme.com", "https://www.acme.com/", "http://b-1.example.co.uk", "", "a" * 59 + ".com"]
    assert _vouched(cv.BLOCK_RULES[cv.parse_domain], cells) == [
        "acme.com", "acme.com", "b-1.example.co.uk", "", "a" * 59 + ".com"
    ]
    for odd in ("a" * 60 + ".com", "www.www.acme.com", "ACME.COM", "a_b.com", "x\ny.com"):
        assert _vouched(cv.BLOCK_RULES[cv.parse_domain], ["acme.com", odd]) is None


def _known(tracker: DuplicateTracker) -> dict[str, dict[str, int | None]]:
    """Every key the tracker knows, with the row it first came on."""
    return {
        name: {value: tracker.first_row(name, value) for value in seen}
        for name, seen in tracker._seen.items()
    }


def test_check_block_equals_check_row_by_row(crm: ConvertContext) -> None:
    rnd = random.Random("dupes")
    for _ in range(50):
        by_rows = DuplicateTracker(ACCOUNTS, crm)
        by_blocks = DuplicateTracker(ACCOUNTS, crm)
        row = 2
        for _ in range(8):
            n = rnd.randint(1, 20)
            items = [
                {k: v for k, v in (("externalId", f"e{rnd.randint(0, 60)}"),
                                   ("domain", f"d{rnd.randint(0, 60)}.com"))
                 if rnd.random() < 0.9}
                for _ in range(n)
            ]
            rows = list(range(row, row + n))
            row += n
            columns = {
                "externalId": [i.get("externalId") for i in items],
                "domain": [i.get("domain", "") for i in items],
            }
            before = _known(by_blocks)
            ok = by_blocks.check_block(rows, columns)
            problems = [
                p for r, item in zip(rows, items, strict=True) for p in by_rows.check(r, item)
            ]
            if ok:
                assert problems == []
            else:
                assert problems, "a block is declined only when a row has a duplicate"
                assert _known(by_blocks) == before
                got = [
                    p for r, item in zip(rows, items, strict=True)
                    for p in by_blocks.check(r, item)
                ]
                assert got == problems  # the same messages, naming the same first rows
            assert _known(by_blocks) == _known(by_rows)
