"""GUI-thread responsiveness during a 100 000-row accounts import through the wizard.

A 10 ms QTimer ticks on the GUI thread while the wizard checks the file, sends it to the
in-process sandbox (run page, ImportRunner on a worker) and loads the results grid. The
longest gap between two ticks is the longest time the window could not repaint or react.
Target: under 50 ms in every phase.

Every phase is measured twice, each in a fresh process: with CPython's default settings,
and "tuned": ``recotap_desktop.app.tune_interpreter()``, what the app does at start-up
(``gc.freeze()``, a gen-0 threshold of 10 000, a 1 ms GIL switch interval). With the
sandbox in the same process the heap holds every account the sandbox stores, so full
collections (which stop every thread, the GUI thread included) weigh on the default
column; ``--sandbox process`` keeps the sandbox's heap out, as a real server would.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_responsiveness.py
[--rows N]`` (or under xvfb-run for the xcb platform).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from keyring.backend import KeyringBackend  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from recotap_desktop.app import tune_interpreter  # noqa: E402
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer  # noqa: E402
from recotap_desktop.store.secrets import KeyStore  # noqa: E402
from recotap_desktop.store.settings import Profile  # noqa: E402
from recotap_desktop.ui.qt_compat import protect_bools  # noqa: E402
from recotap_desktop.ui.services import Services  # noqa: E402
from recotap_desktop.ui.wizard import ImportWizard  # noqa: E402
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv  # noqa: E402

TIMEOUT = 600.0


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class Ticks:
    """Timestamps of a 10 ms timer on the GUI thread."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))

    def start(self) -> None:
        self.stamps = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> tuple[float, float, int]:
        """(longest gap, 99th percentile gap, ticks) in seconds."""
        self.timer.stop()
        self.stamps.append(time.perf_counter())
        gaps = sorted(b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False))
        p99 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))] if gaps else 0.0
        return (gaps[-1] if gaps else 0.0), p99, len(gaps)


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Run the event loop until ``condition`` holds (polls every 5 ms)."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    poll = QTimer()
    poll.setInterval(5)

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    if not condition():
        loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError("condition not met in time")


@contextlib.contextmanager
def sandbox(args: argparse.Namespace) -> Iterator[str]:
    """The sandbox's CRM base URL: in a thread of this process, or in its own process
    (like a real server: its heap and threads are not ours)."""
    if args.sandbox == "thread":
        with SandboxServer(accounts=50) as server:
            server.faults.latency = args.latency
            yield server.base_url("crm")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop.sandbox", "--port", str(port), "--accounts",
         "50", "--latency", str(args.latency)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "CRM API" in line:
                yield line.split()[-1]
                break
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--gc", choices=("default", "tuned", "all"), default="all")
    parser.add_argument("--sandbox", choices=("thread", "process"), default="thread")
    args = parser.parse_args()
    if args.gc == "all":
        for mode, where in (("default", "thread"), ("tuned", "thread"),
                            ("default", "process")):
            subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--latency",
                            str(args.latency), "--gc", mode, "--sandbox", where], check=True)
        return
    protect_bools()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp, sandbox(args) as base_url:
        tmp_path = Path(tmp)
        path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS,
                         account_rows(args.rows, prefix="gui"))
        services = Services.open(tmp_path / "data", keystore=KeyStore(_MemoryKeyring()), env={})
        services.settings.upsert_profile(Profile(name="Bench", edition="crm",
                                                 base_url=base_url))
        services.set_active("Bench")
        services.keystore.set("Bench", DEMO_API_KEY)
        if args.gc == "tuned":
            tune_interpreter()  # what the app does at start-up
        wizard = ImportWizard(services, "accounts", path)
        wizard.resize(1000, 720)
        wizard.show()
        rows: list[tuple[str, float, float, float, int, str]] = []

        def phase(name: str, action: Callable[[], None], done: Callable[[], bool],
                  note: Callable[[], str] = lambda: "") -> None:
            ticks = Ticks()
            ticks.start()
            started = time.perf_counter()
            action()
            wait_until(done)
            elapsed = time.perf_counter() - started
            gap, p99, n = ticks.stop()
            rows.append((name, elapsed, gap * 1000, p99 * 1000, n, note()))

        phase("read file (page 1)", lambda: None, wizard.file_page.isComplete)
        phase("columns (page 2, custom fields)", wizard.next, wizard.columns_page.isComplete)
        phase("check rows (page 3, build_plan)", wizard.next,
              lambda: wizard.ctx.plan is not None and not wizard.check_page.running,
              lambda: f"{wizard.ctx.plan.total_rows:,} rows")
        wizard.next()
        wait_until(lambda: wizard.ctx.spec is not None)
        wizard.options_page.confirm_check.setChecked(True)
        result_note = lambda: (f"{sum(wizard.ctx.run_result.counts.values()):,} rows, "  # noqa: E731
                               f"{wizard.ctx.run_result.counts}")
        phase("send (page 5, ImportRunner)", wizard.next, wizard.run_page.isComplete,
              result_note)
        view = wizard.results_view
        phase("results grid (page 6, load)", wizard.next,
              lambda: view.model.rowCount() == args.rows and not view.busy)
        phase("grid: filter failed/not sent", lambda: view.set_state_filter({"created"}),
              lambda: True)
        phase("grid: text search", lambda: (view.search.setText("gui-crm-0042"),
                                            view.apply_search()), lambda: True,
              lambda: f"{view.model.rowCount()} rows")
        wizard._discard_confirmed = True
        wizard.close()
        services.close()

    print(f"\nGUI responsiveness, {args.rows:,}-row accounts import (Qt platform "
          f"{app.platformName()}, sandbox latency {args.latency * 1000:.0f} ms, "
          f"garbage collector {args.gc}, sandbox in a {args.sandbox})")
    print(f"{'phase':<36} {'seconds':>8} {'max gap ms':>11} {'p99 ms':>8} {'ticks':>7}  note")
    print("-" * 100)
    for name, secs, gap, p99, n, note in rows:
        print(f"{name:<36} {secs:>8.2f} {gap:>11.1f} {p99:>8.1f} {n:>7}  {note}")
    worst = max(r[2] for r in rows)
    print(f"\nlongest GUI-thread gap: {worst:.1f} ms (target < 50 ms): "
          f"{'yes' if worst < 50 else 'NO'}")


if __name__ == "__main__":
    main()
