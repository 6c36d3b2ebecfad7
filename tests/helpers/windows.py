"""Showing windows and dialogs with qtbot, driving them, saving screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from recotap_desktop.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
WAIT = 60_000


def show_main_window(qtbot: Any, services: Any, cls: type[MainWindow] = MainWindow, *,
                     timeout: int = 30_000) -> MainWindow:
    """``cls(services)`` shown, once its connection card has checked the key."""
    window = cls(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=timeout)
    return window


def save_shot(widget: QWidget, name: str) -> None:
    """``widget`` as ``artifacts/screenshots/NAME``; with RECOTAP_SAVE_SCREENSHOTS=1 also
    in ``resources/screenshots/`` (committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    assert widget.grab().save(str(path), "PNG")
    assert path.stat().st_size > 5_000
    if os.environ.get("RECOTAP_SAVE_SCREENSHOTS"):
        target = ROOT / "resources" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)


def backfill_to_review(qtbot: Any, dialog: Any, crm: Path) -> None:
    """The backfill dialog's step 2 with the keyboard: type the path, Enter reads it,
    Enter finds matches; the dialog is then on its review page."""

    def wait_idle() -> None:
        qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)

    wait_idle()
    if dialog.page == "list":
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # default button: Next
    assert dialog.page == "match"
    dialog.crm_edit.setFocus()
    qtbot.keyClicks(dialog.crm_edit, str(crm))
    qtbot.keyClick(dialog.crm_edit, Qt.Key.Key_Return)
    wait_idle()
    assert dialog.crm is not None, dialog.crm_summary.text()
    assert dialog.match_button.isDefault() and dialog.match_button.isEnabled()
    dialog.match_button.setFocus()
    qtbot.keyClick(dialog.match_button, Qt.Key.Key_Return)
    wait_idle()
    assert dialog.page == "review", dialog.banner_text()
