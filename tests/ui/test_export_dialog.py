"""The "Export scored accounts" dialog against a sandbox over real sockets.

Full pull to CSV, delta after a rescore, cancel mid-pull (nothing written, sync time
unchanged), Esc while running, filters, errors in plain words, help, and the two
screenshots (on a real X server).
"""

from __future__ import annotations

import csv
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import require_native_display
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox, QTextBrowser
from ui_helpers import PROFILE, MemoryKeyring

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.export import SYNC_RESOURCE, ExportResult
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import UI_LAST_FOLDER, Profile
from recotap_desktop.ui.export import UNSCORED_EXPLANATION, ExportDialog
from recotap_desktop.ui.services import Services

WAIT = 60_000
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"


# ---------------------------------------------------------------------------- helpers


def _services_for(server: SandboxServer, data_dir: Path, keyring: MemoryKeyring,
                  *, key: str = DEMO_API_KEY, edition: str = "crm",
                  base_url: str | None = None) -> Services:
    services = Services.open(data_dir, keystore=KeyStore(keyring), env={})
    services.settings.upsert_profile(
        Profile(name=PROFILE, edition=edition, base_url=base_url or server.base_url(edition)))
    services.set_active(PROFILE)
    services.keystore.set(PROFILE, key)
    return services


@pytest.fixture
def big_sandbox() -> Iterator[SandboxServer]:
    """Enough accounts for several pages (100 per page)."""
    with SandboxServer(accounts=1200, seed=11) as server:
        yield server


@pytest.fixture
def big_services(big_sandbox: SandboxServer, data_dir: Path,
                 memory_keyring: MemoryKeyring) -> Iterator[Services]:
    services = _services_for(big_sandbox, data_dir, memory_keyring)
    yield services
    services.close()


def _dialog(qtbot, services: Services, **kwargs) -> ExportDialog:
    dialog = ExportDialog(services, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _start(qtbot, dialog: ExportDialog, path: Path) -> None:
    """Type the output path and press Enter (the default button starts)."""
    dialog.path_edit.clear()
    qtbot.keyClicks(dialog.path_edit, str(path))
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    assert dialog.job is not None, dialog.banner_text()
    assert dialog.page == "progress"


def _run(qtbot, dialog: ExportDialog, path: Path) -> ExportResult | None:
    _start(qtbot, dialog, path)
    job = dialog.job
    assert job is not None
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    return dialog.export_result


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _last_sync(services: Services, server: SandboxServer) -> str | None:
    assert services.history is not None
    host = f"127.0.0.1:{server.port}"
    return services.history.last_sync(PROFILE, SYNC_RESOURCE, host=host)


# ---------------------------------------------------------------------------- full and delta


def test_full_export_to_csv_shows_counts_and_chart(qtbot, services, sandbox, tmp_path):
    dialog = _dialog(qtbot, services)
    # no complete pull yet: full is the default, delta cannot be chosen
    assert dialog.full_radio.isChecked() and not dialog.delta_radio.isEnabled()
    assert "No complete pull" in dialog.last_sync_label.text()
    assert dialog.path_edit.text().endswith(".xlsx") and not dialog.label_row.isChecked()

    out = tmp_path / "scored.csv"
    result = _run(qtbot, dialog, out)
    assert result is not None and result.state is RunState.FINISHED, dialog.banner_text()

    rows = _csv_rows(out)  # CSV: no label row by default, one header row only
    assert len(rows) == len(sandbox.state.accounts) == 40
    assert {r["rtp_aid"] for r in rows} == set(sandbox.state.accounts)
    assert dialog.page == "summary"
    assert dialog.count_labels["exported"].text() == "40"
    assert dialog.count_labels["duplicates"].text() == "0"
    assert dialog.count_labels["filtered"].text() == "0"
    assert dialog.count_labels["unscored"].text() == f"{result.unscored:,}"
    assert "40 accounts" in dialog.summary_title.text()
    assert "full pull" in dialog.message_label.text()
    assert "Sync time" in dialog.message_label.text()  # stored, and the dialog says so
    assert not dialog.chart.is_empty
    assert sum(dialog.chart.histogram) == result.scored
    if result.unscored:
        assert UNSCORED_EXPLANATION in dialog.unscored_label.text()
    assert services.settings.ui[UI_LAST_FOLDER] == str(tmp_path)
    assert _last_sync(services, sandbox) == result.sync_timestamp

    opened: list[QUrl] = []
    dialog.open_url = opened.append
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(out.resolve()), str(tmp_path.resolve())]

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # "Close"
    assert not dialog.isVisible()


def test_label_row_only_when_the_user_asks(qtbot, services, tmp_path):
    """One header row by default, whatever the format (issue 14); the checkbox adds one."""
    dialog = _dialog(qtbot, services)
    dialog.path_edit.setText(str(tmp_path / "a.csv"))
    assert not dialog.label_row.isChecked()
    dialog.path_edit.setText(str(tmp_path / "a.xlsx"))
    assert not dialog.label_row.isChecked()
    qtbot.mouseClick(dialog.label_row, Qt.MouseButton.LeftButton)  # the user switches it on
    dialog.path_edit.setText(str(tmp_path / "b.csv"))
    assert dialog.label_row.isChecked()
    assert "re-import" in dialog.label_row.toolTip() or "import" in dialog.label_row.toolTip()


def test_delta_after_rescore_exports_exactly_the_changed_accounts(qtbot, services, sandbox,
                                                                   tmp_path):
    first = _run(qtbot, _dialog(qtbot, services), tmp_path / "full.csv")
    assert first is not None and first.state is RunState.FINISHED and first.sync_saved
    changed = set(sandbox.state.rescore(7))

    dialog = _dialog(qtbot, services)
    assert dialog.delta_radio.isEnabled() and dialog.delta_radio.isChecked()  # the default now
    assert "UTC" in dialog.last_sync_label.text()
    result = _run(qtbot, dialog, tmp_path / "delta.csv")
    assert result is not None and result.state is RunState.FINISHED
    assert result.mode == "delta" and result.exported == 7
    rows = _csv_rows(tmp_path / "delta.csv")
    assert {r["rtp_aid"] for r in rows} == changed and len(rows) == 7
    assert dialog.count_labels["exported"].text() == "7"
    assert "changed since" in dialog.message_label.text()
    assert _last_sync(services, sandbox) == result.sync_timestamp != first.sync_timestamp


def test_since_a_date_in_utc(qtbot, services, sandbox, tmp_path):
    dialog = _dialog(qtbot, services)
    dialog.since_radio.setChecked(True)
    assert dialog.since_edit.isEnabled()
    dialog.since_edit.setDateTime(dialog.since_edit.dateTime().addYears(5))  # the future
    options = dialog.options()
    assert options.mode == "since" and options.since and options.since.endswith("Z")
    result = _run(qtbot, dialog, tmp_path / "since.csv")
    assert result is not None and result.state is RunState.FINISHED
    assert result.exported == 0 and not result.sync_saved
    assert dialog.chart.is_empty


def test_filters_domains_score_and_stages(qtbot, services, sandbox, tmp_path):
    accounts = sorted(sandbox.state.all_accounts(), key=lambda a: a["rtp_aid"])
    wanted = [a["domain"] for a in accounts[:5]]
    domain_file = tmp_path / "domains.txt"
    domain_file.write_text("\n".join(["https://www." + wanted[0] + "/about", *wanted[1:]])
                           + "\n", encoding="utf-8")

    dialog = _dialog(qtbot, services)
    assert "after download" in dialog.domain_note.text()  # the CRM API cannot filter
    job = dialog.load_domain_file(domain_file)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert dialog.domain_list is not None and dialog.domain_list.domains == wanted
    assert "5 domains" in dialog.domain_label.text()
    stage = accounts[0]["rtp_journey_stage"] or "Aware"
    for name, box in dialog.stage_boxes.items():
        box.setChecked(name == stage)
    dialog.other_stages.setText(" Made-up stage ")
    options = dialog.options()
    assert options.stages == [stage, "Made-up stage"] and options.min_score is None
    dialog.min_score.setValue(1)
    assert dialog.options().min_score == 1.0

    expected = {a["rtp_aid"] for a in accounts[:5]
                if (a["rtp_journey_stage"] or "") == stage and a["rtp_account_score"] >= 1}
    result = _run(qtbot, dialog, tmp_path / "filtered.csv")
    assert result is not None and result.state is RunState.FINISHED
    assert {r["rtp_aid"] for r in _csv_rows(tmp_path / "filtered.csv")} == expected
    assert result.filtered_out == 40 - len(expected)
    assert dialog.count_labels["filtered"].text() == f"{40 - len(expected):,}"
    assert "cannot filter by domain" in dialog.message_label.text()
    assert "leaves the last sync time unchanged" in dialog.message_label.text()
    assert _last_sync(services, sandbox) is None


def test_a_bad_domain_file_is_explained(qtbot, services, tmp_path):
    bad = tmp_path / "people.csv"
    bad.write_text("name,email\nAda,ada@example.com\n", encoding="utf-8")
    dialog = _dialog(qtbot, services)
    job = dialog.load_domain_file(bad)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert dialog.domain_list is None
    assert "no domain column" in dialog.banner_text()


# ---------------------------------------------------------------------------- cancel


def test_cancel_mid_pull_leaves_no_file_and_the_sync_time(qtbot, big_services, big_sandbox,
                                                          tmp_path):
    first = _run(qtbot, _dialog(qtbot, big_services), tmp_path / "first.csv")
    assert first is not None and first.sync_saved
    stored = _last_sync(big_services, big_sandbox)
    big_sandbox.state.rescore(50)
    big_sandbox.faults.latency = 0.25

    dialog = _dialog(qtbot, big_services)
    dialog.full_radio.setChecked(True)
    out = tmp_path / "cancelled.xlsx"
    _start(qtbot, dialog, out)
    qtbot.waitUntil(lambda: dialog.received_label.text().startswith("Received")
                    and not dialog.received_label.text().startswith("Received 0"),
                    timeout=WAIT)
    assert "about" in dialog.received_label.text()  # the last full pull gives a total
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    job = dialog.job
    assert job is not None
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)

    result = dialog.export_result
    assert result is not None and result.state is RunState.CANCELLED
    assert 0 < result.received < len(big_sandbox.state.accounts)
    assert dialog.page == "options" and "no file was written" in dialog.banner_text()
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["appdata", "first.csv"]
    assert _last_sync(big_services, big_sandbox) == stored
    assert big_services.history is not None
    assert big_services.history.get_run(result.run_id).state == "cancelled"


def test_esc_while_running_asks_then_stops_and_closes(qtbot, big_services, big_sandbox,
                                                      tmp_path):
    big_sandbox.faults.latency = 0.25
    dialog = _dialog(qtbot, big_services)
    out = tmp_path / "esc.csv"
    _start(qtbot, dialog, out)

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.confirm_box
    assert box is not None and dialog.isVisible() and dialog.running
    assert "Nothing changes" in box.text()
    box.button(QMessageBox.StandardButton.No).click()  # keep going
    assert dialog.running and dialog.isVisible()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.confirm_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    job = dialog.job
    assert job is not None
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    assert dialog.export_result is not None
    assert dialog.export_result.state is RunState.CANCELLED
    assert not out.exists()
    assert _last_sync(big_services, big_sandbox) is None


def test_esc_closes_when_idle(qtbot, services):
    dialog = _dialog(qtbot, services)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.confirm_box is None


# ---------------------------------------------------------------------------- errors


def test_a_refused_key_is_explained_in_the_dialog(qtbot, sandbox, data_dir, memory_keyring,
                                                  tmp_path):
    services = _services_for(sandbox, data_dir, memory_keyring, key="rtp_wrong_key_123456")
    try:
        dialog = _dialog(qtbot, services)
        out = tmp_path / "never.csv"
        _run(qtbot, dialog, out)
        assert dialog.page == "options"
        text = dialog.banner_text()
        assert "key" in text and "API access" in text
        assert "No file was written" in text
        assert "rtp_wrong_key_123456" not in text
        assert not out.exists()
        assert dialog.start_button.isEnabled()  # fix the key and try again
    finally:
        services.close()


def test_an_unreachable_server_is_explained_in_the_dialog(qtbot, sandbox, data_dir,
                                                          memory_keyring, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    services = _services_for(sandbox, data_dir, memory_keyring,
                             base_url=f"http://127.0.0.1:{port}/api/v1/crm/")
    try:
        dialog = _dialog(qtbot, services,
                         client_kwargs={"retry": RetryPolicy(max_attempts=1)})
        out = tmp_path / "never.csv"
        _run(qtbot, dialog, out)
        text = dialog.banner_text()
        assert f"127.0.0.1:{port}" in text and "connect" in text.lower()
        assert not out.exists()
    finally:
        services.close()


def test_no_connection_yet(qtbot, bare_services):
    dialog = _dialog(qtbot, bare_services)
    assert not dialog.start_button.isEnabled()
    assert "no connection" in dialog.banner_text().lower()


def test_missing_key_is_explained(qtbot, services, memory_keyring, tmp_path):
    services.keystore.delete(PROFILE)
    dialog = _dialog(qtbot, services)
    _run(qtbot, dialog, tmp_path / "x.csv")
    assert "no API key" in dialog.banner_text() and "Connections" in dialog.banner_text()


def test_f1_opens_the_help(qtbot, services):
    dialog = _dialog(qtbot, services)
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_F1)
    help_dialog = dialog.help_dialog
    assert help_dialog is not None and help_dialog.isVisible()
    browser = help_dialog.findChild(QTextBrowser, "export-help")
    assert browser is not None
    plain = browser.toPlainText()
    assert "sync time" in plain and "delta" in plain and "not scored yet" in plain
    help_dialog.close()


# ---------------------------------------------------------------------------- screenshots


@pytest.mark.xcb
def test_screenshots_of_the_dialog_and_the_summary(qtbot, data_dir, memory_keyring, tmp_path):
    require_native_display()
    with SandboxServer() as server:  # the default demo data set: 3000 accounts
        services = _services_for(server, data_dir, memory_keyring)
        try:
            services.settings.ui[UI_LAST_FOLDER] = str(tmp_path)
            dialog = _dialog(qtbot, services)
            dialog.resize(860, 620)
            dialog.path_edit.deselect()
            qtbot.wait(50)
            SHOTS.mkdir(parents=True, exist_ok=True)
            assert dialog.grab().save(str(SHOTS / "export-dialog.png"), "PNG")

            result = _run(qtbot, dialog, tmp_path / "scored-accounts.xlsx")
            assert result is not None and result.state is RunState.FINISHED
            assert result.exported == 3000 and dialog.page == "summary"
            dialog.resize(860, 740)
            qtbot.wait(50)
            assert dialog.grab().save(str(SHOTS / "export-summary.png"), "PNG")
            for name in ("export-dialog.png", "export-summary.png"):
                assert (SHOTS / name).stat().st_size > 10_000
        finally:
            services.close()
