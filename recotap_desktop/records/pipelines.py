"""Pipelines and their stages for ``POST /deal-stages`` (§9.10).

One row per stage; rows are grouped by ``pipelineId`` into
``{"pipelineId", "pipelineLabel", "stages": [{"stageId", "stageLabel"}, ...]}``
with stages in file order. Two rows giving one pipeline different labels, or the
same stage id twice in a pipeline, are errors naming both rows (see
:class:`~recotap_desktop.records.dedupe.Grouper`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    Compiled,
    ConvertContext,
    FieldType,
    Group,
    Problem,
    RecordKind,
    TargetField,
    merge_scalars,
    on_row,
)

__all__ = ["PIPELINES", "PipelinesKind"]

_FIELDS = [
    TargetField(
        "pipelineId", "Pipeline ID", FieldType.TEXT, True,
        "Your CRM's id for the pipeline. Rows with the same id form one pipeline.",
        aliases=("Pipeline ID", "Pipeline Id", "Deal Pipeline ID", "Pipeline Internal ID"),
    ),
    TargetField(
        "pipelineLabel", "Pipeline name", FieldType.TEXT, True,
        "The pipeline's display name; the same on every row of the pipeline.",
        aliases=("Pipeline", "Pipeline Name", "Pipeline Label", "Deal Pipeline"),
    ),
    TargetField(
        "stageId", "Stage ID", FieldType.TEXT, True,
        "Your CRM's id for the stage; unique within its pipeline.",
        aliases=("Stage ID", "Stage Id", "Deal Stage ID", "Stage Internal ID"),
    ),
    TargetField(
        "stageLabel", "Stage name", FieldType.TEXT, True, "The stage's display name.",
        aliases=("Stage", "Stage Name", "Stage Label", "Deal Stage", "Deal Stage Name"),
    ),
]


class PipelinesKind(RecordKind):
    """Pipeline catalogue (create-only; an existing ``pipelineId`` is rejected)."""

    name = "pipelines"
    title = "Pipelines and stages"
    batch_size = 20
    groups_rows = True
    key_field = "pipelineId"
    header_prefixes = ("deal", "pipeline")

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        return list(_FIELDS)

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        if "pipelineId" not in flat:
            return None
        stage = {k: flat[k] for k in ("stageId", "stageLabel") if k in flat}
        item: dict[str, Any] = {"pipelineId": flat["pipelineId"]}
        if "pipelineLabel" in flat:
            item["pipelineLabel"] = flat["pipelineLabel"]
        item["stages"] = [stage]
        return item

    def start_group(self, key: str, row: int, item: dict[str, Any]) -> Group:
        group = super().start_group(key, row, item)
        for stage in item["stages"]:
            group.seen[stage["stageId"]] = row
        return group

    def merge(
        self, group: Group | dict[str, Any], item: dict[str, Any], row: int
    ) -> list[Problem]:
        group = self._as_group(group)
        problems: list[Problem] = []
        new_stages = []
        for stage in item["stages"]:
            stage_id = stage["stageId"]
            first = group.seen.get(stage_id)
            if first is not None:
                problems.append(
                    Problem(
                        row, "", stage_id,
                        f"Stage ID “{stage_id}” appears twice in pipeline “{group.key}”: "
                        f"{on_row(first)} and here. Stage IDs must be unique within a pipeline; "
                        "remove or rename one. The pipeline is not sent until then.",
                        "stageId",
                    )
                )
            else:
                new_stages.append(stage)
        problems.extend(
            p for p in merge_scalars(group, item, row, ("stages",), "Pipeline")
        )
        if problems:
            return problems
        for stage in new_stages:
            group.seen[stage["stageId"]] = row
            group.item["stages"].append(stage)
        return []


PIPELINES = PipelinesKind()
