"""The GUI checks the file it will write before anything is sent or written (the rule of
recotap_desktop/files/targets.py), and offers another name (issue 15: 1, 8; issue 19)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.export import ExportDialog
from recotap_desktop.ui.results import open_results
from tests.helpers.runs import sandbox_run

WAIT = 60_000
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _offers_another_name(box: QMessageBox | None) -> str:
    assert box is not None and box.isVisible()
    assert any(b.text() == "Choose another name…" for b in box.buttons())
    return box.text()


def test_export_dialog_refuses_an_unwritable_target_before_sending(
    qtbot, services, sandbox, tmp_path
) -> None:
    dialog = ExportDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    plain = tmp_path / "plain"
    plain.write_text("a file, not a folder")
    for target, words in ((tmp_path / "nul.xlsx", "reserved device name"),
                          (plain / "out.csv", "is a file, not a folder")):
        dialog.path_edit.setText(str(target))
        assert dialog.start() is None
        text = _offers_another_name(dialog.target_box)
        assert words in text and words in dialog.banner_text()
        if words.startswith("reserved"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            dialog.target_box.grab().save(str(SHOTS / "export-target-refused.png"))
        dialog.target_box.reject()
        assert dialog.job is None and dialog.page != "progress"
    assert [r for r in sandbox.state.request_log if r.path.endswith("/accounts")] == []


def test_results_export_never_overwrites_the_input_and_offers_a_save_as(
    qtbot, services, sandbox, tmp_path
) -> None:
    path, result = sandbox_run(services, sandbox, tmp_path, 20)
    assert result.state is RunState.FINISHED
    window = open_results(services, result.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 20 and not view.busy, timeout=WAIT)
    before = path.read_bytes()
    (tmp_path / "links").mkdir()
    os.link(path, tmp_path / "links" / "same.csv")
    assert view.export_to(tmp_path / "links" / "same.csv") is None
    assert "input file" in _offers_another_name(view.target_box)
    view.target_box.reject()
    assert path.read_bytes() == before
    window.close()


def test_results_export_to_a_locked_file_goes_to_a_sibling(
    qtbot, services, sandbox, tmp_path, monkeypatch
) -> None:
    """Windows: Excel opened the file after it was chosen; the replace fails there."""
    _path, result = sandbox_run(services, sandbox, tmp_path, 5)
    window = open_results(services, result.run_id)
    qtbot.addWidget(window)
    view = window.view
    qtbot.waitUntil(lambda: view.model.rowCount() == 5 and not view.busy, timeout=WAIT)
    out = tmp_path / "results.csv"
    out.write_text("open in Excel")
    real_replace = os.replace

    def locked(src: str, dst: str) -> None:
        if dst == str(out):
            raise PermissionError(errno.EACCES, "sharing violation", dst)
        real_replace(src, dst)

    monkeypatch.setattr("recotap_desktop.files.writers.os.replace", locked)
    with qtbot.waitSignal(view.exported, timeout=WAIT) as blocker:
        view.export_to(out)
    assert blocker.args[0] == tmp_path / "results (2).csv"
    assert out.read_text() == "open in Excel"
    window.close()
