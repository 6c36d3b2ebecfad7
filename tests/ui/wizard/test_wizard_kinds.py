"""The import wizard driven with qtbot against the sandbox over real sockets.

For every import kind: file → auto-mapped columns → check page with the expected
invalid rows → run → results grid whose counts match the sandbox's state. Then faults,
cancel + resume, and a file with every kind of problem.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWizard

from recotap_desktop.engine.jobs import resume
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import Faults, SandboxServer
from recotap_desktop.ui.results.view import ResultsWindow
from recotap_desktop.ui.wizard import ImportWizard
from recotap_desktop.ui.wizard.wizard import OPTIONS_PAGE, RESULTS_PAGE, RUN_PAGE
from tests.factories import (
    ACCOUNT_FIELD_HEADERS,
    ACCOUNT_HEADERS,
    ACTIVITY_HEADERS,
    DEAL_HEADERS,
    ID_MAPPING_HEADERS,
    PIPELINE_HEADERS,
    account_field_rows,
    account_rows,
    activity_rows,
    deal_rows,
    id_mapping_rows,
    pipeline_rows,
    write_csv,
)
from tests.helpers.wizard import (
    COMMIT,
    FAST_RETRY,
    NEXT,
    WAIT,
    click,
    open_wizard,
    to_check,
)


# ---------------------------------------------------------------------- driving
def run_to_results(qtbot: Any, wizard: ImportWizard, *, exclude: bool) -> None:
    """From the check page to the results grid."""
    if exclude:
        assert not wizard.button(NEXT).isEnabled(), "Next must wait for the explicit choice"
        wizard.check_page.exclude_check.setChecked(True)
    click(qtbot, wizard)
    assert wizard.currentId() == OPTIONS_PAGE
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert not wizard.button(COMMIT).isEnabled(), "sending needs the confirmation"
    rows = wizard.ctx.plan.rows_to_send
    assert wizard.button(COMMIT).text().replace("&", "") == f"Send {rows:,} rows"
    wizard.options_page.confirm_check.setChecked(True)
    click(qtbot, wizard, COMMIT)
    assert wizard.currentId() == RUN_PAGE
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible() or not \
        wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    click(qtbot, wizard)
    assert wizard.currentId() == RESULTS_PAGE
    view = wizard.results_view
    qtbot.waitUntil(lambda: view.run_id == wizard.ctx.run_id and view.model.rowCount() > 0
                    and not view.busy, timeout=WAIT)


def grid_states(wizard: ImportWizard) -> dict[int, str]:
    data = wizard.results_view.model.results
    return {data.rows[i]: data.state_names[data.states[i]] for i in range(len(data))}


def grid_column(wizard: ImportWizard, header: str) -> dict[int, str]:
    data = wizard.results_view.model.results
    c = data.input_headers.index(header)
    return {data.rows[i]: data.inputs[c][i] for i in range(len(data))}


# ---------------------------------------------------------------------- per kind
KindCase = tuple[Path, set[int], Callable[[SandboxServer, ImportWizard], None]]


def _accounts(tmp: Path, server: SandboxServer) -> KindCase:
    rows = account_rows(30, prefix="wa")
    rows[4][2] = "not a website"
    rows[9][0] = rows[8][0]  # duplicate external id
    path = write_csv(tmp / "accounts.csv", ACCOUNT_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        ids = grid_column(wizard, "Record ID")
        for row, state in states.items():
            acc = server.state.account_by_external_id(ids[row])
            if state == "created":
                assert acc is not None and acc["name"] == f"Testco wa {row - 2}"
        assert server.state.account_by_external_id(ids[6]) is None  # the bad domain
        assert sum(1 for s in states.values() if s == "created") == 28

    return path, {6, 11}, verify


def _deals(tmp: Path, server: SandboxServer) -> KindCase:
    rows = deal_rows(25, prefix="wd")
    rows[3][2] = "abc"
    path = write_csv(tmp / "deals.csv", DEAL_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        ids = grid_column(wizard, "Deal ID")
        assert {ids[r] for r, s in states.items() if s == "upserted"} == set(server.state.deals)
        assert len(server.state.deals) == 24

    return path, {5}, verify


def _pipelines(tmp: Path, server: SandboxServer) -> KindCase:
    rows = pipeline_rows(3, 3, prefix="wp")
    rows[4][2] = ""  # a stage without id
    path = write_csv(tmp / "pipelines.csv", PIPELINE_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        ids = grid_column(wizard, "Pipeline ID")
        created = {ids[r] for r, s in states.items() if s == "created"}
        assert created == set(server.state.pipelines) == {"wp-pipe-0", "wp-pipe-1", "wp-pipe-2"}
        for pid in created:
            stages = {s["stageId"] for s in server.state.pipelines[pid]["stages"]}
            assert stages == {r[2] for r in rows if r[0] == pid and r[2]}

    return path, {6}, verify


def _activities(tmp: Path, server: SandboxServer) -> KindCase:
    rows = activity_rows(20, prefix="wv")
    rows[2][1] = "meeting"
    path = write_csv(tmp / "activities.csv", ACTIVITY_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        ids = grid_column(wizard, "Activity ID")
        assert {ids[r] for r, s in states.items() if s == "created"} == \
            set(server.state.activities)
        assert len(server.state.activities) == 19

    return path, {4}, verify


def _id_mappings(tmp: Path, server: SandboxServer) -> KindCase:
    domains = [a["domain"] for a in server.state.all_accounts()[:10]]
    rows = id_mapping_rows(domains, prefix="wm")
    rows.insert(5, ["not a site", "wm-bad"])
    path = write_csv(tmp / "id-mappings.csv", ID_MAPPING_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        ids = grid_column(wizard, "Record ID")
        ok = {r for r, s in states.items() if s in ("created", "updated", "upserted")}
        assert len(ok) == 10
        for r in ok:
            assert server.state.account_by_external_id(ids[r]) is not None
        assert states[7] == "invalid"

    return path, {7}, verify


def _account_fields(tmp: Path, server: SandboxServer) -> KindCase:
    external = [a["externalId"] for a in server.state.all_accounts() if a["externalId"]][:8]
    rows = account_field_rows(external, "Customer")
    rows[2][1] = "lots"  # not a number
    path = write_csv(tmp / "account-fields.csv", ACCOUNT_FIELD_HEADERS, rows)

    def verify(server: SandboxServer, wizard: ImportWizard) -> None:
        states = grid_states(wizard)
        for i, (ext, value, stage) in enumerate(rows):
            acc = server.state.account_by_external_id(ext)
            assert acc is not None
            if states[i + 2] == "updated":
                assert acc["customFields"]["CONTRACT_VALUE_C"] == float(value)
                assert acc["customFields"]["CRM_STAGE_C"] == stage
            else:
                assert states[i + 2] == "invalid" and i == 2
        assert sum(1 for s in states.values() if s == "updated") == 7

    return path, {4}, verify


CASES = {
    "accounts": _accounts,
    "deals": _deals,
    "pipelines": _pipelines,
    "activities": _activities,
    "id-mappings": _id_mappings,
    "account-fields": _account_fields,
}


@pytest.mark.parametrize("kind", list(CASES))
def test_full_wizard_run_for_each_kind(qtbot, services, sandbox, tmp_path, kind):
    path, invalid_rows, verify = CASES[kind](tmp_path, sandbox)
    wizard = open_wizard(qtbot, services, kind, path)
    to_check(qtbot, wizard)
    plan = wizard.ctx.plan
    problem_rows = {p.row for p in wizard.check_page.model.problems if p.is_error}
    assert invalid_rows <= problem_rows
    assert plan.invalid_rows >= len(invalid_rows)
    assert wizard.check_page.count_labels["invalid"].text() == f"{plan.invalid_rows:,}"
    run_to_results(qtbot, wizard, exclude=True)

    result = wizard.ctx.run_result
    assert result.state is RunState.FINISHED
    view = wizard.results_view
    history_counts = services.history.counts(result.run_id)
    assert view.model.results.counts() == history_counts == view.summary.counts()
    assert view.model.rowCount() == plan.total_rows
    states = grid_states(wizard)
    for row in invalid_rows:
        assert states[row] == "invalid"
    verify(sandbox, wizard)


# ---------------------------------------------------------------------- faults
def test_run_with_faults_completes_and_grid_matches_sandbox(qtbot, services, sandbox, tmp_path):
    rows = account_rows(600, prefix="wf")
    path = write_csv(tmp_path / "faulty.csv", ACCOUNT_HEADERS, rows)
    wizard = open_wizard(qtbot, services, "accounts", path, client_kwargs=FAST_RETRY)
    to_check(qtbot, wizard)
    sandbox.faults = Faults(rate_5xx=0.15, rate_429=0.15, rate_drop_before=0.1,
                            retry_after=0.01, seed=3)
    run_to_results(qtbot, wizard, exclude=False)
    sandbox.faults = Faults()
    assert sum(sandbox.state.fault_counts.values()) > 0
    result = wizard.ctx.run_result
    assert result.state is RunState.FINISHED
    states = grid_states(wizard)
    ids = grid_column(wizard, "Record ID")
    assert len(states) == 600
    for row, state in states.items():
        exists = sandbox.state.account_by_external_id(ids[row]) is not None
        assert exists == (state == "created"), (row, state)
    assert set(states.values()) == {"created"}


# ---------------------------------------------------------------------- cancel + resume
def test_cancel_mid_run_then_resume_from_history(qtbot, services, sandbox, tmp_path):
    rows = account_rows(1200, prefix="wc")
    path = write_csv(tmp_path / "slow.csv", ACCOUNT_HEADERS, rows)
    wizard = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    wizard.options_page.concurrency_spin.setValue(2)
    wizard.options_page.confirm_check.setChecked(True)
    sandbox.faults.latency = 0.05
    click(qtbot, wizard, COMMIT)
    page = wizard.run_page
    qtbot.waitUntil(lambda: page.progress.value() >= 200, timeout=WAIT)
    # Esc while running asks how to stop; "Finish batches in flight".
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    box = page.cancel_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert wizard.isVisible(), "closing during a run asks first"
    qtbot.mouseClick(page.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=WAIT)
    result = wizard.ctx.run_result
    assert result.state is RunState.CANCELLED
    first = services.history.counts(result.run_id)
    assert first.get("not sent", 0) > 0 and first.get("created", 0) >= 200
    assert "resumed" in page.message.text()
    sandbox.faults.latency = 0.0

    spec = services.connection_spec(services.active_profile)
    again = resume(services.history, result.run_id, spec)
    assert again.state is RunState.FINISHED
    window = ResultsWindow(services, result.run_id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.view.model.rowCount() == 1200 and not window.view.busy,
                    timeout=WAIT)
    assert window.view.model.results.counts() == {"created": 1200}
    created = [a for a in sandbox.state.all_accounts()
               if str(a.get("externalId") or "").startswith("wc-")]
    assert len(created) == 1200


# ---------------------------------------------------------------------- problems
def test_every_kind_of_problem_is_listed_with_row_and_column(qtbot, services, sandbox, tmp_path):
    headers = (*ACCOUNT_HEADERS, "LinkedIn Company Page", "CRM Stage", "Contract Value")
    base = [[*r, "", "Customer", "100"] for r in account_rows(12, prefix="wq")]
    base[0][2] = "not a website"            # row 2: bad domain (error)
    base[1][1] = ""                          # row 3: required name empty (error)
    base[3][0] = base[2][0]                  # row 5: duplicate external id (error)
    base[4][2] = base[5][2]                  # row 6/7: duplicate domain (error)
    base[6][4] = "linkedin is great"         # row 8: bad URL
    base[7][5] = "Not a stage"               # row 9: unknown option of a choice field
    base[8][6] = "lots"                      # row 10: not a number
    path = write_csv(tmp_path / "problems.csv", headers, base)
    wizard = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, wizard)
    problems = {(p.row, p.column) for p in wizard.check_page.model.problems}
    expected = {(2, "Company Domain Name"), (3, "Company name"), (5, "Record ID"),
                (8, "LinkedIn Company Page"), (9, "CRM Stage"), (10, "Contract Value")}
    assert expected <= problems, expected - problems
    assert any(r in (6, 7) and c == "Company Domain Name" for r, c in problems)
    # Shown in the grid, filterable and sortable.
    proxy = wizard.check_page.proxy
    assert proxy.rowCount() == len(wizard.check_page.model.problems)
    qtbot.keyClicks(wizard.check_page.filter_edit, "Contract")
    assert proxy.rowCount() >= 1
    assert all("Contract" in proxy.index(r, 1).data() for r in range(proxy.rowCount()))
    wizard.check_page.filter_edit.clear()
    wizard.check_page.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, 0).data() == max(r for r, _c in problems)
    # Export the list (formula-safe CSV).
    out = tmp_path / "problems-out.csv"
    job = wizard.check_page.export_problems(out)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    with out.open(encoding="utf-8-sig") as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["Row", "Column", "Value", "Reason", "Severity"]
    assert len(written) - 1 == len(wizard.check_page.model.problems)


def test_unreadable_file_shows_the_readers_message_and_blocks_next(qtbot, services, tmp_path):
    bad = tmp_path / "picture.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    wizard = open_wizard(qtbot, services, "accounts", bad)
    page = wizard.file_page
    qtbot.waitUntil(lambda: page.problem is not None, timeout=WAIT)
    assert "PNG" in page.problem_label.text()
    assert page.problem_label.isVisible()
    assert not wizard.button(NEXT).isEnabled()


# ---------------------------------------------------------------------- the same file again
def test_sending_the_same_file_again_warns_on_the_options_page(qtbot, services, sandbox,
                                                                tmp_path):
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(12, prefix="ag"))
    first = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, first)
    click(qtbot, first)
    qtbot.waitUntil(lambda: first.ctx.spec is not None, timeout=WAIT)
    label = first.options_page.earlier_label
    assert label.isHidden() and label.text() == ""  # never sent: no warning
    first.options_page.dry_run_check.setChecked(True)  # a dry run sends nothing ...
    first.options_page.confirm_check.setChecked(True)
    click(qtbot, first, COMMIT)
    qtbot.waitUntil(first.run_page.isComplete, timeout=WAIT)
    first.close()

    second = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, second)
    click(qtbot, second)
    qtbot.waitUntil(lambda: second.ctx.spec is not None, timeout=WAIT)
    assert second.options_page.earlier_label.isHidden()  # ... so it does not count
    second.options_page.confirm_check.setChecked(True)
    click(qtbot, second, COMMIT)
    qtbot.waitUntil(second.run_page.isComplete, timeout=WAIT)
    run_id = second.ctx.run_id
    second.close()

    third = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, third)
    click(qtbot, third)
    qtbot.waitUntil(lambda: third.ctx.spec is not None, timeout=WAIT)
    label = third.options_page.earlier_label
    assert label.isVisible()
    text = label.text()
    assert f"already sent to {services.active_profile.name}: run {run_id} " in text
    assert "12 created" in text and "already exists" in text
    # another file (one more row) is not the same file
    other = write_csv(tmp_path / "other.csv", ACCOUNT_HEADERS, account_rows(13, prefix="ag"))
    fourth = open_wizard(qtbot, services, "accounts", other)
    to_check(qtbot, fourth)
    click(qtbot, fourth)
    qtbot.waitUntil(lambda: fourth.ctx.spec is not None, timeout=WAIT)
    assert fourth.options_page.earlier_label.isHidden()
