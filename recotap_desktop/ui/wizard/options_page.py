"""Page 4: segment, upsert, parallel requests, dry run, and the explicit confirmation."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from recotap_desktop.engine.plan import ImportOptions
from recotap_desktop.engine.preview import PREVIEW_KINDS
from recotap_desktop.engine.throttle import MAX_CONCURRENCY
from recotap_desktop.records.formats import convention_words
from recotap_desktop.store.settings import UI_CONCURRENCY
from recotap_desktop.ui.dialogs import concurrency_setting
from recotap_desktop.ui.models import format_when
from recotap_desktop.ui.results.data import SUCCESS_NAMES
from recotap_desktop.ui.target_badge import TargetBadge, where_to
from recotap_desktop.ui.widgets import retry_button
from recotap_desktop.ui.wizard.preview import can_preview

if TYPE_CHECKING:
    from recotap_desktop.ui.wizard.wizard import ImportWizard

log = logging.getLogger(__name__)


class OptionsPage(QWizardPage):
    """The last page before sending (a commit page: no way back once sent)."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self.segment: tuple[str, str] | None = None
        self.picker: Any = None
        self.setTitle("Options and confirmation")
        self.setSubTitle("Nothing has been sent yet. Check the summary, then confirm.")
        self.setCommitPage(True)
        profile = self.ctx.profile
        if profile is not None and profile.segment_id and self.ctx.kind.name == "accounts":
            self.segment = (profile.segment_id, profile.segment_name or profile.segment_id)
        self._build()

    def _build(self) -> None:
        """The page's parts, top to bottom (their order is the Tab order)."""
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_options_box())
        layout.addWidget(self._build_summary_box())
        layout.addLayout(self._build_problem_row())
        self.confirm_check = QCheckBox()
        self.confirm_check.setObjectName("confirmCheck")
        self.confirm_check.toggled.connect(lambda _c: self.completeChanged.emit())
        layout.addWidget(self.confirm_check)
        layout.addStretch(1)
        self.registerField("confirm*", self.confirm_check)
        self.registerField("upsert", self.upsert_check)
        self.registerField("dryRun", self.dry_run_check)
        self.registerField("concurrency", self.concurrency_spin)
        self._wizard.connectionReady.connect(self._refresh)
        self._wizard.connectionLoading.connect(self._refresh)
        self._show_segment()

    def _build_options_box(self) -> QGroupBox:
        """"Options": segment (accounts), upsert (when the edition has it), parallel
        requests, send unchanged rows (kinds Recotap can compare), dry run."""
        box = QGroupBox("Options")
        form = QFormLayout(box)
        is_accounts = self.ctx.kind.name == "accounts"
        self._build_segment_row(form, is_accounts)
        self._build_upsert(box, form, is_accounts)
        self._build_concurrency(form)
        self._build_send_unchanged(box, form)
        self.dry_run_check = QCheckBox("&Dry run: prepare everything, send nothing")
        self.dry_run_check.setObjectName("dryRunCheck")
        self.dry_run_check.toggled.connect(lambda _c: self._refresh())
        form.addRow("", self.dry_run_check)
        return box

    def _build_segment_row(self, form: QFormLayout, is_accounts: bool) -> None:
        """The chosen segment, "Choose segment…" and "No segment" (a row for accounts only)."""
        self.segment_row = QWidget()
        seg_layout = QHBoxLayout(self.segment_row)
        seg_layout.setContentsMargins(0, 0, 0, 0)
        self.segment_label = QLabel()
        self.segment_label.setObjectName("segmentLabel")
        self.segment_button = QPushButton("Choose se&gment…")
        self.segment_button.setObjectName("chooseSegment")
        self.segment_button.clicked.connect(self.choose_segment)
        self.no_segment_button = QPushButton("&No segment")
        self.no_segment_button.setObjectName("noSegment")
        self.no_segment_button.clicked.connect(lambda: self.set_segment(None))
        seg_layout.addWidget(self.segment_label, 1)
        seg_layout.addWidget(self.segment_button)
        seg_layout.addWidget(self.no_segment_button)
        self.segment_row.setVisible(is_accounts)
        if is_accounts:
            form.addRow("Segment:", self.segment_row)

    def _build_upsert(self, box: QGroupBox, form: QFormLayout, is_accounts: bool) -> None:
        """"Update accounts that already exist" and its help line, shown for accounts when
        the edition can upsert."""
        self.upsert_check = QCheckBox("&Update accounts that already exist (upsert)", box)
        self.upsert_check.setObjectName("upsertCheck")
        self.upsert_check.setToolTip(
            "Without it, an account whose domain already exists in Recotap fails with "
            "“already exists”. With it, that account is updated with the row's values.")
        self.upsert_check.toggled.connect(lambda _c: self._refresh())
        show_upsert = is_accounts and self.ctx.rules.supports_upsert
        self.show_upsert = show_upsert
        self.upsert_check.setVisible(show_upsert)
        if show_upsert:
            form.addRow("", self.upsert_check)
        self.upsert_help = QLabel(
            "Existing accounts (same domain) are updated instead of failing." if show_upsert
            else "", box)
        self.upsert_help.setVisible(show_upsert)
        self.upsert_help.setEnabled(False)
        self.upsert_help.setWordWrap(True)
        if show_upsert:
            form.addRow("", self.upsert_help)

    def _build_concurrency(self, form: QFormLayout) -> None:
        """"Parallel requests": how many batches go at once (from the preferences)."""
        self.concurrency_spin = QSpinBox()
        self.concurrency_spin.setObjectName("concurrencySpin")
        self.concurrency_spin.setRange(1, MAX_CONCURRENCY)
        self.concurrency_spin.setValue(concurrency_setting(self.ctx.services))
        self.concurrency_spin.setToolTip(
            "How many batches are sent at the same time. If Recotap asks to slow down, "
            "the app halves this by itself.")
        self.concurrency_spin.valueChanged.connect(lambda _v: self._refresh())
        conc_label = QLabel("&Parallel requests:")
        conc_label.setBuddy(self.concurrency_spin)
        form.addRow(conc_label, self.concurrency_spin)

    def _build_send_unchanged(self, box: QGroupBox, form: QFormLayout) -> None:
        """"Send unchanged rows too", shown for the kinds whose rows Recotap can compare."""
        self.send_unchanged_check = QCheckBox("Send unchanged rows &too", box)
        self.send_unchanged_check.setObjectName("sendUnchangedCheck")
        self.send_unchanged_check.setToolTip(
            "Rows whose values Recotap already holds are normally not sent (they end "
            "“unchanged”). Tick to send them anyway.")
        self.send_unchanged_check.toggled.connect(lambda _c: self._refresh())
        compares = self.ctx.kind.name in PREVIEW_KINDS  # rows Recotap lists can be unchanged
        self.send_unchanged_check.setVisible(compares)
        if compares:
            form.addRow("", self.send_unchanged_check)

    def _build_summary_box(self) -> QGroupBox:
        """"What will be sent": where the rows go, what is sent, an earlier run of the file."""
        summary_box = QGroupBox("What will be sent")
        summary_layout = QVBoxLayout(summary_box)
        self.target_badge = TargetBadge()
        summary_layout.addWidget(self.target_badge)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("summaryLabel")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        summary_layout.addWidget(self.summary_label)
        self.earlier_label = QLabel()
        self.earlier_label.setObjectName("earlierRunLabel")
        self.earlier_label.setWordWrap(True)
        self.earlier_label.setVisible(False)
        summary_layout.addWidget(self.earlier_label)
        return summary_box

    def _build_problem_row(self) -> QHBoxLayout:
        """What stops the import (e.g. no answer from the server), beside "Retry"."""
        self.problem_label = QLabel()
        self.problem_label.setObjectName("optionsProblem")
        self.problem_label.setWordWrap(True)
        problem_row = QHBoxLayout()
        problem_row.addWidget(self.problem_label, 1)
        self.retry_button = retry_button(self._wizard.load_connection,
                                         "Ask the server again (API key and custom fields)")
        problem_row.addWidget(self.retry_button)
        return problem_row

    # ------------------------------------------------------------------ segment
    def choose_segment(self) -> Any:
        """Open the shell's segment picker (non-blocking)."""
        profile = self.ctx.profile
        if profile is None:
            return None
        from recotap_desktop.ui.segment_picker import SegmentPickerDialog

        dialog = SegmentPickerDialog(self.ctx.services, profile, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done(result: int) -> None:
            if result == SegmentPickerDialog.DialogCode.Accepted:
                self.set_segment(dialog.choice, remember=False)  # the picker remembers it
            self.picker = None

        dialog.finished.connect(done)
        self.picker = dialog
        dialog.open()
        return dialog

    def set_segment(self, choice: tuple[str, str] | None, *, remember: bool = True) -> None:
        """Use ``(segment_id, name)`` or no segment; remembered per connection."""
        self.segment = choice
        profile = self.ctx.profile
        if remember and profile is not None:
            profile.segment_id, profile.segment_name = (choice if choice else (None, None))
            try:
                self.ctx.services.save_settings()
            except Exception:
                log.warning("could not remember the segment", exc_info=True)
        self._show_segment()

    def _show_segment(self) -> None:
        if self.segment is None:
            self.segment_label.setText("No segment (accounts are only added)")
        else:
            self.segment_label.setText(f"<b>{html.escape(self.segment[1])}</b> "
                                       f"<small>({html.escape(self.segment[0])})</small>")
        self.no_segment_button.setEnabled(self.segment is not None)
        self._refresh()

    # ------------------------------------------------------------------ summary
    def options(self) -> ImportOptions:
        """The options chosen on this page (with the date order of the Check page)."""
        upsert = self.show_upsert and self.upsert_check.isChecked()
        return ImportOptions(
            segment_id=self.segment[0] if self.segment else None,
            segment_name=self.segment[1] if self.segment else None,
            upsert=upsert,
            concurrency=self.concurrency_spin.value(),
            dry_run=self.dry_run_check.isChecked(),
            date_order=self.ctx.date_order,
            send_unchanged=self.send_unchanged_check.isChecked(),
        )

    def _preview_lines(self, options: ImportOptions) -> list[str]:
        """What the Check page's comparison with Recotap's accounts says about sending."""
        preview = self.ctx.preview
        if preview is None or not can_preview(self.ctx.kind.name):
            return []
        unchanged = preview.counts.get("unchanged", 0)
        lines = [html.escape(preview.summary())]
        if unchanged and options.send_unchanged:
            lines.append(f"{unchanged:,} unchanged row(s) are sent too")
        elif unchanged and options.segment_id and self.ctx.kind.name == "accounts":
            lines.append(f"{unchanged:,} unchanged row(s) are sent to join the segment")
        elif unchanged:
            lines.append(f"<b>{unchanged:,} unchanged row(s) are not sent</b>")
        return lines

    def initializePage(self) -> None:
        if self.ctx.spec is None and self.ctx.connection_error is not None \
                and not self.ctx.connection_loading:
            self._wizard.load_connection()  # entering the page again asks afresh
        self._refresh()

    def _refresh(self) -> None:
        plan = self.ctx.plan
        profile = self.ctx.profile
        if plan is None or profile is None:
            return
        options = self.options()
        rows = plan.rows_to_send
        kind = self.ctx.kind.title.lower()
        rules = self.ctx.rules
        verb = "Prepare (dry run)" if options.dry_run else "Send"
        lines = [
            f"<b>{verb} {rows:,} rows</b> as {plan.items:,} {kind} in "
            f"<b>{plan.batches:,} request(s)</b> of up to {self.ctx.kind.batch_size} "
            f"({options.concurrency} at a time)",
            f"{where_to(self.ctx.services, profile)} ({html.escape(rules.title)})",
            f"from <b>{html.escape(plan.job.path.name)}</b>",
        ]
        if self.ctx.kind.name == "accounts":
            lines.append("into the segment <b>" + html.escape(self.segment[1]) + "</b>"
                         if self.segment else "without a segment")
            if options.upsert:
                lines.append("updating accounts that already exist (upsert)")
        read = [f"{html.escape(f.column)}: {convention_words(f.convention)}"
                for f in plan.formats if f.convention]
        if read:
            lines.append("reading " + "; ".join(read) + " (see the Check page)")
        if plan.invalid_rows:
            lines.append(f"{plan.invalid_rows:,} invalid row(s) are left out (not sent)")
        lines.extend(self._preview_lines(options))
        self.summary_label.setText("<br>".join(lines))
        self.target_badge.show_profile(self.ctx.services, profile)
        earlier = self._earlier_run_text()
        self.earlier_label.setText(earlier)
        self.earlier_label.setVisible(bool(earlier))
        button = (f"&Dry run {rows:,} rows" if options.dry_run else f"&Send {rows:,} rows")
        self.setButtonText(QWizard.WizardButton.CommitButton, button)
        self.confirm_check.setText(
            "I checked the summary: prepare the rows without sending (dry run)"
            if options.dry_run else
            f"I checked the summary: send these {rows:,} rows to {profile.name}")
        problem = ""
        if self.ctx.services.history is None:
            problem = ("✖ The sync history cannot be used, so a run could not be resumed: "
                       + (self.ctx.services.history_problem or ""))
        elif self.ctx.connection_loading:
            problem = "Getting the connection's API key…"
        elif self.ctx.spec is None and self.ctx.connection_error:
            problem = "✖ " + self.ctx.connection_error + " Press Retry to ask again."
        self.retry_button.setVisible(self.ctx.spec is None and not self.ctx.connection_loading
                                     and self.ctx.connection_error is not None)
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.completeChanged.emit()

    def _earlier_run_text(self) -> str:
        """A warning when this very file (same content) was already sent to this
        connection: sending it again sends the same rows again."""
        plan, profile, history = self.ctx.plan, self.ctx.profile, self.ctx.services.history
        if plan is None or profile is None or history is None:
            return ""
        try:
            runs = history.runs_of_file(plan.file_sha256, kind=self.ctx.kind.name,
                                        profile=profile.name)
        except Exception:  # the warning is a courtesy: never block the import over it
            log.warning("could not look for earlier runs of this file", exc_info=True)
            return ""
        host = self.ctx.services.host_of(profile)
        sent = [r for r in runs if r.host in (None, host)
                and any(n for state, n in r.counts.items() if state in SUCCESS_NAMES)]
        if not sent:
            return ""
        last = sent[0]
        counts = ", ".join(f"{n:,} {state}" for state, n in sorted(last.counts.items()) if n)
        again = (
            "Rows that were created then come back as “already exists” (the CRM API "
            "creates accounts, it does not update them; see Help)."
            if self.ctx.kind.name == "accounts" and not self.options().upsert else
            "Its rows are sent again."
        )
        more = f" It was sent {len(sent)} times in all." if len(sent) > 1 else ""
        return (f"⚠ This exact file was already sent to {profile.name}: run {last.id} on "
                f"{format_when(last)} ({counts}).{more} {again}")

    # ------------------------------------------------------------------ QWizardPage
    def isComplete(self) -> bool:
        return (self.confirm_check.isChecked() and self.ctx.plan is not None
                and self.ctx.spec is not None and self.ctx.services.history is not None)

    def validatePage(self) -> bool:
        self.ctx.options = self.options()
        services = self.ctx.services
        services.settings.remember(UI_CONCURRENCY, self.concurrency_spin.value())
        return True

    def cleanupPage(self) -> None:
        """Keep the choices when going back."""

