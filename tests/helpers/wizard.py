"""Driving the import wizard with qtbot: open it, click its buttons, reach the check page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard

from recotap_desktop.api import RetryPolicy
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.wizard import ImportWizard
from recotap_desktop.ui.wizard.wizard import CHECK_PAGE

WAIT = 60_000
FAST_RETRY = {"retry": RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05,
                                   max_total=60)}
NEXT = QWizard.WizardButton.NextButton
COMMIT = QWizard.WizardButton.CommitButton


def click(qtbot: Any, wizard: ImportWizard, which: QWizard.WizardButton = NEXT) -> None:
    button = wizard.button(which)
    assert button.isVisible() and button.isEnabled(), f"{which} is not available"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_wizard(qtbot: Any, services: Services, kind: str, path: Path | None = None,
                **kwargs: Any) -> ImportWizard:
    wizard = ImportWizard(services, kind, path, **kwargs)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    activate(qtbot, wizard)
    return wizard


def activate(qtbot: Any, window: Any) -> None:
    """Make ``window`` the active window (keyboard shortcuts need it)."""
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)


def to_check(qtbot: Any, wizard: ImportWizard) -> None:
    """From a chosen file to a finished check."""
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    click(qtbot, wizard)
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    click(qtbot, wizard)
    assert wizard.currentId() == CHECK_PAGE
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and not wizard.check_page.running,
                    timeout=WAIT)



def discard(wizard: ImportWizard) -> None:
    """Close the wizard as a user does before sending: Close, then Discard."""
    wizard.close()
    box = wizard.message_box
    assert box is not None and box.isVisible(), "closing before a run asks first"
    box.button(QMessageBox.StandardButton.Discard).click()
    assert not wizard.isVisible()
