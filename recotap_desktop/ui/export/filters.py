"""The optional filters: domains from a file (read on a worker), a minimum score and
journey stages."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.export import KNOWN_STAGES, DomainList, ExportError, load_domains
from recotap_desktop.ui.export.base import ExportBase, hint
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["FilterGroup"]


def _domain_list_text(result: DomainList, path: Path) -> str:
    """``1,234 domains from column “Website” of list.csv`` and the values skipped."""
    where = f"column “{result.column}” of " if result.column else ""
    text = f"{len(result.domains):,} domains from {where}{path.name}"
    if result.rejected:
        shown = ", ".join(f"row {r}: {v!r}" for r, v in result.rejected[:3])
        more = " …" if len(result.rejected) > 3 else ""
        text += f" ({len(result.rejected):,} values skipped, not domain names: {shown}{more})"
    return text


class FilterGroup(ExportBase):
    """The "Filters (optional)" group and the domain list it reads."""

    # ================================================================== building
    def _build_filter_group(self) -> QWidget:
        """Optional filters: a domain list, a minimum score, journey stages."""
        filter_box = QGroupBox("Filters (optional)")
        form = QFormLayout(filter_box)
        form.addRow("Domains:", self._build_domain_field())

        self.min_score = QSpinBox()
        self.min_score.setRange(0, 1000)
        self.min_score.setSpecialValueText("Any score")
        self.min_score.setToolTip(
            "Only accounts whose account score is at least this. Scores are usually 0–100."
        )
        self.min_score.setAccessibleName("Minimum account score")
        form.addRow("Minimum s&core:", self.min_score)
        self._build_stage_field(form)
        return filter_box

    def _build_domain_field(self) -> QWidget:
        """The domain list: its file (Choose file…, Clear) and where it is applied."""
        domain_field = QWidget()
        domain_column = QVBoxLayout(domain_field)
        domain_column.setContentsMargins(0, 0, 0, 0)
        domain_column.setSpacing(2)
        domain_row = QHBoxLayout()
        self.domain_label = QLabel("All domains")
        self.domain_label.setObjectName("domain-filter")
        # one line that never widens the dialog; the whole text is in the tooltip
        self.domain_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.domain_button = QPushButton("Choose &file…")
        self.domain_button.setToolTip(
            "A text file with one domain per line, or a CSV/Excel file with a domain column."
        )
        self.domain_button.clicked.connect(self.choose_domain_file)
        self.domain_clear = QPushButton("Clear")
        self.domain_clear.clicked.connect(self.clear_domains)
        self.domain_clear.setEnabled(False)
        domain_row.addWidget(self.domain_label, 1)
        domain_row.addWidget(self.domain_button)
        domain_row.addWidget(self.domain_clear)
        domain_column.addLayout(domain_row)
        self.domain_note = hint("")
        domain_column.addWidget(self.domain_note)
        return domain_field

    def _build_stage_field(self, form: QFormLayout) -> None:
        """The journey stages: a box per known stage, "No stage", and other stages."""
        stages = QWidget()
        stage_layout = QGridLayout(stages)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        self.stage_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate((*KNOWN_STAGES, "")):
            box = QCheckBox(name or "No stage")
            if not name:
                box.setToolTip("Accounts without a journey stage (often: not scored yet).")
            self.stage_boxes[name] = box
            stage_layout.addWidget(box, i // 3, i % 3)
        self.other_stages = QLineEdit()
        self.other_stages.setPlaceholderText("Other stages, separated by commas")
        self.other_stages.setAccessibleName("Other journey stages")
        stage_layout.addWidget(self.other_stages, 2, 0, 1, 3)
        form.addRow("Journey s&tages:", stages)
        stage_layout.addWidget(
            hint("Nothing ticked: every stage. A filtered pull does not move the last sync time."),
            3,
            0,
            1,
            3,
        )

    # ================================================================== the domain list
    def choose_domain_file(self) -> None:
        """Choose a domain list file and read it in the background."""
        start = str(self.last_folder())
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Only export these domains",
            start,
            "Domain lists (*.txt *.csv *.tsv *.xlsx);;All files (*)",
        )
        if chosen:
            self.load_domain_file(Path(chosen))

    def load_domain_file(self, path: Path) -> Worker:
        """Read ``path`` with :func:`load_domains` on a worker; shows the outcome."""
        self.domain_label.setText(f"Reading {path.name}…")
        self.domain_button.setEnabled(False)

        def read(progress: SignalProgress) -> DomainList:
            return load_domains(path)

        def done(result: DomainList) -> None:
            self.domain_list = result
            self.domain_file = path
            text = _domain_list_text(result, path)
            self.domain_label.setText(text)
            self.domain_label.setToolTip(text)
            self.domain_clear.setEnabled(True)

        def failed(exc: BaseException) -> None:
            message = exc.message if isinstance(exc, ExportError) else describe_error(exc)
            self.domain_label.setText("All domains")
            self.show_banner(f"The domain list could not be used: {message}", warning=True)

        def finished() -> None:
            self._domain_job = None
            self.domain_button.setEnabled(True)
            self._update_start()

        job = Worker(read, name="load-domains", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(failed)
        job.finished.connect(finished)
        self._domain_job = job
        self._update_start()
        return job.start()

    def clear_domains(self) -> None:
        """Drop the domain filter."""
        self.domain_list = None
        self.domain_file = None
        self.domain_label.setText("All domains")
        self.domain_label.setToolTip("")
        self.domain_clear.setEnabled(False)
