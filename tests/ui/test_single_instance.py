"""Open with FILE and one instance (issue 18, finding 9): two real processes, a real
QLocalSocket between them, and the message rules of the hand-over."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recotap_desktop.store.paths import app_paths
from recotap_desktop.ui.single_instance import (
    MAX_MESSAGE,
    decode,
    encode,
    hand_over,
    socket_name,
)

WAIT = 30_000


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RECOTAP_API_KEY"}
    if sys.platform == "linux" and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env["QT_QPA_PLATFORM"] = "offscreen"  # the local socket is real either way
    return env


def _log(data: Path) -> str:
    path = app_paths(data).log_dir / "recotap-desktop.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _wait_for(first: subprocess.Popen[str], data: Path, text: str) -> None:
    give_up = time.monotonic() + 120  # only bounds a broken run; nothing is timed
    while text not in _log(data):
        assert first.poll() is None, f"the first window exited: {first.returncode}"
        assert time.monotonic() < give_up, f"{text!r} never logged:\n{_log(data)}"
        time.sleep(0.1)


def test_a_second_launch_hands_its_file_to_the_running_window(tmp_path: Path) -> None:
    data = tmp_path / "data"
    csv = tmp_path / "accounts.csv"
    csv.write_text("Company Name,Website,Record ID\nACME,acme.com,1\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "recotap_desktop", "--data-dir", str(data), "--demo"]
    first = subprocess.Popen(cmd, env=_env(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(first, data, "single instance: listening")
        second = subprocess.run([*cmd, str(csv)], env=_env(), stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        _wait_for(first, data, f"import wizard opened: kind=accounts file={csv}")
        assert first.poll() is None  # the first window is still there
    finally:
        first.terminate()
        first.communicate(timeout=120)


def test_a_launch_with_a_file_and_no_window_opens_it_itself(tmp_path: Path) -> None:
    data = tmp_path / "data"
    csv = tmp_path / "accounts.csv"
    csv.write_text("Company Name,Website,Record ID\nACME,acme.com,1\n", encoding="utf-8")
    first = subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop", "--data-dir", str(data), "--demo", str(csv)],
        env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        _wait_for(first, data, f"import wizard opened: kind=accounts file={csv}")
    finally:
        first.terminate()
        first.communicate(timeout=120)


def test_socket_name_is_per_data_folder() -> None:
    assert socket_name("/a") != socket_name("/b")
    assert socket_name("/a") == socket_name("/a/")
    assert "/" not in socket_name("/a") and "\\" not in socket_name("/a")


def test_messages_are_bounded_and_checked(tmp_path: Path) -> None:
    assert decode(encode([tmp_path / "x.csv"])) == [tmp_path / "x.csv"]
    with pytest.raises(ValueError):
        encode(["x" * MAX_MESSAGE])
    assert decode(b'{"open": [1]}\n') is None
    assert decode(b'not json\n') is None
    assert decode(b'{"open": ["a"]}') is None  # unterminated


def test_nobody_listening_means_no_hand_over(tmp_path: Path) -> None:
    assert hand_over(socket_name(tmp_path / "none"), [tmp_path / "f.csv"], wait_ms=1000) is False


def test_macos_file_open_event_reaches_the_window(qtbot, tmp_path: Path) -> None:
    """Finder's "Open With" arrives as a QFileOpenEvent; the filter hands the file on."""
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QFileOpenEvent

    from recotap_desktop.ui.single_instance import FileOpenFilter

    target = QObject()
    filt = FileOpenFilter()
    target.installEventFilter(filt)
    with qtbot.waitSignal(filt.files_received, timeout=WAIT) as got:
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.sendEvent(target, QFileOpenEvent(str(tmp_path / "a.xlsx")))
    assert got.args == [[tmp_path / "a.xlsx"]]
