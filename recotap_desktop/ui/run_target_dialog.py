"""Choose, explicitly, where the remaining rows of a run go when its own connection cannot
be used (gone, key gone, now pointing elsewhere, or not recorded).

The dialog names both hosts: the one the run sent its rows to and the one chosen now.
Accepting it is the explicit choice the engine needs (``other_connection=True``); the
rows then go to the chosen connection as a new run linked to the old one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.run_target import run_host
from recotap_desktop.store.history import RunRecord
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.services import Services


def own_connection_unusable(run: RunRecord, profile: Profile, host: str,
                            exc: BaseException) -> str | None:
    """Words for an error meaning the run's own connection cannot be used (it is not the
    run's, or its key is gone or unusable), so the user should choose one; ``None`` for
    any other error."""
    from recotap_desktop.engine.run_target import WrongConnection
    from recotap_desktop.store.secrets import KeychainUnavailable
    from recotap_desktop.ui.messages import describe_error
    from recotap_desktop.ui.services import NoApiKey

    if isinstance(exc, WrongConnection):
        return exc.message
    if isinstance(exc, NoApiKey | KeychainUnavailable):
        return (f"Run {run.id} sent its rows to “{profile.name}” ({host}), but its API key "
                f"cannot be used: {describe_error(exc)} Nothing was sent.")
    return None


class RunTargetDialog(QDialog):
    """Says why the run's own connection cannot be used; offers every connection, showing
    its host beside the run's. ``chosen`` is the profile picked (after ``accepted``)."""

    def __init__(self, services: Services, run: RunRecord, problem: str, action: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.run = run
        self.setWindowTitle(f"Where should run {run.id} {action}?")
        layout = QVBoxLayout(self)
        self.problem_label = QLabel(problem)
        self.problem_label.setObjectName("runTargetProblem")
        self.problem_label.setWordWrap(True)
        layout.addWidget(self.problem_label)
        form = QFormLayout()
        self.was_label = QLabel(run_host(run))
        self.was_label.setObjectName("runTargetWas")
        form.addRow("Rows already sent went to:", self.was_label)
        self.combo = QComboBox()
        self.combo.setObjectName("runTargetChoice")
        self.combo.setAccessibleName("Connection for the remaining rows")
        self._profiles: list[Profile] = list(services.profiles)
        for profile in self._profiles:
            target = services.target_of(profile)
            self.combo.addItem(
                f"{profile.name} — {target.host} ({rules_for(profile.edition).title})")
        label = QLabel("Send the remaining rows &to:")
        label.setBuddy(self.combo)
        form.addRow(label, self.combo)
        layout.addLayout(form)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("runTargetSummary")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send_button = QPushButton()
        self.send_button.setObjectName("runTargetSend")
        self.send_button.setDefault(True)
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.combo.currentIndexChanged.connect(lambda _i: self._update())
        self._update()
        self.setMinimumWidth(520)

    @property
    def chosen(self) -> Profile | None:
        index = self.combo.currentIndex()
        return self._profiles[index] if 0 <= index < len(self._profiles) else None

    def _update(self) -> None:
        profile = self.chosen
        self.send_button.setEnabled(profile is not None)
        if profile is None:
            self.send_button.setText("Send")
            self.summary_label.setText(
                "There is no connection to send to. Add one (Connection → Connections…).")
            return
        target = self.services.target_of(profile)
        self.send_button.setText(f"Send to {profile.name} ({target.host})")
        self.summary_label.setText(
            f"The rows already answered stay on {run_host(self.run)}. The remaining "
            f"rows go to {target.host} (“{profile.name}”), as a new run linked to run "
            f"{self.run.id}.")


def choose_run_target(services: Services, run: RunRecord, problem: str, action: str,
                      parent: QWidget, then: Callable[[Profile], object]) -> RunTargetDialog:
    """Open :class:`RunTargetDialog` (window-modal); call ``then(profile)`` if accepted."""
    from recotap_desktop.ui.qt_compat import Qt

    dialog = RunTargetDialog(services, run, problem, action, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def done(result: int) -> None:
        profile = dialog.chosen
        if result == QDialog.DialogCode.Accepted and profile is not None:
            then(profile)

    dialog.finished.connect(done)
    dialog.open()
    return dialog
