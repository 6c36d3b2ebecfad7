from __future__ import annotations

import pytest

from recotap_desktop.records import PIPELINES, ColumnMapping, ConvertContext, Grouper, Problem

HEADERS = ["Pipeline ID", "Pipeline", "Stage ID", "Stage"]


def _rows(ctx: ConvertContext, rows: list[list[str]]) -> Grouper:
    mapping = PIPELINES.automap(HEADERS, ctx)
    assert mapping.columns == {"pipelineId": "Pipeline ID", "pipelineLabel": "Pipeline",
                               "stageId": "Stage ID", "stageLabel": "Stage"}
    to_item = PIPELINES.compile(ctx, mapping, HEADERS)
    grouper = Grouper(PIPELINES, ctx, mapping)
    for row, values in enumerate(rows, start=2):
        item, problems = to_item(row, values)
        assert problems == [] and item is not None
        grouper.add(row, item)
    return grouper


def test_rows_grouped_by_pipeline(ctx: ConvertContext) -> None:
    grouper = _rows(ctx, [
        ["smb", "SMB Sales", "s1", "Prospecting"],
        ["ent", "Enterprise", "e1", "Qualify"],
        ["smb", "SMB Sales", "s2", "Proposal Sent"],
        ["smb", "SMB Sales", "s3", "Closed Won"],
    ])
    good, held = grouper.finish()
    assert held == []
    assert [(g.rows, g.item) for g in good] == [
        ([2, 4, 5], {"pipelineId": "smb", "pipelineLabel": "SMB Sales", "stages": [
            {"stageId": "s1", "stageLabel": "Prospecting"},
            {"stageId": "s2", "stageLabel": "Proposal Sent"},
            {"stageId": "s3", "stageLabel": "Closed Won"}]}),
        ([3], {"pipelineId": "ent", "pipelineLabel": "Enterprise",
               "stages": [{"stageId": "e1", "stageLabel": "Qualify"}]}),
    ]


def test_conflicting_label_names_both_rows(ctx: ConvertContext) -> None:
    mapping = PIPELINES.automap(HEADERS, ctx)
    to_item = PIPELINES.compile(ctx, mapping, HEADERS)
    grouper = Grouper(PIPELINES, ctx, mapping)
    a, _ = to_item(2, ["smb", "SMB Sales", "s1", "One"])
    b, _ = to_item(3, ["smb", "SMB", "s2", "Two"])
    c, _ = to_item(4, ["smb", "SMB Sales", "s3", "Three"])
    assert a and b and c
    assert grouper.add(2, a) == []
    assert grouper.add(3, b) == [Problem(
        3, "Pipeline", "SMB",
        "Pipeline “smb” has pipelineLabel “SMB Sales” on row 2 but “SMB” here. Make the rows "
        "agree; this pipeline is not sent until they do.", "pipelineLabel")]
    assert grouper.add(4, c) == []
    good, held = grouper.finish()
    assert good == []
    assert [(p.row, p.column, p.value) for p in held] == [(2, "Pipeline ID", "smb"),
                                                          (4, "Pipeline ID", "smb")]
    assert held[0].reason == ("Not sent: row(s) 3 disagree with this row about “smb”. Fix "
                              "those rows and import again.")


def test_duplicate_stage_names_both_rows(ctx: ConvertContext) -> None:
    mapping = ColumnMapping({"pipelineId": "P", "pipelineLabel": "PL", "stageId": "S",
                             "stageLabel": "SL"})
    to_item = PIPELINES.compile(ctx, mapping, ["P", "PL", "S", "SL"])
    grouper = Grouper(PIPELINES, ctx, mapping)
    a, _ = to_item(2, ["smb", "SMB", "s1", "One"])
    b, _ = to_item(6, ["smb", "SMB", "s1", "One again"])
    assert a and b
    grouper.add(2, a)
    (problem,) = grouper.add(6, b)
    assert (problem.row, problem.column, problem.value, problem.field) == (6, "S", "s1",
                                                                          "stageId")
    assert "on row 2 and here" in problem.reason
    assert grouper.groups()[0].item["stages"] == [{"stageId": "s1", "stageLabel": "One"}]


def test_pipeline_row_requires_everything(ctx: ConvertContext) -> None:
    item, problems = PIPELINES.convert(3, {"pipelineId": "p", "pipelineLabel": "",
                                           "stageId": "", "stageLabel": "x"}, ctx)
    assert item is None
    assert [(p.column, p.reason) for p in problems] == [
        ("pipelineLabel", "Pipeline name is required but this cell is empty. Fill it in."),
        ("stageId", "Stage ID is required but this cell is empty. Fill it in."),
    ]


def test_grouper_rejects_non_grouping_kind(ctx: ConvertContext) -> None:
    from recotap_desktop.records import DEALS

    with pytest.raises(ValueError, match="does not group rows"):
        Grouper(DEALS, ctx)
