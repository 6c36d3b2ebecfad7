"""A bar of coloured segments, one per row state, proportional to its count; clickable.

Custom-painted (one widget, no child per state). Each state with rows gets at least a
few pixels so that it can be clicked; its label ("1,234 created") is drawn inside the
segment when it fits and always in the legend line below the bar. Clicking a segment
or a legend entry emits :attr:`StateSummaryBar.stateClicked` (with the Ctrl modifier:
``stateToggled``, to build a set). Keyboard: Left/Right move the focus between states,
Space/Enter click the focused one. Colours follow the palette (light or dark).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from recotap_desktop.ui.results.colors import state_color, text_on

_MIN_SEGMENT = 6
_BAR_HEIGHT = 26
_GAP = 6


class StateSummaryBar(QWidget):
    """Counts by state as coloured segments; emits the clicked state's name."""

    stateClicked = Signal(str)
    stateToggled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts: dict[str, int] = {}
        self._selected: frozenset[str] | None = None
        self._focus = 0
        self._segments: list[tuple[str, QRect]] = []
        self._legend: list[tuple[str, QRect]] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Rows by state")

    # ------------------------------------------------------------------ state
    def set_counts(self, counts: Mapping[str, int]) -> None:
        """Show these counts (states with 0 rows are left out)."""
        self._counts = {k: int(v) for k, v in counts.items() if v}
        self._focus = min(self._focus, max(0, len(self._counts) - 1))
        self.setToolTip(self.describe())
        self.updateGeometry()
        self.update()

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def set_selected(self, states: frozenset[str] | None) -> None:
        """Highlight the filtered states (None: no filter)."""
        self._selected = states
        self.update()

    def describe(self) -> str:
        """``"900 created · 100 failed (1,000 rows)"``."""
        total = sum(self._counts.values())
        parts = [f"{n:,} {state}" for state, n in self._counts.items()]
        return " · ".join(parts) + f" ({total:,} rows)" if parts else "No rows"

    def segment_rect(self, state: str) -> QRect | None:
        """Where ``state``'s segment is drawn (for tests and tooltips)."""
        self._layout()
        for name, rect in self._segments:
            if name == state:
                return QRect(rect)
        return None

    # ------------------------------------------------------------------ geometry
    def _legend_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def sizeHint(self) -> QSize:
        return QSize(480, _BAR_HEIGHT + _GAP + self._legend_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(120, _BAR_HEIGHT + _GAP + self._legend_height())

    def _layout(self) -> None:
        self._segments = []
        self._legend = []
        total = sum(self._counts.values())
        if not total:
            return
        width = self.width() - 2
        states = list(self._counts)
        minimum = _MIN_SEGMENT * len(states)
        spare = max(0, width - minimum)
        x = 1.0
        for i, state in enumerate(states):
            share = _MIN_SEGMENT + spare * self._counts[state] / total
            right = width + 1 if i == len(states) - 1 else x + share
            self._segments.append((state, QRect(round(x), 1, round(right) - round(x),
                                                _BAR_HEIGHT - 2)))
            x = right
        fm = QFontMetrics(self.font())
        lx = 1
        top = _BAR_HEIGHT + _GAP
        swatch = fm.height() - 4
        for state in states:
            text = f"{self._counts[state]:,} {state}"
            w = swatch + 6 + fm.horizontalAdvance(text) + 16
            self._legend.append((state, QRect(lx, top, w, fm.height() + 2)))
            lx += w

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        self._layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        dark = pal.color(QPalette.ColorRole.Window).lightness() < 128
        fm = QFontMetrics(self.font())
        frame = QRectF(0.5, 0.5, self.width() - 1, _BAR_HEIGHT - 1)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(frame, 4, 4)
        if not self._segments:
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, "No rows yet")
            painter.end()
            return
        filtering = self._selected is not None
        for i, (state, rect) in enumerate(self._segments):
            color = state_color(state, dark)
            if filtering and self._selected is not None and state not in self._selected:
                color.setAlphaF(0.35)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRect(rect)
            text = f"{self._counts[state]:,} {state}"
            if fm.horizontalAdvance(text) + 8 <= rect.width():
                painter.setPen(text_on(state_color(state, dark)) if not (
                    filtering and self._selected is not None and state not in self._selected)
                    else pal.color(QPalette.ColorRole.Text))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            if self.hasFocus() and i == self._focus:
                painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect.adjusted(1, 1, -1, -1))
        swatch = fm.height() - 4
        for state, rect in self._legend:
            color = state_color(state, dark)
            chosen = not filtering or (self._selected is not None and state in self._selected)
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
            painter.setBrush(color if chosen else pal.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(QRectF(rect.x() + 0.5, rect.y() + 3.5, swatch, swatch), 2, 2)
            text_rect = rect.adjusted(swatch + 6, 0, 0, 0)
            painter.setPen(pal.color(QPalette.ColorRole.WindowText if chosen
                                     else QPalette.ColorRole.PlaceholderText))
            font = self.font()
            font.setBold(filtering and chosen)
            painter.setFont(font)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, f"{self._counts[state]:,}"
                             f" {state}")
            painter.setFont(self.font())
        painter.end()

    # ------------------------------------------------------------------ input
    def _state_at(self, x: int, y: int) -> str | None:
        self._layout()
        for state, rect in self._segments + self._legend:
            if rect.contains(x, y):
                return state
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position().toPoint()
        state = self._state_at(pos.x(), pos.y())
        if state is None:
            return None
        self._focus = list(self._counts).index(state)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.stateToggled.emit(state)
        else:
            self.stateClicked.emit(state)
        self.update()
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        state = self._state_at(pos.x(), pos.y())
        if state is not None:
            total = sum(self._counts.values())
            share = 100 * self._counts[state] / total if total else 0
            QToolTip.showText(
                event.globalPosition().toPoint(),
                f"{self._counts[state]:,} {state} ({share:.1f}%) — click to show only these, "
                "Ctrl+click to add to the filter",
                self,
            )
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        states = list(self._counts)
        if not states:
            return super().keyPressEvent(event)
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            self._focus = (self._focus + step) % len(states)
            self.update()
            return None
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            state = states[self._focus]
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.stateToggled.emit(state)
            else:
                self.stateClicked.emit(state)
            return None
        return super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)
