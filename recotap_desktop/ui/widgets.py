"""Small widgets and widget habits shared by the windows: a Retry button for a failed
server lookup, grids that Tab leaves, labels that elide with a tooltip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QPushButton


def retry_button(retry: Callable[[], Any], tooltip: str) -> QPushButton:
    """A hidden "Retry" button for the error of a server lookup; shown with the error."""
    button = QPushButton("&Retry")
    button.setObjectName("retryLookup")
    button.setToolTip(tooltip)
    button.setAccessibleName("Retry the lookup")
    button.clicked.connect(lambda _checked=False: retry())
    button.setVisible(False)
    return button
