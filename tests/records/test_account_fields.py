from __future__ import annotations

import pytest

from recotap_desktop.records import (
    ACCOUNT_FIELDS,
    ColumnMapping,
    ConvertContext,
    DuplicateTracker,
    Problem,
    custom_field_key,
)


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Contract Value", "CONTRACT_VALUE_C"),
        ("Net-Revenue", "NET-REVENUE_C"),
        ("Revenue (USD)", "REVENUE_(USD)_C"),
        ("contract value", "CONTRACT_VALUE_C"),
        ("a  b", "A__B_C"),
        ("Straße", "STRASSE_C"),
    ],
)
def test_custom_field_key(label: str, key: str) -> None:
    assert custom_field_key(label) == key


def test_key_field_per_edition(crm: ConvertContext, external: ConvertContext) -> None:
    assert ACCOUNT_FIELDS.fields(crm)[0].name == "externalId"
    assert ACCOUNT_FIELDS.fields(external)[0].name == "rtp_aid"
    assert all(f.name.startswith("customFields.") for f in ACCOUNT_FIELDS.fields(crm)[1:])


def test_update_item(ctx: ConvertContext) -> None:
    key_header = "Record ID" if ctx.rules.account_update_key == "externalId" else "rtp_aid"
    headers = [key_header, "Contract Value", "DEAL_SOURCE_C", "Notes"]
    mapping = ACCOUNT_FIELDS.automap(headers, ctx)
    key_field = ctx.rules.account_update_key
    assert mapping.columns == {
        key_field: key_header,
        "customFields.CONTRACT_VALUE_C": "Contract Value",
        "customFields.DEAL_SOURCE_C": "DEAL_SOURCE_C",
        "customFields.NOTES_C": "Notes",
    }
    assert ACCOUNT_FIELDS.check_mapping(ctx, mapping, headers) == []
    to_item = ACCOUNT_FIELDS.compile(ctx, mapping, headers)
    assert to_item(2, ["663abc", "95,000.00", "Outbound", ""]) == (
        {"key": "663abc", "customFields": {"CONTRACT_VALUE_C": 95000,
                                           "DEAL_SOURCE_C": "outbound"}}, [])
    item, problems = to_item(3, ["663abd", "", "", " "])
    assert item is None
    assert problems == [Problem(
        3, "Contract Value, DEAL_SOURCE_C, Notes", "",
        "No custom-field value on this row, so there is nothing to update. Fill in at least "
        "one, or remove the row.", "customFields")]
    item, problems = to_item(4, ["", "1", "", ""])
    assert item is None and [p.field for p in problems] == [key_field]


def test_bad_value_is_not_doubled_by_the_empty_row_rule(external: ConvertContext) -> None:
    item, problems = ACCOUNT_FIELDS.convert(
        2, {"rtp_aid": "663abc", "customFields.CONTRACT_VALUE_C": "n/a"}, external)
    assert item is None
    assert [p.field for p in problems] == ["customFields.CONTRACT_VALUE_C"]


def test_mapping_without_custom_fields(external: ConvertContext) -> None:
    problems = ACCOUNT_FIELDS.check_mapping(external, ColumnMapping({"rtp_aid": "Id"}), ["Id"])
    assert [p.field for p in problems] == ["customFields"]


def test_duplicate_keys(external: ConvertContext) -> None:
    tracker = DuplicateTracker(ACCOUNT_FIELDS, external, ColumnMapping({"rtp_aid": "Id"}))
    assert tracker.check(2, {"key": "a", "customFields": {"X_C": 1}}) == []
    (problem,) = tracker.check(4, {"key": "a", "customFields": {"X_C": 2}})
    assert (problem.row, problem.column, problem.value, problem.field) == (4, "Id", "a", "rtp_aid")
    assert "row 2" in problem.reason
    assert ACCOUNT_FIELDS.item_key({"key": "a"}) == "a"
