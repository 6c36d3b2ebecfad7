"""Sending from the review step: *Send…* asks once (with the overwrite check) and sends on
a worker with progress and Cancel; then each row shows Recotap's answer, the run id (an
ordinary ``id-mappings`` run: the history can resume it and save its report), *Save
report…*, and *Next round* when the listing brings accounts not seen before."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from recotap_desktop.engine.backfill import REPORT_HEADERS, WINDOW, BackfillError
from recotap_desktop.engine.runner import RunResult
from recotap_desktop.engine.states import RunState
from recotap_desktop.records.backfill_match import Proposal
from recotap_desktop.ui.backfill.review_page import ReviewPage
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["SendOutcome", "SendStep"]

_I = {h: i for i, h in enumerate(REPORT_HEADERS)}


@dataclass


class SendOutcome:
    """What a send job brings back to the GUI thread."""

    result: RunResult | None
    #: domain -> (row state, message, run id) for the decisions that were sent.
    results: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    #: Proposals of the next round (accounts not seen before).
    more: list[Proposal] = field(default_factory=list)
    round_no: int = 0
    finished: bool = False
    blocked: bool = False
    #: Why the next round could not be fetched ("" when it was).
    next_problem: str = ""


class SendStep(ReviewPage):
    """Send…, its outcome, the next round and the report."""

    def send(self) -> QMessageBox | None:
        """Send…: check the ticked mappings, ask once (overwrite check), then send."""
        session = self.session
        if self.running or session is None or self.confirm_box is not None:
            return None
        decisions = self.review_model.decisions()
        if not decisions:
            return None
        problems = session.check(decisions)
        if problems:
            shown = "\n".join(f"- {p}" for p in problems[:10])
            self.show_banner(f"These mappings cannot be sent; change them first:\n{shown}")
            return None
        check = session.overwrite_check(decisions)
        kinds = Counter(d.match.value for d in decisions)
        host = self._services.host_of(self.profile) if self.profile else ""
        profile = self.profile.name if self.profile else ""
        text = f"Write {len(decisions):,} external IDs onto Recotap accounts at {host} ({profile})?"
        info = (
            f"{kinds.get('domain', 0):,} matched by domain, {kinds.get('name', 0):,} by "
            f"name, {kinds.get('ambiguous', 0):,} chosen among candidates.\n\n"
            f"{check.message()}"
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning if check.count else QMessageBox.Icon.Question,
            "Send external IDs?",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(info)
        if check.count:
            box.setDetailedText(
                "\n".join(f"{dom}: {old} -> {new}" for dom, old, new in check.overwrites)
            )
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText(f"Send {len(decisions):,} IDs")
        box.button(QMessageBox.StandardButton.No).setText("Not now")
        box.setDefaultButton(
            QMessageBox.StandardButton.No if check.count else QMessageBox.StandardButton.Yes
        )
        box.setEscapeButton(QMessageBox.StandardButton.No)
        self.confirm_box = box

        def answered(button: int) -> None:
            self.confirm_box = None
            if button == QMessageBox.StandardButton.Yes:
                self._send(decisions)

        box.finished.connect(answered)
        box.open()
        return box

    def _send(self, decisions: list[Any]) -> Worker | None:
        session = self.session
        if session is None or self.running:
            return None
        domains = {d.domain for d in decisions}
        host = self._services.host_of(self.profile) if self.profile else ""

        def run(progress: SignalProgress) -> SendOutcome:  # worker thread
            session.progress = progress
            session.cancel = progress.token
            result = session.send(decisions)
            out = SendOutcome(result)
            for row in session.report_rows():
                dom = str(row[_I["recotap_domain"]])
                state = str(row[_I["recotap_state"]])
                if dom in domains and state != "skipped":
                    run_id = row[_I["recotap_run"]]
                    out.results[dom] = (
                        state,
                        str(row[_I["recotap_message"]]),
                        int(run_id) if isinstance(run_id, int) else None,
                    )
            if result is not None and result.state is RunState.FINISHED:
                progress.note("Asking Recotap for accounts not seen yet…")
                try:
                    out.more = session.next_round()
                except Exception as exc:  # the send itself succeeded: keep its results
                    out.next_problem = (
                        exc.message if isinstance(exc, BackfillError) else describe_error(exc, host)
                    )
            out.round_no = session.rounds
            out.finished = session.finished
            out.blocked = session.blocked
            return out

        return self._start(
            run,
            "backfill-send",
            f"Sending {len(decisions):,} mappings…",
            self._on_sent,
            stop_text="S&top sending",
        )

    def _on_sent(self, payload: object) -> None:
        assert isinstance(payload, SendOutcome)
        result = payload.result
        self.review_model.apply_results(payload.results)
        if result is not None:
            self.runs.append(result)
        if payload.more:
            self.pending = list(payload.more)
            self._pending_round = payload.round_no
        lines = []
        if result is not None:
            counts = ", ".join(f"{n:,} {s}" for s, n in sorted(result.counts.items()) if n)
            verb = {
                RunState.FINISHED: "finished",
                RunState.CANCELLED: "was cancelled",
                RunState.INTERRUPTED: "was interrupted",
                RunState.ABORTED: "stopped",
            }.get(result.state, str(result.state))
            lines.append(
                f"Run {result.run_id} (ID mappings) {verb}: {counts or 'nothing sent'}."
                " It is in the sync history like any run: resume it or save its "
                "report from there."
            )
            if result.state is not RunState.FINISHED and result.message:
                lines.append(result.message)
            failed = sum(n for s, n in result.counts.items() if s == "failed")
            if failed:
                lines.append(f"{failed:,} failed: see the Result column (filter: Failed).")
        lines.append(self._round_text(payload))
        self.result_label.setText("\n".join(x for x in lines if x))
        self.result_label.show()
        self._update_kinds()
        self._update_buttons()

    def _round_text(self, payload: SendOutcome) -> str:
        if payload.next_problem:
            return f"Could not ask Recotap for more accounts: {payload.next_problem}"
        if payload.more:
            return (
                f"Recotap now lists {len(payload.more):,} more accounts without an "
                "external ID: Next round adds them to the grid."
            )
        if payload.blocked:
            return (
                f"Finished, but more accounts may be hidden: Recotap lists {WINDOW} at a "
                "time and the first ones could not be matched. Go back and tick “Look "
                "through every account” to find them."
            )
        if payload.finished:
            return "Finished: Recotap lists no account that was not reviewed here."
        return ""

    def next_round(self) -> None:
        """Next round: add the accounts the last listing brought to the grid."""
        if self.running or not self.pending:
            return
        first = self.review_model.append_proposals(self.pending, self._pending_round)
        n = len(self.pending)
        self.pending = []
        self._update_kinds()
        self.result_label.setText(
            f"Round {self._pending_round}: {n:,} more accounts added (domain matches ticked)."
        )
        domain = self.review_model.row(first).proposal.domain
        if domain:
            self.select_domain(domain)
        self._update_buttons()

    def save_report(self, path: Path) -> Worker | None:
        """Write the session's report (every account, match, candidates, outcome)."""
        session = self.session
        if session is None:
            return None

        def write(progress: SignalProgress) -> int:
            return session.write_report(path)

        def done(n: object) -> None:
            self.result_label.setText(
                (self.result_label.text() + "\n").lstrip()
                + f"Report saved: {path} ({n:,} accounts)."
            )
            self.result_label.show()

        return self._start(write, "backfill-report", f"Writing {path.name}…", done)

    def choose_report(self) -> None:
        """Save report…: choose a CSV/XLSX file."""
        path = self._save_path("Save the backfill report", "backfill-report.xlsx")
        if path is not None:
            self.save_report(path)
