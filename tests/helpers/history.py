"""Run records for the history tests."""

from __future__ import annotations

import json

from recotap_desktop.store.history import RunInfo


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
