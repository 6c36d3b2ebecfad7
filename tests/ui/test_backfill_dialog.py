"""The external-ID backfill assistant against a sandbox over real sockets.

End to end with the keyboard: list (window of 100, then every account), export the
list, choose the CRM file, check the detected columns, review (exact match kinds,
defaults, filters, bulk actions, a candidate chosen for an ambiguous account), confirm,
send, per-row results, report, the unmapped list shrinking by exactly what was sent;
rounds without the scan; a domain Recotap no longer finds failing on its own row;
the model under qtmodeltester; the help; the review screenshot (real X server).
"""

from __future__ import annotations

import csv
import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import require_native_display
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QTextBrowser

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.states import RunState
from recotap_desktop.records.backfill_match import MatchKind
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.ui.backfill import BackfillDialog
from recotap_desktop.ui.backfill.model import (
    COL_RESULT,
    COL_SEND,
    ReviewModel,
    badge_colors,
)
from recotap_desktop.ui.services import Services
from tests.helpers.backfill import Dataset, build_dataset, realistic_crm
from tests.helpers.windows import backfill_to_review

WAIT = 60_000
ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "resources" / "screenshots" / "backfill-review.png"
ARTIFACT = ROOT / "artifacts" / "screenshots" / "backfill-review.png"
FAST = {"retry": RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total=10)}

# 120 by domain (3 spellings), 20 by name only, 3 + 3 + 2x2 ambiguous, 15 without a match
N_DOMAIN, N_NAME, N_DUP_DOMAIN, N_DUP_NAME, N_TWINS, N_NONE = 120, 20, 3, 3, 2, 15
N_AMBIGUOUS = N_DUP_DOMAIN + N_DUP_NAME + 2 * N_TWINS
N_ACCOUNTS = N_DOMAIN + N_NAME + N_AMBIGUOUS + N_NONE  # 165: more than one window of 100


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset(N_DOMAIN, N_NAME, N_DUP_DOMAIN, N_DUP_NAME, N_TWINS, N_NONE, seed=5)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[SandboxServer]:
    """Overrides conftest's sandbox: only the data set's accounts, none with an ID."""
    with SandboxServer(accounts=0, seed=7) as server:
        server.state.add_accounts(dataset.accounts)
        yield server


def _dialog(qtbot, services: Services) -> BackfillDialog:
    dialog = BackfillDialog(services, client_kwargs=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _wait_idle(qtbot, dialog: BackfillDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)


def _unmapped(server: SandboxServer) -> int:
    return server.state.counts()["accounts_without_external_id"]


def _ids(server: SandboxServer) -> dict[str, str]:
    return {a["domain"]: a["externalId"] for a in server.state.all_accounts() if a["externalId"]}


def _rows_by_domain(model: ReviewModel) -> dict[str, int]:
    return {r.proposal.domain: i for i, r in enumerate(model.rows)}


def _confirm_send(qtbot, dialog: BackfillDialog) -> QMessageBox:
    assert dialog.send_button.isEnabled()
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    return box


# ---------------------------------------------------------------------------- end to end


def _step_list(qtbot, qtmodeltester, dialog: BackfillDialog) -> None:
    """Step 1: the window of 100, then every account after Find all."""
    assert dialog.page == "list" and dialog.step_label.text().startswith("Step 1 of 3")
    _wait_idle(qtbot, dialog)
    assert dialog.listing is not None and not dialog.listing.complete
    assert dialog.unmapped_model.rowCount() == 100
    assert "At least 100" in dialog.list_count_label.text()
    assert "at most 100" in dialog.list_note.text()
    assert dialog.find_all_button.isVisible()
    qtbot.mouseClick(dialog.find_all_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, dialog)
    assert dialog.listing.complete and dialog.listing.scanned
    assert dialog.unmapped_model.rowCount() == N_ACCOUNTS
    assert f"{N_ACCOUNTS} accounts have no external ID" in dialog.list_count_label.text()
    assert not dialog.find_all_button.isVisible()
    qtmodeltester.check(dialog.unmapped_model)


def _step_export_list(qtbot, dialog: BackfillDialog, dataset: Dataset, tmp_path: Path) -> None:
    """Step 1b: the unmapped list exported holds every account of the data set."""
    listed = tmp_path / "unmapped.csv"
    dialog.export_list(listed)
    _wait_idle(qtbot, dialog)
    with listed.open(encoding="utf-8-sig", newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert {r["domain"] for r in exported} == {a["domain"] for a in dataset.accounts}
    assert "Saved 165 accounts" in dialog.list_status.text()


def _step_columns(qtbot, dialog: BackfillDialog, crm: Path) -> None:
    """Step 2: the CRM file chosen, its columns detected."""
    backfill_to_review(qtbot, dialog, crm)
    assert dialog.column_mapping().columns == {
        "externalId": "Record ID", "domain": "Company Domain Name", "name": "Company name"}
    assert "detected automatically" in dialog.columns_hint.text()


def _step_review_kinds(qtmodeltester, dialog: BackfillDialog, dataset: Dataset) -> None:
    """Step 3: exactly the match kinds of the data set; domain matches ticked by default."""
    model = dialog.review_model
    qtmodeltester.check(model)
    assert model.rowCount() == N_ACCOUNTS
    assert model.counts() == {"domain": N_DOMAIN, "name": N_NAME, "ambiguous": N_AMBIGUOUS,
                              "none": N_NONE}
    by_kind: dict[str, dict[str, object]] = {k.value: {} for k in MatchKind}
    for r in model.rows:
        p = r.proposal
        by_kind[r.kind][p.domain] = ({c.external_id for c in p.candidates}
                                     if p.match is MatchKind.AMBIGUOUS else p.external_id)
    assert by_kind["domain"] == dataset.domain
    assert by_kind["name"] == dataset.name
    assert by_kind["ambiguous"] == dataset.ambiguous
    assert set(by_kind["none"]) == dataset.none
    assert "120" in dialog.kinds_label.text() and "Ambiguous" in dialog.kinds_label.text()
    # defaults: domain matches ticked, nothing else
    assert Counter(r.kind for r in model.rows if r.accepted) == {"domain": N_DOMAIN}
    assert dialog.send_button.text() == "&Send 120 IDs…"


def _step_filters(qtbot, dialog: BackfillDialog) -> None:
    """Step 3b: the filters by match kind, by decision and by free text."""
    proxy = dialog.review_proxy
    dialog.kind_filter.setCurrentIndex(3)  # Ambiguous
    assert proxy.rowCount() == N_AMBIGUOUS
    dialog.kind_filter.setCurrentIndex(0)
    dialog.decision_filter.setCurrentIndex(1)  # ticked to send
    assert proxy.rowCount() == N_DOMAIN
    dialog.decision_filter.setCurrentIndex(0)
    qtbot.keyClicks(dialog.search_edit, "AD-1-b")  # a candidate's CRM ID
    assert proxy.rowCount() == 1
    dialog.search_edit.clear()
    assert proxy.rowCount() == N_ACCOUNTS


def _step_bulk(qtbot, dialog: BackfillDialog) -> None:
    """Step 3c: skip all, invert (ambiguous never chosen), then tick domain matches again."""
    model = dialog.review_model
    qtbot.mouseClick(dialog.skip_all_button, Qt.MouseButton.LeftButton)
    assert not model.decisions() and not dialog.send_button.isEnabled()
    qtbot.mouseClick(dialog.invert_button, Qt.MouseButton.LeftButton)
    assert Counter(r.kind for r in model.rows if r.accepted) == {"domain": N_DOMAIN,
                                                                 "name": N_NAME}
    qtbot.mouseClick(dialog.skip_all_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.accept_domain_button, Qt.MouseButton.LeftButton)
    assert Counter(r.kind for r in model.rows if r.accepted) == {"domain": N_DOMAIN}


def _step_tick_names(qtbot, dialog: BackfillDialog, dataset: Dataset) -> list[str]:
    """Step 3d: five name matches ticked with Space; returns their domains."""
    model, view = dialog.review_model, dialog.review_view
    picked_names = sorted(dataset.name)[:5]
    for domain in picked_names:
        assert dialog.select_domain(domain)
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_Space)
    rows = _rows_by_domain(model)
    assert all(model.row(rows[d]).accepted for d in picked_names)
    return picked_names


def _step_choose_candidate(qtbot, qtmodeltester, dialog: BackfillDialog,
                           amb_domain: str) -> str:
    """Step 3e: Space on an ambiguous account ticks nothing but points at the candidates;
    the user chooses the second one with the keyboard. Returns its CRM ID."""
    model, view = dialog.review_model, dialog.review_view
    rows = _rows_by_domain(model)
    assert dialog.select_domain(amb_domain)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not model.row(rows[amb_domain]).accepted
    assert dialog.focusWidget() is dialog.candidate_combo and dialog.candidate_combo.isEnabled()
    assert "Choose one or skip" in dialog.details_reason.text()
    # ... and the user chooses the second candidate with the keyboard
    candidates = model.row(rows[amb_domain]).proposal.candidates
    assert dialog.candidate_combo.count() == 1 + len(candidates)
    qtbot.keyClick(dialog.candidate_combo, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.candidate_combo, Qt.Key.Key_Down)
    chosen = candidates[1].external_id
    assert model.row(rows[amb_domain]).chosen_id == chosen
    assert dialog.review_proxy.rowCount() == N_ACCOUNTS
    qtmodeltester.check(model)
    return chosen


def _step_decisions(dialog: BackfillDialog, expected: dict[str, str]) -> None:
    """Step 3f: the decisions are exactly what was ticked or chosen."""
    assert {d.domain: d.external_id for d in dialog.review_model.decisions()} == expected
    assert dialog.send_button.text() == f"&Send {len(expected)} IDs…"
    assert "None would overwrite" in dialog.decision_label.text()


def _step_send(qtbot, dialog: BackfillDialog, expected: dict[str, str]) -> None:
    """Step 4: confirm once, send."""
    box = _confirm_send(qtbot, dialog)
    assert f"Write {len(expected)} external IDs" in box.text()
    assert "overwrites an existing external ID without warning" in box.informativeText()
    assert "1 chosen among candidates" in box.informativeText()
    box.button(QMessageBox.StandardButton.Yes).click()
    assert dialog.running
    _wait_idle(qtbot, dialog)
    assert dialog.banner_text() == ""


def _step_written(services: Services, sandbox: SandboxServer, dialog: BackfillDialog,
                  expected: dict[str, str]) -> None:
    """Step 5: Recotap now holds exactly those IDs; the unmapped list shrank by that number;
    one finished id-mappings run in the history."""
    assert _ids(sandbox) == expected
    assert _unmapped(sandbox) == N_ACCOUNTS - len(expected)
    (run,) = dialog.runs
    assert run.state is RunState.FINISHED and run.counts == {"updated": len(expected)}
    assert f"Run {run.run_id} (ID mappings) finished" in dialog.result_label.text()
    assert "Finished" in dialog.result_label.text()
    assert not dialog.next_round_button.isVisible()
    history = services.history
    assert history is not None and history.get_run(run.run_id).kind == "id-mappings"


def _step_sent_rows(qtmodeltester, dialog: BackfillDialog, expected: dict[str, str],
                    amb_domain: str) -> None:
    """Step 6: the sent rows show their result and are locked; nothing is left to send."""
    model = dialog.review_model
    rows = _rows_by_domain(model)
    (run,) = dialog.runs
    sent_rows = [r for r in model.rows if r.sent]
    assert {r.proposal.domain for r in sent_rows} == set(expected)
    assert all(r.state == "updated" and r.run_id == run.run_id for r in sent_rows)
    assert model.data(model.index(rows[amb_domain], COL_RESULT)) == "\u2714 updated"
    # sent rows are locked; nothing is left to send
    assert not model.flags(model.index(rows[amb_domain], COL_SEND)) & (
        Qt.ItemFlag.ItemIsUserCheckable)
    assert not model.decisions() and not dialog.send_button.isEnabled()
    # ... and no sent row stays ticked next to "Nothing ticked to send" (issue 18: 6)
    assert dialog.decision_label.text().startswith("Nothing ticked to send")
    assert all(model.data(model.index(i, COL_SEND), Qt.ItemDataRole.CheckStateRole) is None
               for i, r in enumerate(model.rows) if r.sent)
    dialog.decision_filter.setCurrentIndex(3)  # sent
    assert dialog.review_proxy.rowCount() == len(expected)
    dialog.decision_filter.setCurrentIndex(0)
    qtmodeltester.check(model)


def _step_report(qtbot, dialog: BackfillDialog, tmp_path: Path, n_sent: int) -> None:
    """Step 7: the report has every account once, updated or skipped."""
    report = tmp_path / "backfill-report.csv"
    dialog.save_report(report)
    _wait_idle(qtbot, dialog)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert len(lines) == N_ACCOUNTS
    assert Counter(r["recotap_state"] for r in lines) == {
        "updated": n_sent, "skipped": N_ACCOUNTS - n_sent}
    assert "Report saved" in dialog.result_label.text()


def _step_list_shrank(qtbot, dialog: BackfillDialog, n_sent: int) -> None:
    """Step 8: back to step 1, the list shows only the accounts still without an ID."""
    dialog.back_button.click()
    dialog.back_button.click()
    assert dialog.page == "list"
    dialog.refresh_button.click()
    _wait_idle(qtbot, dialog)
    assert dialog.unmapped_model.rowCount() == N_ACCOUNTS - n_sent


def test_backfill_end_to_end(qtbot, qtmodeltester, services, sandbox, dataset, tmp_path):
    crm = dataset.write_crm(tmp_path / "hubspot-companies.csv")
    dialog = _dialog(qtbot, services)
    _step_list(qtbot, qtmodeltester, dialog)
    _step_export_list(qtbot, dialog, dataset, tmp_path)
    _step_columns(qtbot, dialog, crm)
    _step_review_kinds(qtmodeltester, dialog, dataset)
    _step_filters(qtbot, dialog)
    _step_bulk(qtbot, dialog)
    picked_names = _step_tick_names(qtbot, dialog, dataset)
    amb_domain = "dupdom0.example.com"
    chosen = _step_choose_candidate(qtbot, qtmodeltester, dialog, amb_domain)
    expected = {d: dataset.domain[d] for d in dataset.domain}
    expected.update({d: dataset.name[d] for d in picked_names})
    expected[amb_domain] = chosen
    _step_decisions(dialog, expected)
    _step_send(qtbot, dialog, expected)
    _step_written(services, sandbox, dialog, expected)
    _step_sent_rows(qtmodeltester, dialog, expected, amb_domain)
    _step_report(qtbot, dialog, tmp_path, len(expected))
    _step_list_shrank(qtbot, dialog, len(expected))


@pytest.mark.parametrize("dataset", [build_dataset(150, 0, 0, 0, 0, 0, seed=9)],
                         ids=["150-domain-matches"])
def test_rounds_without_the_scan_and_a_domain_recotap_no_longer_finds(
        qtbot, services, sandbox, dataset, tmp_path):
    # 150 accounts, all matching by domain. Without the scan the assistant follows
    # Recotap's 100-at-a-time list round by round.
    ds = dataset
    crm = ds.write_crm(tmp_path / "crm.csv")
    before = _unmapped(sandbox)
    dialog = _dialog(qtbot, services)
    _wait_idle(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.page == "match"
    dialog.scan_check.setChecked(False)
    backfill_to_review(qtbot, dialog, crm)
    model = dialog.review_model
    assert model.rowCount() == 100 and dialog.session is not None
    assert "more may follow" in dialog.kinds_label.text()
    first_round = {r.proposal.domain for r in model.rows}

    # One listed account's domain changes in Recotap before sending: notFound.
    gone = next(d for d in sorted(ds.domain) if d in first_round)
    with sandbox.state.lock:  # the sandbox has no API for this; it models an edit in Recotap
        sandbox.state._by_domain.pop(gone)
    sent_first = {r.proposal.domain for r in model.rows if r.accepted}
    box = _confirm_send(qtbot, dialog)
    box.button(QMessageBox.StandardButton.Yes).click()
    _wait_idle(qtbot, dialog)
    row = model.row(model.find_domain(gone))
    assert row.state == "failed" and gone in row.message
    assert dialog.runs[0].counts == {"updated": len(sent_first) - 1, "failed": 1}
    assert "1 failed" in dialog.result_label.text()
    dialog.decision_filter.setCurrentIndex(4)  # failed
    assert dialog.review_proxy.rowCount() == 1
    dialog.decision_filter.setCurrentIndex(0)

    # The listing brought accounts not seen before: Next round adds them.
    assert dialog.pending and dialog.next_round_button.isVisible()
    assert "more accounts without an external ID" in dialog.result_label.text()
    n_more = len(dialog.pending)
    dialog.next_round_button.click()
    assert model.rowCount() == 100 + n_more and not dialog.next_round_button.isVisible()
    while dialog.send_button.isEnabled():
        box = _confirm_send(qtbot, dialog)
        box.button(QMessageBox.StandardButton.Yes).click()
        _wait_idle(qtbot, dialog)
        if dialog.pending:
            dialog.next_round_button.click()
    assert "Finished" in dialog.result_label.text()
    written = _ids(sandbox)
    assert written == {d: i for d, i in ds.domain.items() if d != gone}
    assert _unmapped(sandbox) == before - len(written)
    assert len(dialog.runs) >= 2 and all(r.kind == "domain" for r in model.rows)


def test_columns_can_be_changed_and_a_bad_mapping_is_explained(
        qtbot, services, dataset, tmp_path):
    crm = tmp_path / "crm.csv"
    with crm.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Account Name", "Website", "Owner", "Account ID", "Legacy ID"])
        for row in dataset.crm_rows:
            w.writerow([row[1], row[2], "Sam", row[0], "L-" + row[0]])
    dialog = _dialog(qtbot, services)
    _wait_idle(qtbot, dialog)
    dialog.next_button.click()
    dialog.load_crm(crm)
    _wait_idle(qtbot, dialog)
    assert dialog.column_mapping().columns == {
        "externalId": "Account ID", "domain": "Website", "name": "Account Name"}
    # no ID column: explained, nothing can be matched
    dialog.set_column("externalId", "")
    _wait_idle(qtbot, dialog)
    assert dialog.crm is None and not dialog.match_button.isEnabled()
    assert "No column holds the CRM's account ID" in dialog.crm_summary.text()
    # another ID column: read again with it
    dialog.set_column("externalId", "Legacy ID")
    _wait_idle(qtbot, dialog)
    assert dialog.crm is not None and dialog.match_button.isEnabled()
    assert "as chosen" in dialog.columns_hint.text()
    dialog.find_matches()
    _wait_idle(qtbot, dialog)
    some = next(iter(dataset.domain))
    row = dialog.review_model.row(dialog.review_model.find_domain(some))
    assert row.proposal.external_id == "L-" + dataset.domain[some]


def test_help_explains_the_matching_rules_and_the_overwrite(qtbot, services):
    dialog = _dialog(qtbot, services)
    _wait_idle(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_F1)
    help_dialog = dialog.help_dialog
    assert help_dialog is not None and help_dialog.isVisible()
    text = help_dialog.findChild(QTextBrowser, "backfill-help").toPlainText()
    for words in ("normalised", "legal suffixes", "never guesses", "overwrites an existing "
                  "external ID without warning", "100"):
        assert words in text
    help_dialog.close()


def test_badges_stay_readable_in_dark_and_light_palettes(qapp):
    from PySide6.QtGui import QColor, QPalette

    def contrast(a: QColor, b: QColor) -> float:
        def lum(c: QColor) -> float:
            def ch(v: float) -> float:
                return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
            return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
        hi, lo = sorted((lum(a), lum(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    for base in (QColor("#ffffff"), QColor("#1e1e1e")):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Base, base)
        seen = set()
        for kind in MatchKind:
            bg, fg = badge_colors(kind.value, palette)
            assert contrast(bg, fg) >= 4.5, (base.name(), kind)
            seen.add(bg.name())
        assert len(seen) == 4  # one colour per kind


def test_no_connection_is_explained(qtbot, bare_services):
    dialog = _dialog(qtbot, bare_services)
    assert "no connection" in dialog.banner_text().lower()
    assert not dialog.next_button.isEnabled() and dialog.job is None


# ---------------------------------------------------------------------------- screenshot


@pytest.mark.xcb
def test_screenshot_of_the_review_grid(qtbot, data_dir, memory_keyring, tmp_path):
    require_native_display()
    from recotap_desktop.sandbox import DEMO_API_KEY
    from recotap_desktop.store.secrets import KeyStore
    from recotap_desktop.store.settings import Profile

    with SandboxServer(accounts=0, seed=21) as server:
        server.state.add_accounts(64)
        crm = tmp_path / "hubspot-companies-2026-05.csv"
        realistic_crm(server, crm, random.Random(4))
        services = Services.open(data_dir, keystore=KeyStore(memory_keyring), env={})
        try:
            services.settings.upsert_profile(
                Profile(name="Acme workspace", edition="crm", base_url=server.base_url("crm")))
            services.set_active("Acme workspace")
            services.keystore.set("Acme workspace", DEMO_API_KEY)
            dialog = _dialog(qtbot, services)
            dialog.resize(1120, 760)
            backfill_to_review(qtbot, dialog, crm)
            model = dialog.review_model
            kinds = Counter(r.kind for r in model.rows)
            assert kinds["domain"] and kinds["name"] and kinds["ambiguous"] and kinds["none"]
            shown = sorted(model.rows, key=lambda r: r.proposal.name.casefold())[:16]
            names = [r.proposal.domain for r in shown if r.kind == "name"]
            for domain in names[:1]:  # the user ticked a name match after looking at it
                dialog.choose_candidate(domain, model.row(
                    model.find_domain(domain)).proposal.candidates[0].external_id)
            amb = next(r for r in shown if r.kind == "ambiguous")
            assert dialog.choose_candidate(amb.proposal.domain,
                                           amb.proposal.candidates[1].external_id)
            assert dialog.select_domain(amb.proposal.domain)
            qtbot.wait(100)
            # Written to artifacts/; RECOTAP_SAVE_SCREENSHOTS=1 refreshes the README's copy.
            shot = SHOT if os.environ.get("RECOTAP_SAVE_SCREENSHOTS") else ARTIFACT
            shot.parent.mkdir(parents=True, exist_ok=True)
            assert dialog.grab().save(str(shot), "PNG")
            assert shot.stat().st_size > 20_000
            print(f"screenshot: {shot}")
        finally:
            services.close()


@pytest.mark.parametrize("dataset", [build_dataset(1200, 0, 0, 0, 0, 0, seed=13)],
                         ids=["1200-domain-matches"])
def test_stop_while_sending_leaves_an_ordinary_resumable_run(
        qtbot, services, sandbox, dataset, tmp_path):
    dialog = _dialog(qtbot, services)
    backfill_to_review(qtbot, dialog, dataset.write_crm(tmp_path / "crm.csv"))
    assert len(dialog.review_model.decisions()) == 1200
    sandbox.faults.latency = 0.3  # slow answers, so Stop lands mid-run
    box = _confirm_send(qtbot, dialog)
    box.button(QMessageBox.StandardButton.Yes).click()
    assert dialog.progress_box.isVisible() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: _unmapped(sandbox) <= 1100, timeout=WAIT)
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, dialog)
    (run,) = dialog.runs
    assert run.state is RunState.CANCELLED
    written = 1200 - _unmapped(sandbox)
    assert run.counts == {"updated": written, "not sent": 1200 - written} and written < 1200
    assert f"Run {run.run_id} (ID mappings) was cancelled" in dialog.result_label.text()
    assert "resume" in dialog.result_label.text()
    states = Counter(r.state for r in dialog.review_model.rows)
    assert states == {"updated": written, "not sent": 1200 - written}
    assert not dialog.send_button.isEnabled()  # the rest belongs to the resumable run
    assert services.history is not None
    assert services.history.get_run(run.run_id).state == "cancelled"


def test_a_crm_file_dropped_on_the_dialog_is_read(qtbot, services, dataset, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    crm = dataset.write_crm(tmp_path / "crm export.csv")
    dialog = _dialog(qtbot, services)
    _wait_idle(qtbot, dialog)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(crm))])
    pos = dialog.rect().center()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(dialog, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(dialog, drop)
    assert dialog.page == "match"
    _wait_idle(qtbot, dialog)
    assert dialog.crm is not None and dialog.crm_edit.text() == str(crm)
    assert "rows" in dialog.crm_summary.text()
    # a file of another kind is refused
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(tmp_path / "photo.png"))])
    refused = QDragEnterEvent(pos, actions, other, buttons, mods)
    QApplication.sendEvent(dialog, refused)
    assert not refused.isAccepted()
