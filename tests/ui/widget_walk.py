"""Walk a window's widget tree for keyboard and accessibility problems (issue 18, finding 5).

* :func:`mnemonic_clashes`: two visible, enabled controls of one window answering the same
  Alt+letter. The letters come from button texts, buddy labels, tab titles and menu-bar
  titles (each window's menu bar shares the Alt letters of its widgets).
* :func:`unnamed_controls`: interactive widgets a screen reader could not name. The rule:
  a control is named when it has an ``accessibleName``, or its own visible text (buttons,
  check boxes, group-box checkboxes), or a ``QLabel`` whose buddy it is (``QFormLayout``
  rows set that buddy). Tooltips and placeholders do not count: they are descriptions,
  read late or not at all. Qt's own parts (a spin box's line edit, a scroll bar, a
  table's corner button, tab-bar scroll arrows, the ``qt_`` named internals) are skipped:
  they are read as part of their owner.
"""

from __future__ import annotations

import re
from collections import defaultdict

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView,
               QPlainTextEdit, QTextEdit, QAbstractSlider, QTabBar)

_MNEMONIC = re.compile(r"&([^&\s])")


def mnemonic(text: str) -> str | None:
    """The Alt letter of ``text`` ("E&xport" → "x"), lower case; None without one."""
    match = _MNEMONIC.search(text.replace("&&", ""))
    return match.group(1).lower() if match else None


def _shown(widget: QWidget, window: QWidget) -> bool:
    return widget.isVisibleTo(window) and widget.isEnabled()


def _window_of(widget: QWidget) -> QWidget:
    return widget.window()


def mnemonic_clashes(window: QWidget) -> dict[str, list[str]]:
    """Alt letters used by more than one visible, enabled control of ``window``."""
    users: dict[str, list[str]] = defaultdict(list)
    for widget in [window, *window.findChildren(QWidget)]:
        if widget is not window and (_window_of(widget) is not window
                                     or not _shown(widget, window)):
            continue
        texts: list[str] = []
        if isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            buddy = widget.buddy()
            if _shown(buddy, window):
                texts.append(widget.text())
        elif isinstance(widget, QGroupBox) and widget.isCheckable():
            texts.append(widget.title())
        elif isinstance(widget, QTabBar):
            texts.extend(widget.tabText(i) for i in range(widget.count())
                         if widget.isTabEnabled(i) and widget.isTabVisible(i))
        if isinstance(widget, QMainWindow) and widget.menuWidget() is not None:
            texts.extend(a.text() for a in widget.menuBar().actions() if a.isVisible())
        for text in texts:
            letter = mnemonic(text)
            if letter is not None:
                users[letter].append(f"{type(widget).__name__} {text!r}")
    return {k: v for k, v in users.items() if len(v) > 1}


def _internal(widget: QWidget) -> bool:
    """A part of another control (read as part of it) or one of Qt's named internals."""
    if widget.objectName().startswith("qt_") or isinstance(widget, QScrollBar):
        return True
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():
        if isinstance(parent, (QAbstractItemView, QTabBar, QComboBox, QAbstractSpinBox)):
            return True
        parent = parent.parentWidget()
    return False


def has_name(widget: QWidget, buddies: set[int]) -> bool:
    if widget.accessibleName().strip():
        return True
    if isinstance(widget, QAbstractButton) and widget.text().replace("&", "").strip():
        return True
    return id(widget) in buddies


def unnamed_controls(window: QWidget) -> list[str]:
    """Visible interactive widgets of ``window`` that have no accessible name (see rule)."""
    children = window.findChildren(QWidget)
    buddies = {id(label.buddy()) for label in window.findChildren(QLabel)
               if label.buddy() is not None and label.text().strip()}
    missing = []
    for widget in children:
        if not isinstance(widget, INTERACTIVE) or _window_of(widget) is not window:
            continue
        if not widget.isVisibleTo(window) or _internal(widget):
            continue
        if not has_name(widget, buddies):
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} "
                           f"(in {type(widget.parentWidget()).__name__})")
    return missing


def problems(window: QWidget, where: str) -> list[str]:
    """Every clash and unnamed control of ``window``, each line saying where."""
    lines = [f"{where}: Alt+{k.upper()} is used by {', '.join(v)}"
             for k, v in sorted(mnemonic_clashes(window).items())]
    lines += [f"{where}: no accessible name: {w}" for w in unnamed_controls(window)]
    return lines
