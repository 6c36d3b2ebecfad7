"""The row-converter generator's docstring example is its real output (it cannot drift),
and the generated converter does what the example says."""

from __future__ import annotations

import inspect
import textwrap

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.records import ConvertContext, codegen, get_kind
from recotap_desktop.records.mapping import ColumnMapping


def _docstring_example() -> str:
    doc = inspect.getdoc(codegen) or ""
    after = doc.split("give exactly this source", 1)[1].split("::", 1)[1]
    lines = after.strip("\n").splitlines()
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


def _generated() -> str:
    captured: dict[str, str] = {}
    real = codegen.to_item_source

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        src, ns = real(*args, **kwargs)
        captured["src"] = src
        return src, ns

    codegen.to_item_source = spy  # type: ignore[assignment]
    try:
        kind = get_kind("id-mappings")
        ctx = ConvertContext.build(rules_for("external"), [])
        mapping = ColumnMapping({"domain": "Website", "externalId": "Record ID"}, {})
        to_item = kind.compile(ctx, mapping, ["Website", "Record ID"])
    finally:
        codegen.to_item_source = real  # type: ignore[assignment]
    item, problems = to_item(2, ["  Acme.com ", " crm-1 "])
    assert item == {"domain": "acme.com", "externalId": "crm-1"} and problems == []
    item, problems = to_item(3, ["acme.com"])  # a short row: the id is missing
    assert item is None and [p.field for p in problems] == ["externalId"]
    return captured["src"].strip() + "\n"


def test_the_docstring_example_is_the_generated_source() -> None:
    assert _docstring_example() == _generated()
