"""Step 1 of the backfill assistant: the accounts Recotap lists as having no external ID
(§9.4), fetched on a worker into a sortable grid, with the count and what the API's
100-at-a-time listing means; *Find all* pages through every account; *Export list…*
writes them to CSV/XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.backfill import WINDOW, UnmappedListing, list_unmapped
from recotap_desktop.files import TableWriter
from recotap_desktop.ui.backfill.base import BackfillBase, hint
from recotap_desktop.ui.backfill.help import window_note
from recotap_desktop.ui.models import Column, RecordTableModel, make_proxy
from recotap_desktop.ui.widgets import tab_leaves
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["ListPage"]


class ListPage(BackfillBase):
    """The list step: its page and its jobs (list, find all, export the list)."""

    def _build_list_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "These accounts exist in Recotap but carry no external ID, so imports keyed by "
            "your CRM's IDs cannot reach them. Next, match them with an export from your CRM."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list_count_label = QLabel("Asking Recotap…")
        self.list_count_label.setObjectName("unmapped-count")
        bold = QFont(self.font())
        bold.setBold(True)
        self.list_count_label.setFont(bold)
        self.list_count_label.setWordWrap(True)
        layout.addWidget(self.list_count_label)
        self.list_note = hint(window_note())
        layout.addWidget(self.list_note)
        layout.addWidget(self._build_unmapped_view(), 1)
        layout.addLayout(self._build_list_actions())
        return page

    def _build_unmapped_view(self) -> QTableView:
        """The grid of accounts without an external ID (name, domain; sortable)."""
        self.unmapped_model: RecordTableModel[Any] = RecordTableModel(
            [
                Column("Company name", lambda a: str(a.name or "")),
                Column("Domain", lambda a: str(a.domain or "")),
            ],
            self,
        )
        self.unmapped_proxy = make_proxy(self.unmapped_model, self)
        self.unmapped_view = tab_leaves(QTableView())
        self.unmapped_view.setObjectName("unmapped-view")
        self.unmapped_view.setModel(self.unmapped_proxy)
        self.unmapped_view.setSortingEnabled(True)
        self.unmapped_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.unmapped_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.unmapped_view.setAlternatingRowColors(True)
        self.unmapped_view.verticalHeader().hide()
        self.unmapped_view.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.unmapped_view.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )
        self.unmapped_view.setAccessibleName("Accounts without an external ID")
        return self.unmapped_view

    def _build_list_actions(self) -> QHBoxLayout:
        """Refresh, Find all, what happened last, Export list…"""
        row = QHBoxLayout()
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(lambda: self.refresh_list())
        self.find_all_button = QPushButton("Find &all (look through every account)")
        self.find_all_button.setAutoDefault(False)
        self.find_all_button.setToolTip(
            "Pages once through every account of the workspace "
            "(one request per 100 accounts) to list them all."
        )
        self.find_all_button.clicked.connect(lambda: self.refresh_list(scan=True))
        self.export_list_button = QPushButton("&Export list…")
        self.export_list_button.setAutoDefault(False)
        self.export_list_button.clicked.connect(self.choose_export_list)
        self.list_status = hint()
        self.list_status.setObjectName("list-status")
        row.addWidget(self.refresh_button)
        row.addWidget(self.find_all_button)
        row.addWidget(self.list_status, 1)
        row.addWidget(self.export_list_button)
        return row

    def refresh_list(self, scan: bool = False) -> Worker | None:
        """Fetch the accounts without an external ID (``scan``: page through all)."""
        if self.running or self._problem:
            return None
        profile = self.profile
        assert profile is not None
        services = self._services
        client_kwargs = dict(self._client_kwargs)

        def fetch(progress: SignalProgress) -> UnmappedListing:  # worker thread
            spec = services.connection_spec(profile)
            with spec.open(cancel_event=progress.stop_event, **client_kwargs) as client:
                return list_unmapped(client, scan=scan, progress=progress, cancel=progress.token)

        self.list_count_label.setText("Asking Recotap…")
        text = (
            "Looking through every account…"
            if scan
            else "Asking Recotap for accounts without an external ID…"
        )
        return self._start(fetch, "list-unmapped", text, self._on_listing)

    def _on_listing(self, listing: object) -> None:
        assert isinstance(listing, UnmappedListing)
        self.listing = listing
        self.unmapped_model.set_rows(listing.accounts)
        n = len(listing.accounts)
        if not n:
            text = "Every account in Recotap has an external ID: nothing to backfill."
        elif listing.scanned:
            text = (
                f"{n:,} accounts have no external ID (found by looking through all "
                f"{listing.scanned_accounts:,} accounts)."
            )
        elif listing.complete:
            text = f"{n:,} account{'s have' if n != 1 else ' has'} no external ID."
        else:
            text = (
                f"At least {n:,} accounts have no external ID: Recotap shows {WINDOW} at "
                "a time, maybe more are waiting. Find all lists every one."
            )
        self.list_count_label.setText(text)

    def export_list(self, path: Path) -> Worker:
        """Write the listed accounts (name, domain) to ``path`` (CSV or XLSX)."""
        accounts = list(self.unmapped_model.rows)

        def write(progress: SignalProgress) -> int:
            with TableWriter.open(path, ["name", "domain"]) as writer:
                for acc in accounts:
                    writer.write_row([acc.name, acc.domain])
            return len(accounts)

        def done(n: object) -> None:
            self.list_status.setText(f"Saved {n:,} accounts to {path.name}.")

        return self._start(write, "export-unmapped", f"Writing {path.name}…", done)

    def choose_export_list(self) -> None:
        """Export list…: choose a CSV/XLSX file and write the list."""
        path = self._save_path(
            "Export the accounts without an external ID", "accounts-without-external-id.xlsx"
        )
        if path is not None:
            self.export_list(path)
