"""Run records for the history tests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from recotap_desktop.store.history import History, RowOutcome, RunInfo


def run_info(**overrides: object) -> RunInfo:
    """A plausible :class:`RunInfo` (an accounts import of 10 rows), with ``overrides``."""
    values: dict[str, object] = dict(
        kind="accounts",
        file_name="accounts.csv",
        file_path="/home/me/accounts.csv",
        file_sha256="ab" * 32,
        mapping_json=json.dumps({"columns": {"name": "Company"}}),
        options_json=json.dumps({"upsert": False, "segment_id": "seg_1"}),
        profile="Production",
        edition="crm",
        host="eapi.recotap.com",
        total_rows=10,
    )
    values.update(overrides)
    return RunInfo(**values)  # type: ignore[arg-type]


def answer_batch(history: History, run_id: int, batch_no: int,
                 outcomes: Sequence[RowOutcome]) -> None:
    """Record the answer of batch ``batch_no`` as the runner does: its outcomes and
    "answered" in one journal write."""
    history.write_journal(run_id, answered=[(batch_no, outcomes)])
