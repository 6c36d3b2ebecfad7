"""Wizard behaviour: Back keeps choices, remembered mappings and folders, templates, fixed
values, Esc asks, help, keyboard-only use, segment and upsert options, dry run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard

from recotap_desktop.store.settings import UI_LAST_FOLDER, Profile
from recotap_desktop.ui.wizard.wizard import CHECK_PAGE, COLUMNS_PAGE, FILE_PAGE, OPTIONS_PAGE
from tests.factories import ACCOUNT_HEADERS, DEAL_HEADERS, account_rows, deal_rows, write_csv
from tests.helpers.wizard import (
    COMMIT,
    NEXT,
    WAIT,
    activate,
    click,
    discard,
    open_wizard,
    to_check,
)


def _accounts_file(tmp_path: Path, n: int = 10) -> Path:
    return write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(n, prefix="wb"))


def test_back_keeps_choices_and_mapping_is_remembered(qtbot, services, sandbox, tmp_path):
    path = _accounts_file(tmp_path)
    wizard = open_wizard(qtbot, services, "accounts", path)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    assert services.settings.ui[UI_LAST_FOLDER] == str(tmp_path)
    click(qtbot, wizard)
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    mapper = wizard.columns_page.mapper
    assert mapper.mapping().columns["domain"] == "Company Domain Name"
    # Unmap a required field: Next is blocked and the page says which.
    mapper.combos["name"].setCurrentIndex(0)
    assert not wizard.button(NEXT).isEnabled()
    assert "Company name" in wizard.columns_page.missing_label.text()
    # A fixed value satisfies it (the same name on every row).
    mapper.constants["name"].setText("Same Co")
    assert wizard.button(NEXT).isEnabled()
    assert wizard.field("mapping") == mapper.mapping().to_json()
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None, timeout=WAIT)
    wizard.back()
    assert wizard.currentId() == COLUMNS_PAGE
    assert mapper.mapping().constants == {"name": "Same Co"}
    assert "name" not in mapper.mapping().columns
    wizard.back()
    assert wizard.currentId() == FILE_PAGE
    assert wizard.file_page.info is not None
    wizard.next()
    assert mapper.mapping().constants == {"name": "Same Co"}
    wizard.next()
    assert wizard.currentId() == CHECK_PAGE
    discard(wizard)

    # A new wizard for a file with the same columns restores the mapping.
    again = open_wizard(qtbot, services, "accounts", _accounts_file(tmp_path / "..", 3))
    qtbot.waitUntil(again.file_page.isComplete, timeout=WAIT)
    click(qtbot, again)
    qtbot.waitUntil(again.columns_page.isComplete, timeout=WAIT)
    assert again.columns_page.mapper.mapping().constants == {"name": "Same Co"}
    assert "last time" in again.columns_page.origin_label.text()
    again.columns_page.automap()
    assert again.columns_page.mapper.mapping().columns["name"] == "Company name"


def test_templates_save_and_load(qtbot, services, sandbox, tmp_path):
    path = _accounts_file(tmp_path)
    wizard = open_wizard(qtbot, services, "accounts", path)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    click(qtbot, wizard)
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    page = wizard.columns_page
    page.mapper.combos["tags"].setCurrentIndex(0)
    page.mapper.constants["shortName"].setText("Short")
    template = tmp_path / "tpl.json"
    assert page.save_template(template)
    page.automap()
    assert "tags" in page.mapper.mapping().columns
    assert page.load_template(template)
    assert "tags" not in page.mapper.mapping().columns
    assert page.mapper.mapping().constants == {"shortName": "Short"}
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    assert not page.load_template(bad)
    assert "cannot be used" in page.origin_label.text()


def test_escape_asks_before_discarding_and_help_explains(qtbot, services, sandbox, tmp_path):
    wizard = open_wizard(qtbot, services, "accounts", _accounts_file(tmp_path))
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    wizard.ctx.source = wizard.file_page.info
    qtbot.keyClick(wizard, Qt.Key.Key_F1)
    assert wizard.help_dialog is not None and wizard.help_dialog.isVisible()
    assert "encoding" in wizard.help_dialog.browser.toPlainText()
    wizard.help_dialog.close()
    qtbot.waitUntil(lambda: wizard.help_dialog is None, timeout=WAIT)
    click(qtbot, wizard)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.HelpButton), Qt.MouseButton.LeftButton)
    assert "domain" in wizard.help_dialog.browser.toPlainText().lower()
    wizard.help_dialog.close()
    qtbot.waitUntil(lambda: wizard.help_dialog is None, timeout=WAIT)
    activate(qtbot, wizard)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    box = wizard.message_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert wizard.isVisible()
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    box = wizard.message_box
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Discard), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)


def test_keyboard_only_run(qtbot, services, sandbox, tmp_path):
    """Type the path, Enter through the pages (Next is the default button), Space to tick."""
    wizard = open_wizard(qtbot, services, "deals")  # deals: no custom fields to wait for
    deals = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, deal_rows(5, prefix="kb"))
    edit = wizard.file_page.path_edit
    assert QApplication.focusWidget() is edit
    qtbot.keyClicks(edit, str(deals))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    assert wizard.button(NEXT).isDefault()

    def enter() -> None:
        qtbot.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)

    enter()
    assert wizard.currentId() == COLUMNS_PAGE
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    enter()
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and wizard.check_page.isComplete(),
                    timeout=WAIT)
    enter()
    assert wizard.currentId() == OPTIONS_PAGE
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    check = wizard.options_page.confirm_check
    # Tab reaches the confirmation box.
    for _ in range(20):
        if QApplication.focusWidget() is check:
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is check
    qtbot.keyClick(check, Qt.Key.Key_Space)
    assert check.isChecked()
    assert wizard.button(COMMIT).isDefault()
    enter()
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    assert wizard.ctx.run_result.counts == {"upserted": 5}


def test_segment_upsert_dry_run_and_summary(qtbot, services, sandbox, tmp_path):
    profile = services.active_profile
    services.settings.upsert_profile(Profile(name="Ext", edition="external",
                                             base_url=sandbox.base_url("external")))
    services.keystore.set("Ext", services.key_for(profile)[0])
    services.set_active("Ext")
    path = _accounts_file(tmp_path, 6)
    wizard = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    options = wizard.options_page
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    assert options.show_upsert and not options.upsert_check.isHidden()
    assert "Ext" in options.summary_label.text() and "External" in options.summary_label.text()
    # The shell's segment picker; the choice is shown and remembered per connection.
    dialog = options.choose_segment()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=WAIT)
    dialog.view.selectRow(0)
    segment = dialog.selected_segment()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert options.segment == (segment.segment_id, segment.name)
    assert segment.name in options.segment_label.text()
    assert services.settings.get_profile("Ext").segment_id == segment.segment_id
    assert segment.name in options.summary_label.text()
    options.dry_run_check.setChecked(True)
    assert wizard.button(COMMIT).text().replace("&", "") == "Dry run 6 rows"
    options.confirm_check.setChecked(True)
    click(qtbot, wizard, COMMIT)
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    assert wizard.ctx.run_result.counts == {"not sent": 6}
    assert sandbox.state.account_by_domain("wb0.testco-example.org") is None

    # A CRM-edition connection never offers upsert.
    services.set_active(profile.name)
    crm = open_wizard(qtbot, services, "accounts", path)
    assert not crm.options_page.show_upsert


def test_segment_choice_is_used_for_the_run(qtbot, services, sandbox, tmp_path):
    path = _accounts_file(tmp_path, 4)
    wizard = open_wizard(qtbot, services, "accounts", path)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    seg_id = next(s["segmentId"] for s in sandbox.state.segments.values()
                  if s["type"] == "static" and s["status"] == "active")
    wizard.options_page.set_segment((seg_id, "Chosen"))
    wizard.back()
    wizard.next()
    assert wizard.options_page.segment == (seg_id, "Chosen")
    assert "Chosen" in wizard.options_page.summary_label.text()
    wizard.options_page.confirm_check.setChecked(True)
    click(qtbot, wizard, COMMIT)
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    assert wizard.ctx.run_result.counts == {"created": 4}
    members = sandbox.state.members_of(seg_id)
    created = [sandbox.state.account_by_external_id(f"wb-crm-{i:06d}") for i in range(4)]
    assert all(a is not None and a["rtp_aid"] in members for a in created)
