"""Per-item statuses from the server map to row states; anything else is unknown."""

from __future__ import annotations

import pytest

from recotap_desktop.engine.states import RowState, state_from_server


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("created", RowState.CREATED),
        (" Updated ", RowState.UPDATED),
        ("UPSERTED", RowState.UPSERTED),
        ("failed", RowState.FAILED),
        ("skipped", RowState.SKIPPED),
    ],
)
def test_server_statuses_map_to_row_states(status: str, state: RowState) -> None:
    assert state_from_server(status) is state


@pytest.mark.parametrize("status", ["invalid", "not sent", "NOT SENT", "", "deleted", "created!"])
def test_client_only_and_unknown_statuses_are_none(status: str) -> None:
    assert state_from_server(status) is None
