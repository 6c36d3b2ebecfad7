"""The results grid: model (qtmodeltester), filters, sort, copy, summary bar, export, retry,
and opening any run from the history."""

from __future__ import annotations

import csv

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QGuiApplication

from recotap_desktop.engine.report import MESSAGE_COLUMN, ROW_COLUMN, STATE_COLUMN
from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.results import ResultsWindow, open_results
from recotap_desktop.ui.results.data import PROBLEM_NAMES, ResultsData
from recotap_desktop.ui.results.model import ResultsModel
from recotap_desktop.ui.results.summary_bar import StateSummaryBar
from tests.factories import ACCOUNT_HEADERS
from tests.helpers.runs import sandbox_run

WAIT = 60_000
HEADERS = ["Name", "Amount", ROW_COLUMN, STATE_COLUMN, MESSAGE_COLUMN, "recotap_rtp_aid"]
STATES = ["created", "failed", "created", "invalid", "not sent", "updated", "created"]


def _data(n: int = 70) -> ResultsData:
    rows = [[f"Name {i}", str(1000 - i * 7), i + 2, STATES[i % len(STATES)],
             "" if STATES[i % len(STATES)] == "created" else f"reason {i % 3}", f"aid{i:04d}"]
            for i in range(n)]
    return ResultsData.from_report(HEADERS, rows, chunk=16)


def test_model_passes_qtmodeltester(qtmodeltester):
    model = ResultsModel()
    model.set_results(_data())
    qtmodeltester.check(model, force_py=True)


def test_filtered_and_sorted_model_passes_qtmodeltester(qtmodeltester):
    model = ResultsModel()
    model.set_results(_data())
    model.set_filter({"failed", "invalid"}, "reason")
    model.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model, force_py=True)
    model.set_filter(None, "")  # changes after the check are verified by the tester too
    model.sort(4, Qt.SortOrder.AscendingOrder)
    assert model.rowCount() == 70


def test_storage_filters_and_sorts():
    data = _data()
    assert data.counts() == {"created": 30, "updated": 10, "failed": 10, "invalid": 10,
                             "not sent": 10}
    assert len(data.messages) == 4  # "", reason 0..2: messages are interned
    model = ResultsModel()
    model.set_results(data)
    assert model.columnCount() == 6
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)] == \
        ["Row", "State", "Message", "Name", "Amount", "rtp_aid"]
    model.set_state_filter({"failed"})
    assert model.rowCount() == 10
    assert {model.index(r, 1).data() for r in range(model.rowCount())} == {"failed"}
    model.set_filter(PROBLEM_NAMES, "name 1")
    names = {model.index(r, 3).data() for r in range(model.rowCount())}
    assert names and all(n.startswith("Name 1") for n in names)
    model.set_filter(None, "AID0042")  # case-insensitive, any column
    assert model.rowCount() == 1 and model.index(0, 0).data() == "44"
    model.set_filter(None, "44")  # a row number
    assert "44" in {model.index(r, 0).data() for r in range(model.rowCount())}
    model.set_filter(None, "")
    model.sort(4, Qt.SortOrder.AscendingOrder)  # numbers sort by value
    amounts = [float(model.index(r, 4).data()) for r in range(model.rowCount())]
    assert amounts == sorted(amounts)
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert model.index(0, 1).data() == "created"
    model.set_state_filter({"not sent"})  # the sort order survives filtering
    rows = [int(model.index(r, 0).data()) for r in range(model.rowCount())]
    assert rows == sorted(rows)


def test_summary_bar_clicks_filter_and_ctrl_c_copies_tsv(qtbot, services):
    from recotap_desktop.ui.results.view import ResultsView

    view = ResultsView(services)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_results(_data())
    assert view.summary.counts()["created"] == 30
    rect = view.summary.segment_rect("failed")
    assert rect is not None and rect.width() >= 6
    qtbot.mouseClick(view.summary, Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.model.state_filter == frozenset({"failed"})
    assert view.model.rowCount() == 10
    assert "10 of 70" in view.count_label.text()
    rect2 = view.summary.segment_rect("invalid")
    qtbot.mouseClick(view.summary, Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, rect2.center())
    assert view.model.state_filter == frozenset({"failed", "invalid"})
    qtbot.mouseClick(view.summary, Qt.MouseButton.LeftButton, pos=QPoint(rect.center()))
    assert view.model.state_filter == frozenset({"failed"})
    qtbot.mouseClick(view.summary, Qt.MouseButton.LeftButton, pos=QPoint(rect.center()))
    assert view.model.state_filter is None

    view.search.setText("Name 3")
    qtbot.waitUntil(lambda: view.model.text_filter == "Name 3", timeout=WAIT)
    table = view.table
    selection = table.selectionModel()
    selection.select(view.model.index(0, 0), QItemSelectionModel.SelectionFlag.Select)
    selection.select(view.model.index(0, 3), QItemSelectionModel.SelectionFlag.Select)
    selection.select(view.model.index(1, 0), QItemSelectionModel.SelectionFlag.Select)
    selection.select(view.model.index(1, 3), QItemSelectionModel.SelectionFlag.Select)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    lines = text.split("\n")
    assert lines[0] == "Row\tName"
    assert lines[1].split("\t") == [str(view.model.index(0, 0).data()),
                                    view.model.index(0, 3).data()]
    assert len(lines) == 3

    # Palette-aware: a dark palette switches the colour set.
    bar = StateSummaryBar()
    qtbot.addWidget(bar)
    bar.set_counts({"created": 5, "failed": 1})
    assert "5 created" in bar.describe()


def test_open_from_history_export_and_retry(qtbot, services, sandbox, tmp_path):
    sandbox.faults.latency = 0.2
    _path, result = sandbox_run(services, sandbox, tmp_path, 600, cancel_after=100)
    sandbox.faults.latency = 0.0
    assert result.state is RunState.CANCELLED
    window = open_results(services, result.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 600 and not view.busy, timeout=WAIT)
    counts = view.model.results.counts()
    assert counts == services.history.counts(result.run_id)
    assert counts.get("not sent", 0) > 0
    assert view.retry_button.isEnabled()
    assert view.model.results.input_headers == list(ACCOUNT_HEADERS)

    out = tmp_path / "out" / "results.csv"
    out.parent.mkdir()
    job = view.export_to(out)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    with out.open(encoding="utf-8-sig") as fh:
        written = list(csv.reader(fh))
    assert len(written) == 601 and written[0][:4] == list(ACCOUNT_HEADERS)
    failures = out.with_name("results.failures.csv")
    with failures.open(encoding="utf-8-sig") as fh:
        assert len(list(csv.reader(fh))) - 1 == counts["not sent"]
    xlsx = tmp_path / "out" / "failures.xlsx"
    job = view.export_to(xlsx, failures_only=True)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert xlsx.stat().st_size > 0

    with qtbot.waitSignal(view.retried, timeout=WAIT) as blocker:
        qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    new_id = blocker.args[0]
    assert new_id != result.run_id
    qtbot.waitUntil(lambda: view.run_id == new_id and not view.busy, timeout=WAIT)
    assert view.model.results.counts() == {"created": counts["not sent"]}
    assert services.history.get_run(new_id).parent_run_id == result.run_id
    created = [a for a in sandbox.state.all_accounts()
               if str(a.get("externalId") or "").startswith("rg-")]
    assert len(created) == 600
    window.close()


def test_results_of_a_run_whose_file_is_gone(qtbot, services, sandbox, tmp_path):
    path, result = sandbox_run(services, sandbox, tmp_path, 30)
    path.unlink()
    window = ResultsWindow(services, result.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 30 and not view.busy, timeout=WAIT)
    assert view.model.results.input_headers == []
    assert "no longer" in view.status_label.text()
    assert view.model.results.counts() == {"created": 30}
    assert "rtp_aid" in [view.model.headerData(c, Qt.Orientation.Horizontal)
                         for c in range(view.model.columnCount())]


def test_retry_is_disabled_when_no_failed_row_can_be_retried(qtbot, services, sandbox,
                                                             tmp_path):
    """Issue 18, finding 6: rows that failed because they already exist are not retryable,
    so "Retry failed rows" is off (and says why) instead of offering a retry that sends
    nothing."""
    _first_path, first = sandbox_run(services, sandbox, tmp_path, 30)
    assert first.state is RunState.FINISHED
    _path, again = sandbox_run(services, sandbox, tmp_path, 30)  # every row exists now
    assert services.history.counts(again.run_id).get("failed") == 30
    window = open_results(services, again.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 30 and not view.busy, timeout=WAIT)
    assert view.model.results.retryable == 0
    assert not view.retry_button.isEnabled()
    assert view.retry_button.toolTip().startswith("Nothing to retry")
    window.close()


def test_no_header_twice_when_the_file_uses_the_api_names(qtbot, services, sandbox, tmp_path):
    """Issue 18, finding 6: a file with ``externalId`` and ``domain`` columns, and the ids
    Recotap answers with the same names: every grid header is distinct."""
    from recotap_desktop.ui.results.data import load_run

    _path, result = sandbox_run(
        services, sandbox, tmp_path, 5, headers=["externalId", "name", "domain"],
        rows=[[f"api-{i}", f"Api {i}", f"api{i}.example.com"] for i in range(5)])
    data = load_run(services.history, result.run_id)
    assert {"externalId", "domain"} <= set(data.id_keys)  # the collision is real
    titles = data.column_titles
    assert len(titles) == len(set(titles)), titles
    assert "Recotap externalId" in titles and "Recotap domain" in titles
