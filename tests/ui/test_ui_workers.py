"""The one worker mechanism: results, errors, cancel and progress arrive on the GUI thread."""

from __future__ import annotations

import threading

import pytest

from recotap_desktop.api.errors import CancelledError
from recotap_desktop.ui.workers import SignalProgress, Worker


def test_result_arrives_on_gui_thread(qtbot):
    seen: dict[str, object] = {}

    def job(progress: SignalProgress) -> str:
        seen["job_thread"] = threading.current_thread()
        return "done"

    worker = Worker(job)

    def on_success(result: object) -> None:
        seen["result"] = result
        seen["slot_thread"] = threading.current_thread()

    worker.succeeded.connect(on_success)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert seen["result"] == "done"
    assert seen["job_thread"] is not threading.main_thread()
    assert seen["slot_thread"] is threading.main_thread()
    assert worker.is_finished and not worker.running


def test_error_is_delivered_not_raised(qtbot):
    def job(progress: SignalProgress) -> None:
        raise ValueError("broken file")

    worker = Worker(job)
    errors: list[BaseException] = []
    worker.failed.connect(errors.append)
    worker.succeeded.connect(lambda _r: pytest.fail("must not succeed"))
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert str(errors[0]) == "broken file"


@pytest.mark.parametrize("exc_type", ["job", "api"])
def test_cancel_ends_with_cancelled(qtbot, exc_type):
    started = threading.Event()

    def job(progress: SignalProgress) -> None:
        started.set()
        assert progress.cancel_event.wait(10)
        if exc_type == "api":
            raise CancelledError("stopped")
        progress.raise_if_cancelled()

    worker = Worker(job)
    cancelled: list[bool] = []
    worker.cancelled.connect(lambda: cancelled.append(True))
    worker.failed.connect(lambda e: pytest.fail(f"failed: {e!r}"))
    worker.start()
    assert started.wait(10)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.cancel()
    assert cancelled == [True]
    assert worker.cancel_requested


def test_progress_items_and_final_update(qtbot):
    def job(progress: SignalProgress) -> int:
        for i in range(1, 1001):
            progress.update(i, 1000, f"row {i}")
        progress.report(["page 1"])
        progress.report(["page 2"])
        return 1000

    worker = Worker(job)
    updates: list[tuple[int, int, str]] = []
    items: list[object] = []
    worker.progress.connect(lambda d, t, m: updates.append((d, t, m)))
    worker.item.connect(items.append)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert updates[0] == (1, 1000, "row 1")
    assert updates[-1] == (1000, 1000, "row 1000")  # the final update is never dropped
    assert len(updates) < 1000  # throttled: the GUI is not flooded
    assert items == [["page 1"], ["page 2"]]  # partial results are never dropped


def test_engine_snapshot_is_forwarded(qtbot):
    from recotap_desktop.engine.progress import Phase, ProgressSnapshot

    snap = ProgressSnapshot(phase=Phase.SEND, done=5, total=5, message="sent")

    def job(progress: SignalProgress) -> None:
        progress.update(snap)

    worker = Worker(job)
    snapshots: list[object] = []
    updates: list[tuple[int, int, str]] = []
    worker.snapshot.connect(snapshots.append)
    worker.progress.connect(lambda d, t, m: updates.append((d, t, m)))
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert snapshots == [snap]
    assert updates == [(5, 5, "sent")]


def test_parent_destroyed_while_running_cancels_job(qtbot):
    from PySide6.QtWidgets import QWidget

    owner = QWidget()
    started = threading.Event()
    stopped = threading.Event()

    def job(progress: SignalProgress) -> None:
        started.set()
        if progress.cancel_event.wait(10):
            stopped.set()

    worker = Worker(job, parent=owner)
    worker.start()
    assert started.wait(10)
    owner.deleteLater()
    qtbot.waitUntil(stopped.is_set, timeout=10_000)


def test_a_worker_runs_once(qtbot):
    worker = Worker(lambda p: None)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()


def test_bool_results_and_binding_workaround(qtbot):
    """PySide6 6.12 drops references to True/False (emit, disconnect, QEventLoop.exec); on
    CPython 3.11 that aborts the interpreter unless the singletons are protected."""
    import sys

    from recotap_desktop.ui.qt_compat import protect_bools

    protect_bools()
    before = sys.getrefcount(True)
    results: list[object] = []
    for _ in range(300):
        worker = Worker(lambda p: True)
        worker.succeeded.connect(results.append)
        with qtbot.waitSignal(worker.finished, timeout=10_000):
            worker.start()
    assert results == [True] * 300
    # With the pinned binding (or the guard on 6.12) no reference to True is lost.
    assert sys.getrefcount(True) >= before - 50
