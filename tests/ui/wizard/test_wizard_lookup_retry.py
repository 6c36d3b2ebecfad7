"""A failed server lookup never dead-ends the wizard (issue 18, finding 3).

The sandbox answers 500 or 503 to the custom-field lookup the Columns and Options pages depend
on; both pages show the error with a Retry button; once the server recovers, Retry (or
entering the page again) asks afresh and the rows can be sent.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from recotap_desktop.ui.wizard.wizard import CHECK_PAGE, COLUMNS_PAGE, OPTIONS_PAGE
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.helpers.wizard import COMMIT, FAST_RETRY, NEXT, WAIT, click, open_wizard

BACK = QWizard.WizardButton.BackButton


def _failing_lookup_to_options(qtbot, services, sandbox, tmp_path):
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(8, prefix="lr"))
    sandbox.faults.rate_5xx = 1.0
    wizard = open_wizard(qtbot, services, "accounts", path, client_kwargs=FAST_RETRY)
    qtbot.waitUntil(lambda: wizard.file_page.isComplete()
                    and not wizard.ctx.connection_loading, timeout=WAIT)
    assert wizard.ctx.connection_error is not None and wizard.ctx.spec is None
    click(qtbot, wizard)
    columns = wizard.columns_page
    assert wizard.currentId() == COLUMNS_PAGE
    # Entering the page asked again (and failed again): the error has a Retry button.
    qtbot.waitUntil(lambda: not wizard.ctx.connection_loading, timeout=WAIT)
    assert columns.retry_button.isVisible() and columns.retry_button.isEnabled()
    assert "Retry" in columns.custom_label.text()
    qtbot.waitUntil(columns.isComplete, timeout=WAIT)
    click(qtbot, wizard)
    assert wizard.currentId() == CHECK_PAGE
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and wizard.check_page.isComplete(),
                    timeout=WAIT)
    click(qtbot, wizard)
    assert wizard.currentId() == OPTIONS_PAGE
    options = wizard.options_page
    qtbot.waitUntil(lambda: not wizard.ctx.connection_loading, timeout=WAIT)
    options.confirm_check.setChecked(True)
    assert options.problem_label.isVisible()
    assert "had a server problem" in options.problem_label.text()
    assert options.retry_button.isVisible()
    assert not wizard.button(COMMIT).isEnabled()
    return wizard


def test_retry_button_recovers_a_failed_lookup(qtbot, services, sandbox, tmp_path):
    wizard = _failing_lookup_to_options(qtbot, services, sandbox, tmp_path)
    options = wizard.options_page
    # Retry while the server still fails: it asks again and still says so.
    qtbot.mouseClick(options.retry_button, Qt.MouseButton.LeftButton)
    assert wizard.ctx.connection_loading and not options.retry_button.isVisible()
    qtbot.waitUntil(lambda: not wizard.ctx.connection_loading, timeout=WAIT)
    assert options.retry_button.isVisible() and not wizard.button(COMMIT).isEnabled()
    # The server recovers; Retry.
    sandbox.faults.rate_5xx = 0.0
    qtbot.mouseClick(options.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert not options.retry_button.isVisible()
    assert not options.problem_label.isVisible()
    assert wizard.button(COMMIT).isEnabled()
    click(qtbot, wizard, COMMIT)
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    assert wizard.ctx.run_result.counts == {"created": 8}


def test_entering_the_page_again_asks_afresh(qtbot, services, sandbox, tmp_path):
    wizard = _failing_lookup_to_options(qtbot, services, sandbox, tmp_path)
    sandbox.faults.rate_5xx = 0.0
    click(qtbot, wizard, BACK)
    assert wizard.currentId() == CHECK_PAGE
    assert wizard.ctx.spec is None  # nothing asked on the way back
    click(qtbot, wizard, NEXT)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert wizard.options_page.confirm_check.isChecked()
    assert wizard.button(COMMIT).isEnabled()
    # The Columns page asks afresh too (and then knows the workspace's custom fields).
    wizard.ctx.connection_error, wizard.ctx.spec = "earlier failure", None
    click(qtbot, wizard, BACK)
    click(qtbot, wizard, BACK)
    assert wizard.currentId() == COLUMNS_PAGE
    wizard.back()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert not wizard.columns_page.retry_button.isVisible()
    assert "can be filled" in wizard.columns_page.custom_label.text() or \
        "no active custom fields" in wizard.columns_page.custom_label.text()
