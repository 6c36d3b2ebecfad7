"""Does a window fit a small screen with nothing cut (issue 18, finding 7)?

:func:`fit_problems` lists, for one shown window, every visible control whose text does
not fit the width (or, for a wrapping label, the height) it was given, unless the
control shows the text elided and carries the full text in its tooltip. Controls
inside item views and text views are skipped: they scroll rather than clip. (The
controls of a scroll area's page are checked: a combo box there is as narrow as it is.)
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QLabel,
    QRadioButton,
    QScrollArea,
    QWidget,
)

#: Room a combo box needs beside its text: the frame and the drop-down arrow.
_COMBO_CHROME = 28
#: Room a check box or radio button needs beside its text: the indicator and its gap.
_INDICATOR = 24


def _scrolls(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():
        if isinstance(parent, QAbstractItemView) or (
                isinstance(parent, QAbstractScrollArea) and not isinstance(parent, QScrollArea)):
            return True
        parent = parent.parentWidget()
    return False


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _elided_with_tip(shown: str, tip: str, full: str) -> bool:
    return "…" in shown and tip.replace("&", "") == full.replace("&", "")


def fit_problems(window: QWidget, where: str) -> list[str]:
    """Every cut text of ``window`` (shown), each line saying where and what."""
    found: list[str] = []
    for widget in window.findChildren(QWidget):
        if widget.window() is not window or not widget.isVisibleTo(window):
            continue
        if _scrolls(widget) or widget.width() <= 0:
            continue
        name = f"{type(widget).__name__} {widget.objectName() or ''}".strip()
        if isinstance(widget, QLabel):
            if not widget.text().strip():
                continue
            full = widget.property("fullText")
            if widget.wordWrap():
                need = widget.heightForWidth(widget.width())
                if need > widget.height() + 1:
                    found.append(f"{where}: {name} {widget.text()[:60]!r} needs {need} px "
                                 f"of height, has {widget.height()}")
            elif widget.sizeHint().width() > widget.width() + 1 and not (
                    full and _elided_with_tip(widget.text(), widget.toolTip(), str(full))):
                found.append(f"{where}: {name} {widget.text()[:60]!r} needs "
                             f"{widget.sizeHint().width()} px, has {widget.width()}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            room = widget.width() - (_INDICATOR if isinstance(widget, (QCheckBox, QRadioButton))
                                     else 12)
            need = widget.fontMetrics().horizontalAdvance(_plain(widget.text()))
            if need > room:
                found.append(f"{where}: {name} {widget.text()!r} needs {need} px of text, "
                             f"has {room}")
        elif isinstance(widget, QComboBox) and widget.currentText():
            text = widget.currentText()
            need = widget.fontMetrics().horizontalAdvance(text) + _COMBO_CHROME
            if need > widget.width() and not widget.toolTip().startswith(text):
                found.append(f"{where}: {name} shows {text!r} cut ({need} px needed, "
                             f"{widget.width()}) without the full text in its tooltip")
    return found


def size_problems(window: QWidget, where: str, width: int = 800, height: int = 600) -> list[str]:
    """``window`` cannot be made ``width`` × ``height`` (its layout needs more)."""
    hint = window.minimumSizeHint()
    lines = []
    if hint.width() > width or hint.height() > height:
        lines.append(f"{where}: needs at least {hint.width()}×{hint.height()}, "
                     f"more than {width}×{height}")
    if window.width() > width or window.height() > height:
        lines.append(f"{where}: is {window.width()}×{window.height()} after a resize to "
                     f"{width}×{height}")
    return lines
