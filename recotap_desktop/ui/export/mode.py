"""What to pull: everything, the accounts changed since the last complete pull of this
connection (its sync time, shown below), or those changed since a date in UTC."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QWidget,
)

from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.export import SYNC_RESOURCE, default_mode
from recotap_desktop.ui.export.base import ExportBase
from recotap_desktop.ui.export.help import describe_sync_time

__all__ = ["ModeGroup"]


class ModeGroup(ExportBase):
    """The "What to pull" group and the last sync time of the connection."""

    def _build_mode_group(self) -> QWidget:
        """What to pull: everything, the changes since the last pull, or since a date."""
        mode_box = QGroupBox("What to pull")
        mode_layout = QGridLayout(mode_box)
        self.mode_group = QButtonGroup(self)
        self._build_mode_radios()
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("last-sync")
        self.last_sync_label.setIndent(24)
        self.last_sync_label.setEnabled(False)  # palette's muted text, both themes
        self.last_sync_label.setWordWrap(True)
        since_row = self._build_since_row()
        mode_layout.addWidget(self.full_radio, 0, 0)
        mode_layout.addWidget(self.delta_radio, 1, 0)
        mode_layout.addWidget(self.last_sync_label, 2, 0)
        mode_layout.addLayout(since_row, 3, 0)
        self.mode_group.idToggled.connect(lambda *_: self._mode_changed())
        return mode_box

    def _build_mode_radios(self) -> None:
        """The three choices, in one button group."""
        self.full_radio = QRadioButton("&Everything (full pull)")
        self.full_radio.setToolTip(
            "Every account in Recotap. Also the only way to notice accounts that were deleted."
        )
        self.delta_radio = QRadioButton(
            "&Only accounts changed since the last complete pull of this connection"
        )
        self.delta_radio.setToolTip(
            "Uses the sync time stored after the last complete pull; much faster than a full pull."
        )
        self.since_radio = QRadioButton("Accounts changed s&ince")
        for i, radio in enumerate((self.full_radio, self.delta_radio, self.since_radio)):
            self.mode_group.addButton(radio, i)

    def _build_since_row(self) -> QHBoxLayout:
        """The "Accounts changed since" radio, its moment (a week ago at first) and "UTC"."""
        self.since_edit = QDateTimeEdit()
        self.since_edit.setTimeZone(QTimeZone.utc())
        self.since_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setToolTip("A moment in UTC (Coordinated Universal Time).")
        self.since_edit.setAccessibleName("Changed since (UTC)")
        now = QDateTime.currentDateTimeUtc().addDays(-7)
        self.since_edit.setDateTime(now)
        since_row = QHBoxLayout()
        since_row.addWidget(self.since_radio)
        since_row.addWidget(self.since_edit)
        since_row.addWidget(QLabel("UTC"))
        since_row.addStretch(1)
        return since_row

    def _show_last_sync(self) -> None:
        """The last complete pull of this connection, and the pull it makes the default."""
        profile = self.profile
        history = self._services.history
        last: str | None = None
        mode = "full"
        if profile is not None and history is not None:
            # no key needed to know where this profile's sync time is kept
            where = ConnectionSpec(
                base_url=profile.base_url or None, edition=profile.edition, profile=profile.name
            )
            last = history.last_sync(profile.name, SYNC_RESOURCE, host=where.host)
            mode = default_mode(history, where)
        self.last_sync = last
        if last:
            self.last_sync_label.setText(f"Last complete pull: {describe_sync_time(last)}")
            self.delta_radio.setEnabled(True)
            moment = QDateTime.fromString(last, Qt.DateFormat.ISODateWithMs)
            if not moment.isValid():
                moment = QDateTime.fromString(last, Qt.DateFormat.ISODate)
            if moment.isValid():
                self.since_edit.setDateTime(moment.toUTC())
        else:
            self.last_sync_label.setText(
                "No complete pull of this connection yet: the first pull is a full pull."
            )
            self.delta_radio.setEnabled(False)
        (self.delta_radio if mode == "delta" else self.full_radio).setChecked(True)

    def _mode_changed(self) -> None:
        self.since_edit.setEnabled(self.since_radio.isChecked())

    def _mode(self) -> str:
        """``"full"``, ``"delta"`` or ``"since"``: the radio that is checked."""
        if self.since_radio.isChecked():
            return "since"
        if self.delta_radio.isChecked():
            return "delta"
        return "full"
