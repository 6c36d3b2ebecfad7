"""Small widgets and widget habits shared by the windows: a Retry button for a failed
server lookup, grids that Tab leaves, labels that elide with a tooltip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWidget


def retry_button(retry: Callable[[], Any], tooltip: str) -> QPushButton:
    """A hidden "Retry" button for the error of a server lookup; shown with the error."""
    button = QPushButton("&Retry")
    button.setObjectName("retryLookup")
    button.setToolTip(tooltip)
    button.setAccessibleName("Retry the lookup")
    button.clicked.connect(lambda _checked=False: retry())
    button.setVisible(False)
    return button


_View = TypeVar("_View", bound=QAbstractItemView)


def tab_leaves(view: _View) -> _View:
    """Tab and Shift+Tab move to the next control; the arrow keys move between cells."""
    view.setTabKeyNavigation(False)
    return view


def return_presses_buttons(root: QWidget) -> None:
    """Return/Enter press the focused push button of ``root`` (outside a dialog a
    QPushButton only answers Return when it is an auto-default button)."""
    for button in root.findChildren(QPushButton):
        button.setAutoDefault(True)
