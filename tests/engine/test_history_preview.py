"""Deals, pipelines and activities are not listed by the API: their preview is what this
app sent before to the same connection, and an answer to a repeated request is read
against it (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recotap_desktop.engine.plan import build_plan
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.senders import send_activities
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.history import History
from tests.factories import (
    ACTIVITY_HEADERS,
    DEAL_HEADERS,
    activity_rows,
    deal_rows,
    write_csv,
)
from tests.helpers.runs import import_job, row_states, sandbox_conn


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _planned(history: History, run_id: int) -> dict[int, str]:
    return {r: (o.ids or {}).get("planned", "") for r, o in history.outcomes(run_id).items()}


def test_deals_preview_says_what_was_sent_before(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    conn = sandbox_conn(small_sandbox)
    rows = deal_rows(30, prefix="hp")
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, rows)
    first = ImportRunner(build_plan(import_job("deals", path, dry_run=True)), conn,
                         history).run()
    assert set(_planned(history, first.run_id).values()) == {"not sent before"}
    sent = ImportRunner(build_plan(import_job("deals", path)), conn, history).run()
    assert set(_planned(history, sent.run_id).values()) == {"not sent before"}

    rows[0][2] = "99999"  # one amount changed
    path = write_csv(tmp_path / "deals2.csv", DEAL_HEADERS, rows)
    dry = ImportRunner(build_plan(import_job("deals", path, dry_run=True)), conn,
                       history).run()
    planned = _planned(history, dry.run_id)
    assert planned[2] == "sent before, other values"
    assert set(v for r, v in planned.items() if r != 2) == {"sent before, same values"}
    changes = history.outcomes(dry.run_id)[3].ids["changes"]
    assert f"run {sent.run_id}" in changes
    # another connection knows nothing of it
    with SandboxServer(port=0, accounts=5) as other:
        elsewhere = ImportRunner(build_plan(import_job("deals", path, dry_run=True)),
                                 sandbox_conn(other), history).run()
        assert set(_planned(history, elsewhere.run_id).values()) == {"not sent before"}


def _answer_lost_once(client, items, options, repeated):  # type: ignore[no-untyped-def]
    send_activities(client, items, options, repeated)
    return send_activities(client, items, options, True)


def test_an_activity_sent_by_an_earlier_run_is_never_created_by_a_repeat(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    conn = sandbox_conn(small_sandbox)
    rows = activity_rows(40, prefix="ha")
    path = write_csv(tmp_path / "act.csv", ACTIVITY_HEADERS, rows[:20])
    first = ImportRunner(build_plan(import_job("activities", path)), conn, history).run()
    assert set(row_states(history, first.run_id).values()) == {"created"}
    # the whole file now: 20 sent before, 20 new; every answer is lost once and repeated
    path = write_csv(tmp_path / "act2.csv", ACTIVITY_HEADERS, rows)
    again = ImportRunner(build_plan(import_job("activities", path)), conn, history,
                         sender=_answer_lost_once).run()
    states = row_states(history, again.run_id)
    assert [states[r] for r in range(2, 22)] == ["failed"] * 20  # they existed before
    assert [states[r] for r in range(22, 42)] == ["created"] * 20  # created by this run
    message = history.outcomes(again.run_id)[2].message
    assert f"run {first.run_id}" in message and "did not create it" in message
