"""The import wizard (one shape for every import kind): :class:`ImportWizard`."""

from __future__ import annotations

from recotap_desktop.ui.wizard.wizard import ImportWizard

__all__ = ["ImportWizard"]
