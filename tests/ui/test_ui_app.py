"""app.py: options, logging with the key masked, the crash dialog."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

import pytest
from PySide6.QtWidgets import QApplication

from recotap_desktop import __version__
from recotap_desktop.api.redact import SecretFilter
from recotap_desktop.app import build_parser, install_excepthook, main, setup_logging
from recotap_desktop.ui.dialogs import CrashDialog


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_options():
    args = build_parser().parse_args(["--demo", "--data-dir", "/tmp/x", "--profile", "ACME"])
    assert args.demo and str(args.data_dir) == "/tmp/x" and args.profile == "ACME"
    assert not args.self_test


def test_log_file_masks_the_key(tmp_path):
    secrets = SecretFilter()
    secrets.add("rtp_secret_123")
    log_file = setup_logging(tmp_path / "logs", secrets)
    root = logging.getLogger()
    try:
        logging.getLogger("recotap_desktop.test").warning("using key %s", "rtp_secret_123")
        for handler in root.handlers:
            handler.flush()
        text = log_file.read_text(encoding="utf-8")
        assert "using key ***" in text
        assert "rtp_secret_123" not in text
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", None) == str(log_file):
                root.removeHandler(handler)
                handler.close()


def test_unexpected_error_shows_dialog_with_log_and_copy(qtbot, tmp_path):
    secrets = SecretFilter()
    secrets.add("rtp_secret_123")
    log_file = tmp_path / "logs" / "recotap-desktop.log"
    old_hook, old_thread_hook = sys.excepthook, threading.excepthook
    try:
        forwarder = install_excepthook(log_file, secrets)
        try:
            raise RuntimeError("boom with rtp_secret_123")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: any(isinstance(w, CrashDialog) and w.isVisible()
                                    for w in QApplication.topLevelWidgets()), timeout=10_000)
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog))
        assert "boom with ***" in dialog.details and "rtp_secret_123" not in dialog.details
        dialog.copy_details()
        assert QApplication.clipboard().text() == dialog.details
        dialog.close()
        del forwarder
    finally:
        sys.excepthook, threading.excepthook = old_hook, old_thread_hook


def test_window_icon_has_the_sizes_window_managers_use(qapp):
    from recotap_desktop.app import ICON_SIZES, app_icon

    icon = app_icon()
    sizes = sorted(s.width() for s in icon.availableSizes())
    assert sizes == sorted(ICON_SIZES)
    assert max(sizes) <= 256  # X11 gets every size as raw pixels when a window shows
    assert not icon.pixmap(48, 48).isNull()


def test_help_text_is_formatted(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert "--data-dir DIR" in out and "--demo" in out
    assert max(len(line) for line in out.splitlines()) <= 88


@contextlib.contextmanager
def _rotating_logger(path, name, max_bytes, backups):
    """A logger writing bare messages to a RotatingLog at ``path`` (closed afterwards)."""
    from recotap_desktop.app import RotatingLog

    handler = RotatingLog(path, max_bytes=max_bytes, backups=backups)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_log_file_rolls_over_and_keeps_three_old_files(tmp_path):
    path = tmp_path / "app.log"
    with _rotating_logger(path, "test-rotating-log", 1_000, 3) as logger:
        for i in range(200):
            logger.warning("line %03d %s", i, "x" * 40)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["app.log", "app.log.1", "app.log.2", "app.log.3"]
    for p in tmp_path.iterdir():
        assert 0 < p.stat().st_size < 1_000
    newest = path.read_text(encoding="utf-8").splitlines()
    assert newest[-1].startswith("line 199")
    # the files hold consecutive lines: .1 ends just before the current file starts
    previous = (tmp_path / "app.log.1").read_text(encoding="utf-8").splitlines()
    assert int(previous[-1].split()[1]) + 1 == int(newest[0].split()[1])


def test_log_file_deleted_while_running_starts_again(tmp_path):
    path = tmp_path / "app.log"
    with _rotating_logger(path, "test-rotating-log-deleted", 200, 2) as logger:
        logger.warning("first %s", "x" * 150)
        path.unlink()
        for i in range(5):
            logger.warning("msg%d %s", i, "y" * 60)
    kept = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    for i in range(5):
        assert f"msg{i}" in kept  # no record lost to the deleted file


# The probe runs main() in a fresh interpreter and reports, at the window's first paint,
# whether PySide6's Qt namespace exists yet (building it costs ~20 ms; see qt_compat.Qt).
_FIRST_FRAME_PROBE = """
import sys
from recotap_desktop import app

def report(qapp, window, out):
    from PySide6 import QtCore
    from recotap_desktop.ui.main_window import when_first_painted

    def done():
        print("qt-namespace-at-first-paint", "Qt" in vars(QtCore), flush=True)
        qapp.quit()

    return when_first_painted(window, done)

app.exit_after_first_paint = report
sys.exit(app.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("extra", [[], ["--demo"]], ids=["first-start", "with-a-connection"])
def test_first_frame_does_not_build_the_qt_namespace(tmp_path, extra):
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "RECOTAP_API_KEY"}
    env["RECOTAP_EXIT_AFTER_SHOW"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_FRAME_PROBE, "--data-dir", str(tmp_path / "data"), *extra],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "qt-namespace-at-first-paint False" in done.stdout, done.stdout + done.stderr
