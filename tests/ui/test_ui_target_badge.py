"""The target is unmistakable (issue 18, finding 4): the DEMO badge only for the demo
sandbox; for any other connection the main window, the Options summary and the run page
name the workspace and the host the rows go to.

Screenshots of each state are saved to ``artifacts/screenshots/`` (not committed); with
RECOTAP_SAVE_SCREENSHOTS=1 also to ``resources/screenshots/`` (committed, ``target-*``).
"""

from __future__ import annotations

from ui_helpers import PROFILE

from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.services import open_demo
from recotap_desktop.ui.wizard.wizard import OPTIONS_PAGE, RUN_PAGE
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.helpers.windows import save_shot
from tests.helpers.wizard import COMMIT, WAIT, click, open_wizard, to_check


def _window(qtbot, services) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(960, 680)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=WAIT)
    return window


def test_main_window_demo_badge_only_for_the_demo_connection(qtbot, services, sandbox):
    host = f"127.0.0.1:{sandbox.port}"
    open_demo(services)  # --demo: the demo sandbox is running, "Demo" active
    window = _window(qtbot, services)
    assert window.demo_badge.isVisible()
    assert not window.target_badge.target.isVisible()
    assert window.windowTitle().endswith("— Demo")
    save_shot(window, "target-main-window-demo.png")

    # Another connection made active in the same session: no DEMO, its workspace and host.
    services.set_active(PROFILE)
    window.refresh_connection()
    qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=WAIT)
    assert not window.demo_badge.isVisible()
    target = window.target_badge.target
    assert target.isVisible()
    assert PROFILE in target.text() and host in target.text()
    assert host in window.windowTitle() and "Demo" not in window.windowTitle()
    save_shot(window, "target-main-window.png")
    window.close()


def _to_options(qtbot, services, tmp_path):
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(5, prefix="tb"))
    wizard = open_wizard(qtbot, services, "accounts", path)
    wizard.resize(1040, 760)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    assert wizard.currentId() == OPTIONS_PAGE
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    return wizard


def _send(qtbot, wizard, server):
    server.faults.latency = 1.0  # the one request is slow: the run page is seen running
    wizard.options_page.confirm_check.setChecked(True)
    click(qtbot, wizard, COMMIT)
    assert wizard.currentId() == RUN_PAGE
    qtbot.waitUntil(lambda: wizard.run_page.running, timeout=WAIT)


def test_options_and_run_pages_name_the_workspace_and_host(qtbot, services, sandbox, tmp_path):
    host = f"127.0.0.1:{sandbox.port}"
    open_demo(services)
    demo_host = f"127.0.0.1:{services.demo_server.port}"
    services.set_active(PROFILE)  # a demo session, but a real connection active
    wizard = _to_options(qtbot, services, tmp_path)
    options = wizard.options_page
    assert not options.target_badge.demo.isVisible()
    assert options.target_badge.target.isVisible()
    assert PROFILE in options.target_badge.target.text()
    assert host in options.target_badge.target.text()
    summary = options.summary_label.text()
    assert f"workspace <b>{PROFILE}</b> at <b>{host}</b>" in summary
    assert demo_host not in summary
    qtbot.wait(100)
    save_shot(wizard, "target-options.png")

    _send(qtbot, wizard, sandbox)
    run = wizard.run_page
    assert not run.target_badge.demo.isVisible() and run.target_badge.target.isVisible()
    assert host in run.target_badge.target.text() and host in run.heading.text()
    save_shot(wizard, "target-run.png")
    qtbot.waitUntil(run.isComplete, timeout=WAIT)
    sandbox.faults.latency = 0.0
    assert sandbox.state.account_by_external_id("tb-crm-000000") is not None


def test_options_and_run_pages_show_demo_only_for_the_demo(qtbot, services, sandbox, tmp_path):
    open_demo(services)
    demo = services.demo_server
    wizard = _to_options(qtbot, services, tmp_path)
    options = wizard.options_page
    assert options.target_badge.demo.isVisible()
    assert not options.target_badge.target.isVisible()
    assert f"demo sandbox</b> on this computer (127.0.0.1:{demo.port})" in (
        options.summary_label.text())
    qtbot.wait(100)
    save_shot(wizard, "target-options-demo.png")
    _send(qtbot, wizard, demo)
    run = wizard.run_page
    assert run.target_badge.demo.isVisible() and not run.target_badge.target.isVisible()
    assert "demo sandbox" in run.heading.text()
    qtbot.waitUntil(run.isComplete, timeout=WAIT)
    demo.faults.latency = 0.0
    assert demo.state.account_by_external_id("tb-crm-000000") is not None
    assert sandbox.state.account_by_external_id("tb-crm-000000") is None
