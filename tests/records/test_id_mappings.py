from __future__ import annotations

from recotap_desktop.records import (
    ID_MAPPINGS,
    ColumnMapping,
    ConvertContext,
    DuplicateTracker,
    Problem,
)
from recotap_desktop.records.base import DUPLICATE_IN_FILE


def test_mapping_row(ctx: ConvertContext) -> None:
    headers = ["Company Domain Name", "Record ID", "Company name"]
    mapping = ID_MAPPINGS.automap(headers, ctx)
    assert mapping.columns == {"domain": "Company Domain Name", "externalId": "Record ID"}
    to_item = ID_MAPPINGS.compile(ctx, mapping, headers)
    assert to_item(2, ["https://www.Acme.com", "crm-001", "Acme"]) == (
        {"domain": "acme.com", "externalId": "crm-001"}, [])
    item, problems = to_item(3, ["globex", "", "Globex"])
    assert item is None
    assert [(p.column, p.value, p.field) for p in problems] == [
        ("Company Domain Name", "globex", "domain"), ("Record ID", "", "externalId")]


def test_repeated_domain_is_flagged(ctx: ConvertContext) -> None:
    tracker = DuplicateTracker(ID_MAPPINGS, ctx, ColumnMapping({"domain": "Domain"}))
    assert tracker.check(2, {"domain": "acme.com", "externalId": "a"}) == []
    assert tracker.check(5, {"domain": "acme.com", "externalId": "b"}) == [Problem(
        5, "Domain", "acme.com", "Domain “acme.com” is already on row 2; rows 2 and 5 describe "
        "the same record. Keep one of them (row 5 is not sent).", "domain",
        code=DUPLICATE_IN_FILE)]


def test_repeated_external_id_only_where_it_is_identity(
    crm: ConvertContext, external: ConvertContext
) -> None:
    for context, expected in ((crm, 1), (external, 0)):
        tracker = DuplicateTracker(ID_MAPPINGS, context)
        tracker.check(2, {"domain": "a.com", "externalId": "x"})
        assert len(tracker.check(3, {"domain": "b.com", "externalId": "x"})) == expected
