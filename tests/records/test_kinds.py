from __future__ import annotations

from typing import Any

import pytest

from recotap_desktop.domain.editions import CRM, EXTERNAL
from recotap_desktop.records import (
    KINDS,
    ColumnMapping,
    ConvertContext,
    Problem,
    RecordKind,
    get_kind,
)


def test_kinds_registry() -> None:
    assert list(KINDS) == ["accounts", "deals", "pipelines", "activities", "id-mappings",
                           "account-fields"]
    assert {k: v.batch_size for k, v in KINDS.items()} == {
        "accounts": 100, "deals": 100, "pipelines": 20, "activities": 50, "id-mappings": 100,
        "account-fields": 1}
    assert {k for k, v in KINDS.items() if v.groups_rows} == {"pipelines", "activities"}
    assert get_kind("deals") is KINDS["deals"]
    with pytest.raises(ValueError, match="Unknown record kind 'nope'; choose one of: accounts"):
        get_kind("nope")


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_fields_are_described(kind: RecordKind, ctx: ConvertContext) -> None:
    fields = kind.fields(ctx)
    names = [f.name for f in fields]
    assert len(names) == len(set(names))
    for f in fields:
        assert f.label and f.help and f.help[0].isupper() and f.help.endswith(".")
    assert any(f.required for f in fields)
    assert kind.title


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_mapping_by_field_names_converts(kind: RecordKind, ctx: ConvertContext) -> None:
    """Every kind accepts a file whose headers are its field names (round trip of automap)."""
    fields = kind.fields(ctx)
    headers = [f.name for f in fields]
    mapping = kind.automap(headers, ctx)
    assert mapping.columns == {n: n for n in headers}
    assert kind.check_mapping(ctx, mapping, headers) == []


def test_convert_empty_row_lists_all_required(ctx: ConvertContext) -> None:
    for kind in KINDS.values():
        item, problems = kind.convert(2, {}, ctx)
        assert item is None
        required = {f.name for f in kind.fields(ctx) if f.required}
        assert required <= {p.field for p in problems}
        assert all(isinstance(p, Problem) and p.row == 2 for p in problems)


def test_context_validates_date_order() -> None:
    with pytest.raises(ValueError, match="date_order"):
        ConvertContext(CRM, date_order="YDM")
    ctx = ConvertContext(EXTERNAL, date_order="DMY")
    item, _ = get_kind("deals").convert(
        2, {"externalDealId": "d", "name": "n", "startDate": "03/02/2026"}, ctx)
    assert item is not None and item["startDate"] == "2026-02-03T00:00:00Z"


def test_problem_text() -> None:
    p = Problem(3, "Website", "acme", "It has no dot.", "domain")
    assert str(p) == "Row 3, column “Website”: It has no dot."
    assert str(Problem(0, "Domain", "", "Map it.")) == "Mapping, column “Domain”: Map it."


def test_unknown_mapped_fields_are_ignored_by_compile(ctx: ConvertContext) -> None:
    kind = get_kind("id-mappings")
    mapping = ColumnMapping({"domain": "D", "externalId": "E", "bogus": "D", "x": "missing"})
    to_item = kind.compile(ctx, mapping, ["D", "E"])
    assert to_item(2, ["acme.com", "1"]) == ({"domain": "acme.com", "externalId": "1"}, [])


def test_tracker_without_context_uses_strictest_keys() -> None:
    from recotap_desktop.records.base import DuplicateTracker as FromBase
    from recotap_desktop.records.dedupe import DuplicateTracker

    assert FromBase is DuplicateTracker
    tracker = DuplicateTracker(get_kind("accounts"))
    assert tracker.check(2, {"externalId": "x", "domain": "a.com"}) == []
    (problem,) = tracker.check(3, {"externalId": "x", "domain": "b.com"})
    assert (problem.column, problem.field) == ("External ID", "externalId")
    assert len(tracker) == 3


def test_merge_accepts_a_plain_payload_dict(ctx: ConvertContext) -> None:
    """The original contract: merge(into_item, item, row) without a Group."""
    kind = get_kind("pipelines")
    into: dict[str, Any] = {"pipelineId": "p", "pipelineLabel": "P", "stages": [{"stageId": "s1",
                                                                  "stageLabel": "One"}]}
    assert kind.merge(into, {"pipelineId": "p", "pipelineLabel": "P",
                             "stages": [{"stageId": "s2", "stageLabel": "Two"}]}, 3) == []
    assert [s["stageId"] for s in into["stages"]] == ["s1", "s2"]
    (dup,) = kind.merge(into, {"pipelineId": "p", "pipelineLabel": "P",
                               "stages": [{"stageId": "s1", "stageLabel": "Again"}]}, 4)
    assert "on an earlier row and here" in dup.reason and dup.row == 4
    (label,) = kind.merge(into, {"pipelineId": "p", "pipelineLabel": "Q",
                                 "stages": [{"stageId": "s9", "stageLabel": "Nine"}]}, 5)
    assert label.field == "pipelineLabel" and "on an earlier row" in label.reason
    assert len(into["stages"]) == 2

    activities = get_kind("activities")
    act: dict[str, Any] = {"externalActivityId": "a", "activityType": "call",
                           "contacts": [{"email": "x@a.com"}]}
    assert activities.merge(act, {"externalActivityId": "a", "activityType": "call",
                                  "contacts": [{"email": "y@a.com"}]}, 3) == []
    (again,) = activities.merge(act, {"externalActivityId": "a", "activityType": "call",
                                      "contacts": [{"email": "X@a.com"}]}, 4)
    assert again.field == "contacts.email" and len(act["contacts"]) == 2


def test_non_grouping_kinds_do_not_merge(ctx: ConvertContext) -> None:
    with pytest.raises(NotImplementedError):
        get_kind("deals").merge({}, {}, 2)


def test_the_kinds_that_need_custom_fields_say_so_themselves() -> None:
    """Issue 17, item 2: which kinds load the custom fields is said once, by the kind."""
    from recotap_desktop.records import KINDS, needs_custom_fields

    assert {name for name in KINDS if needs_custom_fields(name)} == {"accounts",
                                                                      "account-fields"}
    assert not needs_custom_fields("export")  # a run kind that is no import
