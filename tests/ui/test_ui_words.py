"""Words and states that match what happened (issue 18, finding 6), one test per item."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import PROFILE

from recotap_desktop.engine.export import EXPORT_KIND
from recotap_desktop.store.history import History, RunInfo
from recotap_desktop.ui.run_format import HISTORY_COLUMNS
from tests.helpers.windows import show_main_window

WAIT = 30_000


def _rows_cell(history: History, run_id: int) -> str:
    column = next(c for c in HISTORY_COLUMNS if c.title == "Rows")
    return column.text(history.get_run(run_id))


def test_a_zero_row_export_shows_0_rows_in_history(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    try:
        run_id = history.create_run(RunInfo(kind=EXPORT_KIND, file_name="delta.csv"))
        history.finish_run(run_id, "finished", {"exported": 0})  # a delta with nothing new
        assert _rows_cell(history, run_id) == "0 rows"
    finally:
        history.close()


def test_a_run_the_server_answered_updates_last_verified(qtbot, services) -> None:
    window = show_main_window(qtbot, services)
    assert window.card.verified_label.text() == "never"
    history = services.history
    dry = history.create_run(RunInfo(kind="accounts", profile=PROFILE, total_rows=3))
    history.finish_run(dry, "finished", {"not sent": 3})  # a dry run asked the server nothing
    window.refresh_history()
    assert window.card.verified_label.text() == "never"
    assert services.settings.get_profile(PROFILE).last_verified is None

    sent = history.create_run(RunInfo(kind="accounts", profile=PROFILE, total_rows=3))
    history.finish_run(sent, "finished", {"created": 2, "failed": 1})
    window.refresh_history()
    assert window.card.verified_label.text() != "never"
    assert services.settings.get_profile(PROFILE).last_verified


def test_run_page_after_500s_shows_no_full_bar_and_true_counters(qtbot, services, sandbox,
                                                                  tmp_path) -> None:
    """Issue 18, finding 6: a run stopped by 500s does not show a full bar next to '150 not
    sent'; it counts requests and retries in the right units."""
    from recotap_desktop.api import RetryPolicy
    from recotap_desktop.engine.states import RunState
    from recotap_desktop.sandbox import Faults
    from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
    from tests.helpers.wizard import COMMIT, click, open_wizard, to_check

    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(150, prefix="w5"))
    fast = {"retry": RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02,
                                 max_total=30)}
    wizard = open_wizard(qtbot, services, "accounts", path, client_kwargs=fast)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    wizard.options_page.concurrency_spin.setValue(1)
    wizard.options_page.confirm_check.setChecked(True)
    sandbox.faults = Faults(rate_5xx=1.0, seed=2)
    click(qtbot, wizard, COMMIT)
    page = wizard.run_page
    qtbot.waitUntil(page.isComplete, timeout=WAIT)
    sandbox.faults = Faults()
    result = wizard.ctx.run_result
    assert result.state is RunState.ABORTED
    assert result.counts == {"not sent": 150}
    assert page.progress.value() == 0 and page.progress.maximum() == 150  # not a full bar
    text = page.numbers.text()
    assert "0 of 150 rows have a final state (150 not sent)" in text, text
    assert "1 request, 2 retries" in text, text  # one request, tried 3 times
    assert "requests." not in text
    page.grab().save(str(tmp_path / "run-page-500.png"))


def test_after_a_resume_the_old_500_no_longer_shows_above_finished(qtbot, services, sandbox,
                                                                    tmp_path) -> None:
    from recotap_desktop.api import RetryPolicy
    from recotap_desktop.engine.jobs import resume
    from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
    from recotap_desktop.engine.runner import ImportRunner
    from recotap_desktop.engine.states import RunState
    from recotap_desktop.files import sniff
    from recotap_desktop.records import ConvertContext, get_kind
    from recotap_desktop.sandbox import Faults
    from recotap_desktop.ui.results import open_results
    from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(40, prefix="rs5"))
    spec = services.connection_spec(services.settings.get_profile(PROFILE))
    mapping = get_kind("accounts").automap(sniff(path).headers,
                                           ConvertContext.build(spec.rules, []))
    job = ImportJob(kind="accounts", path=path, mapping=mapping, rules=spec.rules,
                    options=ImportOptions(concurrency=1))
    fast = {"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02,
                                 max_total=30)}
    sandbox.faults = Faults(rate_5xx=1.0, seed=4)
    first = ImportRunner(build_plan(job), spec, services.history, client_kwargs=fast).run()
    sandbox.faults = Faults()
    assert first.state is RunState.ABORTED
    assert "server problem" in services.history.get_run(first.run_id).note
    again = resume(services.history, first.run_id, spec, client_kwargs=fast)
    assert again.state is RunState.FINISHED and again.run_id == first.run_id
    window = open_results(services, first.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 40 and not view.busy, timeout=WAIT)
    title = view.title_label.text()
    assert "finished" in title and "server problem" not in title and "503" not in title, title
    window.close()


def test_activities_results_count_rows_and_activities_like_the_options_page(
        qtbot, services, sandbox, tmp_path) -> None:
    from tests.factories import ACTIVITY_HEADERS, activity_rows, write_csv
    from tests.helpers.wizard import COMMIT, click, open_wizard, to_check

    activities = activity_rows(59, prefix="grp")
    rows = []
    for i in range(117):  # one row per contact, two contacts per activity: 59 activities
        row = list(activities[i // 2])
        row[7], row[8] = f"c{i}@acct.example.org", f"Contact {i}"
        rows.append(row)
    path = write_csv(tmp_path / "acts.csv", ACTIVITY_HEADERS, rows)
    wizard = open_wizard(qtbot, services, "activities", path)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert wizard.ctx.plan.items == 59
    wizard.options_page.confirm_check.setChecked(True)
    click(qtbot, wizard, COMMIT)
    page = wizard.run_page
    qtbot.waitUntil(page.isComplete, timeout=WAIT)
    assert wizard.ctx.run_result.counts == {"created": 117}
    assert "117 rows as 59 sales activities: 59 created." in page.message.text()
    assert len(sandbox.state.activities) == 59
