"""The summary page of a finished export: the counts, the chart of the score distribution
and of the journey stages, the accounts not scored yet, the engine's message, and Open
file, Show in folder and New export…"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from recotap_desktop.engine.export import HISTOGRAM_LABELS, ExportResult
from recotap_desktop.ui.export.base import PAGE_OPTIONS, PAGE_SUMMARY, ExportBase
from recotap_desktop.ui.export.help import UNSCORED_EXPLANATION
from recotap_desktop.ui.score_chart import ScoreChart

__all__ = ["SummaryPage"]

#: The count tiles: the key of ``count_labels`` (and of the tile's objectName), the caption.
_TILES = (
    ("exported", "exported"),
    ("duplicates", "duplicates skipped"),
    ("filtered", "filtered out"),
    ("unscored", "not yet scored"),
)


class SummaryPage(ExportBase):
    """The summary page and its buttons' actions."""

    # ================================================================== building
    def _build_summary(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary_title = QLabel()
        self.summary_title.setObjectName("summary-title")
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 1.0) * 1.2)
        self.summary_title.setFont(font)
        self.summary_title.setWordWrap(True)
        self.summary_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_title)
        layout.addLayout(self._build_tiles())

        self.chart = ScoreChart()
        self.chart.setMinimumHeight(260)
        layout.addWidget(self.chart, 1)

        layout.addSpacing(4)
        self.unscored_label = QLabel()
        self.unscored_label.setObjectName("unscored")
        self.unscored_label.setWordWrap(True)
        layout.addWidget(self.unscored_label)
        layout.addSpacing(4)
        self.message_label = QLabel()
        self.message_label.setObjectName("export-message")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)
        return page

    def _build_tiles(self) -> QHBoxLayout:
        """A tile per count: the number, big, over its caption."""
        tiles = QHBoxLayout()
        self.count_labels: dict[str, QLabel] = {}
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(max(big.pointSizeF(), 1.0) * 1.6)
        for key, caption in _TILES:
            tile = QFrame()
            tile.setFrameShape(QFrame.Shape.StyledPanel)
            tile_layout = QVBoxLayout(tile)
            number = QLabel("0")
            number.setObjectName(f"count-{key}")
            number.setFont(big)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text = QLabel(caption)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile_layout.addWidget(number)
            tile_layout.addWidget(text)
            self.count_labels[key] = number
            tiles.addWidget(tile)
        return tiles

    # ================================================================== showing a result
    def _show_summary(self, result: ExportResult) -> None:
        name = result.path.name if result.path else "the file"
        self.summary_title.setText(f"Exported {result.exported:,} accounts to {name}")
        values = {
            "exported": result.exported,
            "duplicates": result.duplicates,
            "filtered": result.filtered_out,
            "unscored": result.unscored,
        }
        for key, value in values.items():
            self.count_labels[key].setText(f"{value:,}")
        self.chart.set_data(
            result.histogram, result.stages, unscored=result.unscored, labels=HISTOGRAM_LABELS
        )
        self._show_unscored(result.unscored)
        self.message_label.setText(result.message)
        has_file = result.path is not None and result.path.exists()
        self.open_button.setEnabled(has_file)
        self.folder_button.setEnabled(has_file)
        self._show_page(PAGE_SUMMARY)

    def _show_unscored(self, unscored: int) -> None:
        """Why ``unscored`` accounts are all zeros (hidden when there are none)."""
        if unscored:
            self.unscored_label.setText(
                f"<b>{unscored:,} accounts are not scored yet</b>: all their scores "
                f"are 0 and they have no journey stage. {html.escape(UNSCORED_EXPLANATION)} "
                "They are in the file; the chart counts them apart (grey bar), not in the "
                "score histogram."
            )
            self.unscored_label.show()
        else:
            self.unscored_label.hide()

    # ================================================================== the buttons
    def open_file(self) -> None:
        """Open the exported file in its default application."""
        if self.export_result is not None and self.export_result.path is not None:
            self.open_url(QUrl.fromLocalFile(str(self.export_result.path.resolve())))

    def show_in_folder(self) -> None:
        """Open the folder that holds the exported file."""
        if self.export_result is not None and self.export_result.path is not None:
            self.open_url(QUrl.fromLocalFile(str(self.export_result.path.resolve().parent)))

    def new_export(self) -> None:
        """Back to the options page for another export (the mode default is re-read)."""
        self.banner.hide()
        self._load_connection()
        self._show_page(PAGE_OPTIONS)
