"""Start-up benchmark (issue: installed as a packaged app). Ratios against a baseline
measured in the same run.

Time from starting the process to the first paint of the main window, for:

  (a) bare PySide6: a script that shows an empty ``QMainWindow`` (the floor);
  (b) the installed app: ``python -m recotap_desktop`` from this environment;
  (c) the frozen app: ``dist/recotap-desktop/recotap-desktop`` (``bash packaging/build-linux``).

(b) and (c) run with ``RECOTAP_EXIT_AFTER_SHOW=1``: the app prints ``first-paint`` once its
main window has painted and quits. The clock runs in this process, from just before the
child starts to the moment that line arrives. One warm-up run per variant is discarded
(disk cache, byte-code cache); then the variants take turns, and each reports the median
of ``--runs``.

Targets: (b) within 1.5x of (a); (c) within 1.3x of (b). Also prints the bundle's size on
disk and its ten largest parts (target: under 150 MB).

Run (offscreen by default; for the real X server wrap it in .ci/with-desktop and pass
``--platform xcb``)::

    .venv/bin/python bench/bench_startup.py [--runs 7] [--platform offscreen|xcb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "recotap-desktop"
MARKER = "first-paint"  # recotap_desktop.app.FIRST_PAINT_MARKER
EXIT_ENV = "RECOTAP_EXIT_AFTER_SHOW"  # recotap_desktop.app.EXIT_AFTER_SHOW_ENV
TIMEOUT = 120.0

BARE_SCRIPT = f"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1000, 700)


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            window.removeEventFilter(self)
            print({MARKER!r}, flush=True)
            QTimer.singleShot(0, app.quit)
        return False


watcher = FirstPaint(window)
window.installEventFilter(watcher)
window.show()
sys.exit(app.exec())
"""


def time_to_first_paint(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from starting ``cmd`` to its ``first-paint`` line (the child then exits)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env, text=True, cwd=ROOT)
    assert proc.stdout is not None
    elapsed = None
    try:
        for line in proc.stdout:
            if line.strip() == MARKER:
                elapsed = time.perf_counter() - start
                break
        proc.stdout.close()
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if elapsed is None:
        raise SystemExit(f"{cmd[0]} exited ({proc.returncode}) without painting a window")
    return elapsed


def bundle_report(bundle: Path) -> list[str]:
    """Size on disk and the ten largest files of the frozen bundle."""
    files = [(p.stat().st_size, p.relative_to(bundle)) for p in bundle.rglob("*")
             if p.is_file() and not p.is_symlink()]
    total = sum(size for size, _ in files)
    verdict = "PASS" if total < 150e6 else "OVER"
    lines = [f"bundle {bundle}: {total / 1e6:.1f} MB ({total / 2**20:.1f} MiB) in "
             f"{len(files)} files; target < 150 MB: {verdict}", "ten largest parts:"]
    lines += [f"  {size / 1e6:7.1f} MB  {rel}" for size, rel in sorted(files, reverse=True)[:10]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per variant (default 7)")
    parser.add_argument("--platform", default=None,
                        help="QT_QPA_PLATFORM for every variant (default: offscreen, or the "
                             "current display's platform when DISPLAY is set)")
    parser.add_argument("--bundle", type=Path, default=BUNDLE,
                        help="the frozen one-folder bundle (default: dist/recotap-desktop)")
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOTAP_")}
    platform = args.platform or ("xcb" if env.get("DISPLAY") else "offscreen")
    env["QT_QPA_PLATFORM"] = platform
    env[EXIT_ENV] = "1"

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        # Like an installed app, use compiled byte-code: the warm-up run writes it (into a
        # private cache, so the source tree stays clean) even if the shell forbids it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))
        bare = Path(tmp, "bare_window.py")
        bare.write_text(BARE_SCRIPT, encoding="utf-8")
        variants: dict[str, list[str]] = {
            "(a) bare PySide6 window": [sys.executable, str(bare)],
            "(b) installed app": [sys.executable, "-m", "recotap_desktop",
                                  "--data-dir", str(Path(tmp, "data-b"))],
        }
        frozen = args.bundle / ("recotap-desktop.exe" if os.name == "nt" else "recotap-desktop")
        if frozen.exists():
            variants["(c) frozen app"] = [str(frozen), "--data-dir", str(Path(tmp, "data-c"))]
        else:
            print(f"note: {frozen} not found; build it with `bash packaging/build-linux` "
                  "to measure (c)")

        for cmd in variants.values():  # warm-up: disk cache, first-run data dirs
            time_to_first_paint(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, cmd in variants.items():
                times[name].append(time_to_first_paint(cmd, env))

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"start-up to first paint, Qt platform {platform}, {args.runs} runs each "
          "(after one warm-up)")
    print(f"{'variant':<28} {'median':>8} {'min':>8} {'max':>8}")
    for name, values in times.items():
        print(f"{name:<28} {medians[name]:>7.3f}s {min(values):>7.3f}s {max(values):>7.3f}s")
    a = medians["(a) bare PySide6 window"]
    b = medians["(b) installed app"]
    ratio_ba = b / a
    print(f"ratio (b)/(a) = {ratio_ba:.2f}  target <= 1.5: "
          f"{'PASS' if ratio_ba <= 1.5 else 'MISS'}")
    # The variants take turns, so the ratio within one round is measured under the same
    # load; their spread shows how much of a difference the machine's noise can explain.
    rounds = sorted(bi / ai for ai, bi in zip(times["(a) bare PySide6 window"],
                                              times["(b) installed app"], strict=True))
    print(f"  per-round (b)/(a): median {statistics.median(rounds):.2f}, "
          f"range {rounds[0]:.2f}-{rounds[-1]:.2f}")
    if "(c) frozen app" in medians:
        ratio_cb = medians["(c) frozen app"] / b
        print(f"ratio (c)/(b) = {ratio_cb:.2f}  target <= 1.3: "
              f"{'PASS' if ratio_cb <= 1.3 else 'MISS'}")
        for line in bundle_report(args.bundle):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
