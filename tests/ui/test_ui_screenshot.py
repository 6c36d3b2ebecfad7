"""The real main window in demo mode on the real xcb platform, saved as a screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_support import require_native_display

from recotap_desktop.app import build_main_window, build_parser, create_services

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "artifacts" / "screenshots" / "main-window.png"


@pytest.mark.xcb
def test_main_window_screenshot_in_demo_mode(qtbot, data_dir, memory_keyring):
    require_native_display()
    from recotap_desktop.store.secrets import KeyStore

    args = build_parser().parse_args(["--demo", "--data-dir", str(data_dir)])
    services = create_services(args, keystore=KeyStore(memory_keyring), env={})
    try:
        window = build_main_window(services)
        qtbot.addWidget(window)
        window.resize(960, 680)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=30_000)
        job = window.test_connection()
        qtbot.waitUntil(lambda: job.is_finished, timeout=30_000)
        assert window.demo_badge.isVisible()
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(SHOT), "PNG")
        print(f"screenshot: {SHOT}")
        assert SHOT.stat().st_size > 10_000
        window.close()
    finally:
        services.close()
