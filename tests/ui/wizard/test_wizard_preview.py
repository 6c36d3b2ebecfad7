"""The Check page's "What will change" tab and what the Options page and run make of it
(issue 16), over the sandbox; saves screenshots with RECOTAP_SAVE_SCREENSHOTS=1."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from PySide6.QtWidgets import QWizard

from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.services import Services
from tests.helpers.wizard import COMMIT, WAIT, click, open_wizard, to_check

ROOT = Path(__file__).resolve().parents[3]
BACK = QWizard.WizardButton.BackButton


def _external(services: Services, sandbox: SandboxServer) -> None:
    profile = services.active_profile
    assert profile is not None
    services.settings.upsert_profile(Profile(name=profile.name, edition="external",
                                             base_url=sandbox.base_url("external")))
    services.set_active(profile.name)


def _file(sandbox: SandboxServer, path: Path) -> Path:
    accounts = [a for a in sandbox.state.all_accounts() if a["externalId"]][:10]
    rows = [[a["domain"], a["name"] + (" Holdings" if i % 2 else ""), a["externalId"]]
            for i, a in enumerate(accounts)]
    rows += [[f"new{j}.wizard-preview.org", f"New {j}", f"wp-{j}"] for j in range(3)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Company Domain Name", "Company name", "Record ID"])
        w.writerows(rows)
    return path


def _wait_preview(qtbot, wizard) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: wizard.ctx.preview is not None
                    and not wizard.check_page.preview_job.running, timeout=WAIT)


def test_check_page_shows_the_plan_and_unchanged_rows_are_not_sent(
    qtbot, services, sandbox, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    _external(services, sandbox)
    wizard = open_wizard(qtbot, services, "accounts", _file(sandbox, tmp_path / "a.csv"))
    wizard.resize(1040, 760)
    to_check(qtbot, wizard)
    _wait_preview(qtbot, wizard)
    page = wizard.check_page
    counts = dict(wizard.ctx.preview.counts)
    # upsert is off: the renamed accounts cannot be changed (the server would refuse them)
    assert counts == {"unchanged": 5, "conflict": 5, "create": 3}
    assert "upsert" in page.preview_panel.summary.text().lower() or \
        "Update accounts that already exist" in page.preview_panel.summary.text()
    page.tabs.setCurrentIndex(1)
    panel = page.preview_panel
    panel.action_combo.setCurrentIndex(panel.action_combo.findData("conflict"))
    assert panel.proxy.rowCount() == 5
    text = panel.proxy.index(0, 3).data()
    assert "Holdings" in text and "\u2192" in text

    click(qtbot, wizard)  # Options: switch upsert on, go back: the plan follows
    wizard.options_page.upsert_check.setChecked(True)
    click(qtbot, wizard, BACK)
    _wait_preview(qtbot, wizard)
    assert dict(wizard.ctx.preview.counts) == {"unchanged": 5, "update": 5, "create": 3}
    panel.action_combo.setCurrentIndex(panel.action_combo.findData("update"))
    if os.environ.get("RECOTAP_SAVE_SCREENSHOTS"):
        qtbot.wait(100)
        wizard.grab().save(str(ROOT / "resources" / "screenshots" / "preview-check.png"))

    click(qtbot, wizard)
    options = wizard.options_page
    assert "5 unchanged row(s) are not sent" in options.summary_label.text()
    options.confirm_check.setChecked(True)
    posts_before = sum(1 for r in sandbox.state.request_log if r.method == "POST")
    click(qtbot, wizard, COMMIT)
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    result = wizard.ctx.run_result
    assert result.counts == {"unchanged": 5, "updated": 5, "created": 3}
    assert sum(1 for r in sandbox.state.request_log if r.method == "POST") == posts_before + 1


def test_deals_preview_shows_what_this_app_sent_before(
    qtbot, services, sandbox, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    from tests.factories import DEAL_HEADERS, deal_rows, write_csv

    rows = deal_rows(6, prefix="wpd")
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, rows)
    first = open_wizard(qtbot, services, "deals", path)
    to_check(qtbot, first)
    _wait_preview(qtbot, first)
    assert dict(first.ctx.preview.counts) == {"not sent before": 6}
    click(qtbot, first)
    first.options_page.confirm_check.setChecked(True)
    click(qtbot, first, COMMIT)
    qtbot.waitUntil(first.run_page.isComplete, timeout=WAIT)
    first.close()

    rows[1][2] = "4242"
    path = write_csv(tmp_path / "deals-changed.csv", DEAL_HEADERS, rows)
    second = open_wizard(qtbot, services, "deals", path)
    to_check(qtbot, second)
    _wait_preview(qtbot, second)
    assert dict(second.ctx.preview.counts) == {"sent before, same values": 5,
                                              "sent before, other values": 1}
    assert "Every row is sent" in second.check_page.preview_panel.summary.text()
    assert not second.options_page.send_unchanged_check.isVisible()
