"""The GUI thread is never blocked by network work: a 10 ms timer keeps ticking while the
sandbox answers after 2 s. A responsiveness assertion, not a speed limit."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from recotap_desktop.sandbox import Faults
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.segment_picker import SegmentPickerDialog

LATENCY = 2.0
WAIT = 60_000


class TickRecorder:
    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.stamps.append(time.monotonic()))

    def start(self) -> None:
        self.stamps = [time.monotonic()]
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.stamps.append(time.monotonic())
        return max(b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False))


def test_gui_keeps_ticking_during_slow_requests(qtbot, services, sandbox):
    sandbox.faults = Faults(latency=LATENCY)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    ticks = TickRecorder()
    ticks.start()
    started = time.monotonic()

    test_job = window.test_connection()
    picker = SegmentPickerDialog(services, services.active_profile, window)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitUntil(lambda: test_job.is_finished and picker.job.is_finished, timeout=WAIT)
    elapsed = time.monotonic() - started
    longest_gap = ticks.stop()

    assert window.card.result_label.text().startswith("✔ Connected")
    assert picker.model.rowCount() == 5
    assert elapsed >= LATENCY  # the requests really were slow...
    assert len(ticks.stamps) > 20  # ...and the timer kept firing meanwhile
    assert longest_gap < 1.0, f"GUI thread blocked for {longest_gap:.2f} s"
