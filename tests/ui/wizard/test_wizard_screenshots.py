"""Every wizard page and the results grid on the real xcb platform, saved as PNGs.

Written to ``tmp_path``; with RECOTAP_SAVE_SCREENSHOTS=1 to ``resources/screenshots/``
(wizard-1-file.png … wizard-6-results.png, results-grid.png).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from platform_support import require_native_display
from PySide6.QtWidgets import QWidget

from recotap_desktop.ui.results import ResultsWindow
from tests.helpers.wizard import COMMIT, WAIT, click, open_wizard

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "resources" / "samples" / "accounts.csv"


def _save(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / name
    assert widget.grab().save(str(path), "PNG")
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.xcb
def test_wizard_and_results_screenshots(qtbot, services, sandbox, tmp_path):
    require_native_display()
    folder = tmp_path / "shots"
    folder.mkdir()
    source = shutil.copy(SAMPLE, tmp_path / "crm-accounts-export.csv")
    wizard = open_wizard(qtbot, services, "accounts", Path(source))
    wizard.resize(1040, 760)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    qtbot.wait(100)
    _save(wizard, folder, "wizard-1-file.png")
    click(qtbot, wizard)
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    qtbot.wait(100)
    _save(wizard, folder, "wizard-2-columns.png")
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and not wizard.check_page.running,
                    timeout=WAIT)
    wizard.check_page.exclude_check.setChecked(True)
    qtbot.wait(100)
    _save(wizard, folder, "wizard-3-check.png")
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    seg = next(s for s in sandbox.state.segments.values()
               if s["type"] == "static" and s["status"] == "active")
    wizard.options_page.set_segment((seg["segmentId"], seg["name"]))
    wizard.options_page.confirm_check.setChecked(True)
    qtbot.wait(100)
    _save(wizard, folder, "wizard-4-options.png")
    sandbox.faults.latency = 3.0  # the one request is slow: the page shows the run going
    click(qtbot, wizard, COMMIT)
    qtbot.wait(800)
    assert wizard.run_page.running
    _save(wizard, folder, "wizard-5-run.png")
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    sandbox.faults.latency = 0.0
    click(qtbot, wizard)
    view = wizard.results_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy, timeout=WAIT)
    qtbot.wait(100)
    _save(wizard, folder, "wizard-6-results.png")

    window = ResultsWindow(services, wizard.ctx.run_id)
    qtbot.addWidget(window)
    window.resize(1100, 640)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.view.model.rowCount() > 0 and not window.view.busy,
                    timeout=WAIT)
    window.view.set_state_filter(None)
    qtbot.wait(100)
    _save(window, folder, "results-grid.png")
    if os.environ.get("RECOTAP_SAVE_SCREENSHOTS"):
        target = ROOT / "resources" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, target / png.name)
