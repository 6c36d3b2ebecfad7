"""macOS simulated: the GUI explains the keychain once, before any thread reads it."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from ui_helpers import PROFILE, MemoryKeyring

from recotap_desktop.app import install_keychain_notice
from recotap_desktop.sandbox import DEMO_API_KEY
from recotap_desktop.store import platform_checks
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.services import Services

WAIT = 30_000
SHOT = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "keychain-notice.png"


class WatchedKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def _open(qtbot, data_dir: Path, keyring: WatchedKeyring):
    services = Services.open(data_dir, keystore=KeyStore(keyring), env={})
    if not services.profiles:
        services.settings.upsert_profile(Profile(name=PROFILE, base_url="http://127.0.0.1:9"))
        services.set_active(PROFILE)
    window = MainWindow(services)
    qtbot.addWidget(window)
    notice = install_keychain_notice(services, window)
    return services, window, notice


def test_the_explanation_is_on_screen_before_the_keychain_is_read(qtbot, data_dir, monkeypatch):
    monkeypatch.setattr(platform_checks, "current_platform", lambda: "darwin")
    keyring = WatchedKeyring()
    keyring.entries[("recotap-desktop", PROFILE)] = DEMO_API_KEY
    services, window, notice = _open(qtbot, data_dir, keyring)
    try:
        assert notice is not None
        seen: dict[str, object] = {}

        def answer() -> None:  # runs inside the message box's own event loop
            box = notice.box
            if box is None or not box.isVisible():
                QTimer.singleShot(20, answer)
                return
            seen.update(text=box.text(), reads=keyring.reads,
                        label=window.card.key_label.text())
            SHOT.parent.mkdir(parents=True, exist_ok=True)
            seen["saved"] = box.grab().save(str(SHOT), "PNG")
            box.button(QMessageBox.StandardButton.Ok).click()

        QTimer.singleShot(0, answer)
        window.show()  # the key lookup starts on a worker after the first frame
        qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=WAIT)
        assert "macOS Keychain" in str(seen["text"]) and "Always Allow" in str(seen["text"])
        assert seen["reads"] == 0  # the worker waited for the user
        assert seen["label"] == "checking…"
        assert seen["saved"]
        assert keyring.reads >= 1
        assert window.card.key_label.text() == "Stored in WatchedKeyring"
        saved = json.loads(services.paths.settings_file.read_text(encoding="utf-8"))
        assert saved["ui"][platform_checks.KEYCHAIN_NOTICE_SHOWN] is True
    finally:
        window.close()
        services.close()

    # The next start: no explanation, the key is looked up straight away.
    services, window, notice = _open(qtbot, data_dir, keyring)
    try:
        window.show()
        qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=WAIT)
        assert notice is not None and notice.box is None
        assert window.card.key_label.text() == "Stored in WatchedKeyring"
    finally:
        window.close()
        services.close()


def test_nothing_is_installed_off_macos(qtbot, data_dir, monkeypatch):
    monkeypatch.setattr(platform_checks, "current_platform", lambda: "win32")
    services, _window, notice = _open(qtbot, data_dir, WatchedKeyring())
    try:
        assert notice is None
        assert services.keystore.before_first_use is None
    finally:
        services.close()
