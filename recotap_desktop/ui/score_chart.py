"""A small bar chart of an export's scores, drawn with QPainter (no QtCharts, no browser).

:class:`ScoreChart` shows two panels side by side (stacked when the widget is narrow):

* **Account score**: vertical bars, one per bucket of
  :data:`~recotap_desktop.engine.export.HISTOGRAM_LABELS` (``0–9`` … ``100+``), with a
  y axis (ticks and gridlines), the buckets under the bars, axis captions and the
  count above every non-empty bar;
* **Journey stage**: horizontal bars, one per stage in the order the engine gives
  (known stages in journey order first), with the count after every bar.

Accounts that are not scored yet are left out of the histogram (they would pile up in
``0–9``); they get a grey, dashed "Not yet scored" row apart in the stage panel and a
note under the chart. With nothing to draw the widget shows an
empty state that says why.

Colours come from the widget's palette (``Base``/``Text``/``Highlight``), so the chart
follows light and dark themes; sizes come from the font metrics, so it stays readable
at 100 % and on high-DPI screens. Hovering a bar shows its exact value in a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from recotap_desktop.engine.export import HISTOGRAM_LABELS

__all__ = ["MAX_STAGE_ROWS", "NO_STAGE_LABEL", "UNSCORED_LABEL", "ScoreChart", "nice_step"]

#: How the empty journey stage (accounts without a stage) is labelled.
NO_STAGE_LABEL = "(no stage)"
#: The extra row of the stage panel counting accounts that are not scored yet.
UNSCORED_LABEL = "Not yet scored"
#: Stages beyond this many rows are summed into one "Other" row.
MAX_STAGE_ROWS = 8

# Second series colour (journey stages): a teal that reads on white and on near-black.
_STAGE_LIGHT = QColor(0x1B, 0x8A, 0x7A)
_STAGE_DARK = QColor(0x4F, 0xD1, 0xBD)


def nice_step(maximum: float, ticks: int = 4) -> int:
    """A round integer gridline step (1, 2, 5 × 10ⁿ; 25 × 10ⁿ) giving about ``ticks`` lines."""
    if maximum <= 0:
        return 1
    raw = maximum / max(1, ticks)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and float(step).is_integer():
            return max(1, int(step))
    return max(1, int(10 * magnitude))  # pragma: no cover - the loop always returns


def _fmt(n: int) -> str:
    return f"{n:,}"


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def _with_alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class ScoreChart(QWidget):
    """Score histogram and accounts per journey stage of one export (see the module doc)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("score-chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Score distribution chart")
        self._histogram: list[int] = [0] * len(HISTOGRAM_LABELS)
        self._labels: list[str] = list(HISTOGRAM_LABELS)
        self._stages: list[tuple[str, int]] = []
        self._unscored = 0
        self._hits: list[tuple[QRectF, str]] = []
        self._update_description()

    # ------------------------------------------------------------------ data
    def set_data(
        self,
        histogram: Sequence[int],
        stages: Mapping[str, int] | None = None,
        *,
        unscored: int = 0,
        labels: Sequence[str] = HISTOGRAM_LABELS,
    ) -> None:
        """Show ``histogram`` (counts per bucket of ``labels``) and ``stages`` (name -> count).

        ``unscored`` is the number of accounts in neither (printed under the chart).
        """
        if len(histogram) != len(labels):
            raise ValueError(f"{len(histogram)} histogram buckets for {len(labels)} labels")
        self._histogram = [max(0, int(n)) for n in histogram]
        self._labels = list(labels)
        rows = [(name or NO_STAGE_LABEL, int(n)) for name, n in (stages or {}).items() if n > 0]
        if len(rows) > MAX_STAGE_ROWS:
            kept = rows[: MAX_STAGE_ROWS - 1]
            rest = rows[MAX_STAGE_ROWS - 1 :]
            rows = [*kept, (f"Other ({len(rest)} stages)", sum(n for _, n in rest))]
        self._stages = rows
        self._unscored = max(0, int(unscored))
        self._update_description()
        self.update()

    def clear(self) -> None:
        """Show the empty state."""
        self.set_data([0] * len(self._labels), {}, labels=self._labels)

    @property
    def histogram(self) -> list[int]:
        """The counts shown per score bucket."""
        return list(self._histogram)

    @property
    def stage_rows(self) -> list[tuple[str, int]]:
        """The journey-stage rows shown, in order (``(label, count)``)."""
        return list(self._stages)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to draw (the empty state is shown)."""
        return not any(self._histogram) and not self._stages

    def empty_text(self) -> str:
        """What the empty state says."""
        if self._unscored:
            return (
                f"None of the {_fmt(self._unscored)} exported accounts has been scored yet, "
                "so there is no score distribution to show."
            )
        return "No scored accounts in this export, so there is no score distribution to show."

    def summary_text(self) -> str:
        """The chart's content in words (accessible description, tests)."""
        if self.is_empty:
            return self.empty_text()
        buckets = ", ".join(
            f"{label}: {_fmt(n)}" for label, n in zip(self._labels, self._histogram, strict=True)
        )
        stages = ", ".join(f"{name}: {_fmt(n)}" for name, n in self._stages) or "none"
        text = f"Accounts per score: {buckets}. Accounts per journey stage: {stages}."
        if self._unscored:
            text += f" Not yet scored (not shown): {_fmt(self._unscored)}."
        return text

    def _update_description(self) -> None:
        self.setAccessibleDescription(self.summary_text())

    # ------------------------------------------------------------------ geometry
    def sizeHint(self) -> QSize:
        fm = QFontMetricsF(self.font())
        return QSize(round(fm.averageCharWidth() * 100), round(fm.height() * 17))

    def minimumSizeHint(self) -> QSize:
        fm = QFontMetricsF(self.font())
        return QSize(round(fm.averageCharWidth() * 48), round(fm.height() * 12))

    # ------------------------------------------------------------------ tooltips
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            pos = QPointF(event.pos())
            for rect, text in self._hits:
                if rect.contains(pos):
                    QToolTip.showText(event.globalPos(), text, self)
                    return True
            QToolTip.hideText()
            event.ignore()
            return True
        return super().event(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            self._paint(painter)
        finally:
            painter.end()

    def _colors(self) -> dict[str, QColor]:
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        dark = _is_dark(pal)
        score = QColor(pal.color(QPalette.ColorRole.Highlight))
        if abs(score.lightness() - pal.color(QPalette.ColorRole.Base).lightness()) < 60:
            score = QColor(0x5B, 0x9B, 0xEA) if dark else QColor(0x1F, 0x5F, 0xB4)
        return {
            "base": pal.color(QPalette.ColorRole.Base),
            "border": pal.color(QPalette.ColorRole.Mid),
            "text": text,
            "muted": _with_alpha(text, 170),
            "grid": _with_alpha(text, 45),
            "axis": _with_alpha(text, 120),
            "score": score,
            "stage": _STAGE_DARK if dark else _STAGE_LIGHT,
        }

    def _paint(self, p: QPainter) -> None:
        self._hits = []
        colors = self._colors()
        outer = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(colors["border"], 1))
        p.setBrush(colors["base"])
        p.drawRoundedRect(outer, 6, 6)

        font = QFont(self.font())
        fm = QFontMetricsF(font)
        pad = fm.height() * 0.8
        area = outer.adjusted(pad, pad * 0.8, -pad, -pad * 0.8)
        if self._unscored and not self.is_empty:
            note = (
                f"The score histogram shows scored accounts only; the {_fmt(self._unscored)} "
                "not scored yet are counted apart (grey bar)."
            )
            p.setFont(font)
            p.setPen(colors["muted"])
            note_rect = QRectF(area.left(), area.bottom() - fm.height(), area.width(), fm.height())
            p.drawText(note_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(note, Qt.TextElideMode.ElideRight, area.width()))
            area.setBottom(area.bottom() - fm.height() * 1.5)

        if self.is_empty:
            self._paint_empty(p, area, colors, font)
            return

        side_by_side = area.width() >= fm.averageCharWidth() * 90
        gap = fm.height() * 1.5
        if side_by_side:
            left_w = (area.width() - gap) * 0.6
            hist_rect = QRectF(area.left(), area.top(), left_w, area.height())
            stage_rect = QRectF(hist_rect.right() + gap, area.top(),
                                area.width() - left_w - gap, area.height())
        else:
            top_h = (area.height() - gap) * 0.58
            hist_rect = QRectF(area.left(), area.top(), area.width(), top_h)
            stage_rect = QRectF(area.left(), hist_rect.bottom() + gap, area.width(),
                                area.height() - top_h - gap)
        self._paint_histogram(p, hist_rect, colors, font)
        self._paint_stages(p, stage_rect, colors, font)

    # -- empty state -------------------------------------------------------------------
    def _paint_empty(self, p: QPainter, area: QRectF, colors: dict[str, QColor],
                     font: QFont) -> None:
        fm = QFontMetricsF(font)
        # a faint baseline with three ghost bars, so the empty chart still looks like a chart
        ghost = _with_alpha(colors["text"], 28)
        base_y = area.center().y() - fm.height() * 0.2
        width = min(area.width() * 0.3, fm.averageCharWidth() * 24)
        left = area.center().x() - width / 2
        p.setPen(QPen(colors["axis"], 1))
        p.drawLine(QPointF(left, base_y), QPointF(left + width, base_y))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ghost)
        bar_w = width / 7
        for i, h in enumerate((0.9, 1.8, 1.3)):
            x = left + bar_w * (1 + 2 * i)
            p.drawRect(QRectF(x, base_y - fm.height() * h, bar_w, fm.height() * h))
        title = QFont(font)
        title.setBold(True)
        p.setFont(title)
        p.setPen(colors["text"])
        title_rect = QRectF(area.left(), base_y + fm.height() * 0.6, area.width(),
                            fm.height() * 1.2)
        p.drawText(title_rect, Qt.AlignmentFlag.AlignCenter, "Nothing to chart")
        p.setFont(font)
        p.setPen(colors["muted"])
        text_rect = QRectF(area.left() + fm.height(), title_rect.bottom(),
                           area.width() - 2 * fm.height(), fm.height() * 3)
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                   | int(Qt.TextFlag.TextWordWrap), self.empty_text())

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _fitted(font: QFont, texts: Sequence[str], width: float, floor: float = 0.7) -> QFont:
        """``font``, shrunk (down to ``floor``) so that every text fits ``width``."""
        fm = QFontMetricsF(font)
        widest = max((fm.horizontalAdvance(t) for t in texts), default=0.0)
        if widest <= width or widest <= 0:
            return font
        scale = max(floor, width / widest)
        out = QFont(font)
        size = font.pointSizeF()
        if size > 0:
            out.setPointSizeF(size * scale)
        else:
            out.setPixelSize(max(6, int(font.pixelSize() * scale)))
        return out

    def _title(self, p: QPainter, rect: QRectF, text: str, colors: dict[str, QColor],
               font: QFont) -> float:
        bold = QFont(font)
        bold.setBold(True)
        fm = QFontMetricsF(bold)
        p.setFont(bold)
        p.setPen(colors["text"])
        p.drawText(QRectF(rect.left(), rect.top(), rect.width(), fm.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
        return fm.height()

    # -- score histogram ---------------------------------------------------------------------
    def _paint_histogram(self, p: QPainter, rect: QRectF, colors: dict[str, QColor],
                         font: QFont) -> None:
        fm = QFontMetricsF(font)
        title_h = self._title(p, rect, "Account score", colors, font)
        values = self._histogram
        top_value = max(values) if values else 0
        step = nice_step(top_value * 1.08)
        y_max = max(step, math.ceil(top_value * 1.08 / step) * step)
        ticks = list(range(0, y_max + 1, step))
        tick_w = max(fm.horizontalAdvance(_fmt(t)) for t in ticks)

        small = QFont(font)
        if font.pointSizeF() > 0:
            small.setPointSizeF(font.pointSizeF() * 0.9)
        sfm = QFontMetricsF(small)
        caption_h = fm.height()
        plot = QRectF(
            rect.left() + fm.height() + fm.averageCharWidth() + tick_w + fm.averageCharWidth(),
            rect.top() + title_h + sfm.height() * 1.6,
            0,
            0,
        )
        plot.setRight(rect.right() - fm.averageCharWidth())
        plot.setBottom(rect.bottom() - sfm.height() * 1.3 - caption_h * 1.2)
        if plot.height() < fm.height() * 2 or plot.width() < fm.height() * 4:
            return  # far too small to draw anything readable

        def y_of(v: float) -> float:
            return plot.bottom() - plot.height() * v / y_max

        # gridlines and y tick labels
        p.setFont(font)
        for t in ticks:
            y = y_of(t)
            p.setPen(QPen(colors["grid"] if t else colors["axis"], 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(colors["muted"])
            p.drawText(QRectF(plot.left() - tick_w - fm.averageCharWidth() * 1.5,
                              y - fm.height() / 2, tick_w + fm.averageCharWidth() * 0.5,
                              fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(t))
        # y axis caption, rotated
        p.save()
        p.setPen(colors["muted"])
        p.translate(rect.left(), plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, 0, plot.height(), fm.height()),
                   Qt.AlignmentFlag.AlignCenter, "Accounts")
        p.restore()

        n = len(values)
        slot = plot.width() / n
        bar_w = slot * 0.72
        value_font = self._fitted(small, [_fmt(v) for v in values], slot - 2)
        label_font = self._fitted(small, self._labels, slot - 2, floor=0.6)
        vfm = QFontMetricsF(value_font)
        lfm = QFontMetricsF(label_font)
        for i, (label, v) in enumerate(zip(self._labels, values, strict=True)):
            x = plot.left() + slot * i + (slot - bar_w) / 2
            bar = QRectF(x, y_of(v), bar_w, plot.bottom() - y_of(v))
            if v:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(colors["score"])
                p.drawRect(bar)
                p.setFont(value_font)
                p.setPen(colors["text"])
                p.drawText(QRectF(plot.left() + slot * i, bar.top() - vfm.height() - 2, slot,
                                  vfm.height()),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, _fmt(v))
            hit = QRectF(plot.left() + slot * i, plot.top(), slot, plot.height())
            self._hits.append((hit, f"Score {label}: {_fmt(v)} accounts"))
            p.setFont(label_font)
            p.setPen(colors["muted"])
            p.drawText(QRectF(plot.left() + slot * i, plot.bottom() + 3, slot, lfm.height()),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label)
        # x axis caption
        p.setFont(font)
        p.setPen(colors["muted"])
        p.drawText(QRectF(plot.left(), rect.bottom() - caption_h, plot.width(), caption_h),
                   Qt.AlignmentFlag.AlignCenter, "Account score (rtp_account_score)")

    # -- journey stages ------------------------------------------------------------------------
    def _paint_stages(self, p: QPainter, rect: QRectF, colors: dict[str, QColor],
                      font: QFont) -> None:
        fm = QFontMetricsF(font)
        title_h = self._title(p, rect, "Journey stage", colors, font)
        rows = list(self._stages)
        if self._unscored and rows:
            rows.append((UNSCORED_LABEL, self._unscored))
        top = rect.top() + title_h + fm.height() * 0.6
        bottom = rect.bottom() - fm.height() * 2.4  # tick labels + caption
        if not rows:
            p.setFont(font)
            p.setPen(colors["muted"])
            p.drawText(QRectF(rect.left(), top, rect.width(), bottom - top),
                       int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                       "No journey stages yet: Recotap sets them once a day.")
            return
        top_value = max(n for _, n in rows)
        step = nice_step(top_value, 3)
        x_max = max(step, math.ceil(top_value / step) * step)
        label_w = min(max(fm.horizontalAdvance(name) for name, _ in rows), rect.width() * 0.38)
        value_w = max(fm.horizontalAdvance(_fmt(n)) for _, n in rows) + fm.averageCharWidth()
        left = rect.left() + label_w + fm.averageCharWidth() * 1.5
        right = rect.right() - value_w
        if right - left < fm.height() * 2 or bottom - top < fm.height():
            return
        row_h = min(fm.height() * 2.8, (bottom - top) / len(rows))
        used = row_h * len(rows)

        def x_of(v: float) -> float:
            return left + (right - left) * v / x_max

        # vertical gridlines and their values
        for t in range(0, x_max + 1, step):
            x = x_of(t)
            p.setPen(QPen(colors["grid"] if t else colors["axis"], 1))
            p.drawLine(QPointF(x, top), QPointF(x, top + used))
            p.setPen(colors["muted"])
            p.setFont(font)
            tw = fm.horizontalAdvance(_fmt(t))
            p.drawText(QRectF(x - tw / 2 - 2, top + used + 2, tw + 4, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, _fmt(t))
        p.drawText(QRectF(left, top + used + fm.height() + 4, right - left, fm.height()),
                   Qt.AlignmentFlag.AlignCenter, "Accounts")

        bar_h = min(row_h * 0.62, fm.height() * 1.3)
        for i, (name, n) in enumerate(rows):
            y = top + row_h * i
            apart = name == UNSCORED_LABEL
            label_font = QFont(font)
            label_font.setItalic(apart)
            p.setFont(label_font)
            p.setPen(colors["muted"] if apart else colors["text"])
            p.drawText(QRectF(rect.left(), y, label_w, row_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w))
            bar = QRectF(left, y + (row_h - bar_h) / 2, x_of(n) - left, bar_h)
            p.setPen(Qt.PenStyle.NoPen)
            if apart:
                p.setBrush(colors["grid"])
                p.setPen(QPen(colors["axis"], 1, Qt.PenStyle.DashLine))
            else:
                p.setBrush(colors["stage"] if name != NO_STAGE_LABEL else colors["axis"])
            p.drawRect(bar)
            p.setFont(font)
            p.setPen(colors["muted"] if apart else colors["text"])
            p.drawText(QRectF(bar.right() + fm.averageCharWidth() * 0.5, y, value_w, row_h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _fmt(n))
            tip = (f"{_fmt(n)} accounts are not scored yet (all scores 0, no stage)" if apart
                   else f"{name}: {_fmt(n)} accounts")
            self._hits.append((QRectF(rect.left(), y, rect.width(), row_h), tip))
