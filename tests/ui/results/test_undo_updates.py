"""The results window's "Undo updates…": the confirmation shows what goes back and what is
refused, and only its send button sends (issue 16); screenshot with
RECOTAP_SAVE_SCREENSHOTS=1."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.results import ResultsWindow
from recotap_desktop.ui.services import Services
from tests.helpers.wizard import WAIT

ROOT = Path(__file__).resolve().parents[3]


def _updating_run(services: Services, sandbox: SandboxServer, tmp_path: Path) -> int:
    profile = services.active_profile
    assert profile is not None
    services.settings.upsert_profile(Profile(name=profile.name, edition="external",
                                             base_url=sandbox.base_url("external")))
    spec = services.connection_spec(services.settings.get_profile(profile.name))
    accounts = sandbox.state.all_accounts()[:6]
    path = tmp_path / "renames.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Company Domain Name", "Company name"])
        w.writerows([a["domain"], a["name"] + " Renamed"] for a in accounts)
        w.writerow(["created.undo-example.org", "Created By The Run"])
    kind = get_kind("accounts")
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(spec.rules, []))
    job = ImportJob(kind="accounts", path=path, mapping=mapping, rules=spec.rules,
                    options=ImportOptions(upsert=True))
    assert services.history is not None
    result = ImportRunner(build_plan(job), spec, services.history).run()
    assert result.counts == {"updated": 6, "created": 1}
    # someone renames one of them again after the run
    sandbox.state.accounts[accounts[0]["rtp_aid"]]["name"] = "Renamed By A Colleague"
    sandbox.state.touch(accounts[0]["rtp_aid"])
    return result.run_id


def test_undo_asks_shows_refusals_and_sends_back(qtbot, services, sandbox, tmp_path):
    names = {a["domain"]: a["name"] for a in sandbox.state.all_accounts()[:6]}
    run_id = _updating_run(services, sandbox, tmp_path)
    window = ResultsWindow(services, run_id)
    qtbot.addWidget(window)
    window.show()
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy, timeout=WAIT)
    assert view.undo_button.isVisible() and view.undo_button.isEnabled()
    posts = sum(1 for r in sandbox.state.request_log if r.method == "POST")
    view.undo_button.click()
    qtbot.waitUntil(lambda: view.undo_dialog is not None, timeout=WAIT)
    dialog = view.undo_dialog
    assert "5 values to restore" in dialog.summary.text()
    assert "1 changed since" in dialog.summary.text()
    assert dialog.created_button.isVisible()
    assert dialog.cancel_button.isDefault()  # Return does not send
    saved = dialog.save_created(tmp_path / "created.csv")
    assert saved is not None and "created.undo-example.org" in saved.read_text()
    verdicts = [dialog.tree.topLevelItem(i).text(3) for i in range(dialog.tree.topLevelItemCount())]
    assert verdicts.count("goes back") == 5 and verdicts.count("nothing goes back") == 1
    assert sum(1 for r in sandbox.state.request_log if r.method == "POST") == posts
    if os.environ.get("RECOTAP_SAVE_SCREENSHOTS"):
        qtbot.wait(100)
        dialog.grab().save(str(ROOT / "resources" / "screenshots" / "undo-confirm.png"))

    dialog.send_button.click()
    qtbot.waitUntil(lambda: view.run_id != run_id and not view.busy, timeout=WAIT)
    for domain, name in names.items():
        now = sandbox.state.account_by_domain(domain)["name"]
        assert now == ("Renamed By A Colleague" if now.startswith("Renamed By") else name)
    assert view.model.results.counts() == {"updated": 5, "skipped": 1}


def test_cancel_sends_nothing(qtbot, services, sandbox, tmp_path):
    run_id = _updating_run(services, sandbox, tmp_path)
    window = ResultsWindow(services, run_id)
    qtbot.addWidget(window)
    window.show()
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy, timeout=WAIT)
    before = len(sandbox.state.request_log)
    view.undo_button.click()
    qtbot.waitUntil(lambda: view.undo_dialog is not None, timeout=WAIT)
    writes = [r for r in list(sandbox.state.request_log)[before:] if r.method != "GET"]
    assert writes == []
    view.undo_dialog.cancel_button.click()
    qtbot.wait(200)
    assert [r for r in list(sandbox.state.request_log)[before:] if r.method != "GET"] == []
    assert view.run_id == run_id


def test_history_offers_undo_and_asks_first(qtbot, services, sandbox, tmp_path):
    from tests.helpers.windows import show_main_window

    run_id = _updating_run(services, sandbox, tmp_path)
    window = show_main_window(qtbot, services)
    dialog = window.open_history()
    assert dialog.select_run(run_id)
    assert dialog.undo_button.isEnabled()
    before = len(sandbox.state.request_log)
    dialog.undo_button.click()
    results = next(w for w in window.findChildren(ResultsWindow) if w.run_id == run_id)
    qtbot.waitUntil(lambda: results.view.undo_dialog is not None, timeout=WAIT)
    assert [r for r in list(sandbox.state.request_log)[before:] if r.method != "GET"] == []
    results.view.undo_dialog.reject()
    results.close()
    dialog.close()
