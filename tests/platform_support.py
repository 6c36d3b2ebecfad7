"""Which platform the suite runs on, and what a test may require of it.

Tests that need a real keychain or the platform's real windowing system call
:func:`require_real_keychain` / :func:`require_native_display`: they skip where the
thing is missing, and FAIL instead when CI said it must be there:

``RECOTAP_REQUIRE_KEYCHAIN=1``  a system keychain (GNOME Keyring / Secret Service on
                                Linux, Windows Credential Locker, macOS Keychain);
``RECOTAP_REQUIRE_DISPLAY=1``   Qt on the platform's own windowing system (xcb on
                                Linux, ``windows``, ``cocoa`` on macOS), never offscreen;
``RECOTAP_REQUIRE_XCB=1``       the same on Linux (the name .ci/test has always used).

Tests that only make sense on one platform carry a marker with a reason
(``linux_only``, ``macos_only``, ``windows_only``, ``posix_only``; see the root conftest).
"""

from __future__ import annotations

import os
import sys

import pytest

#: Qt's platform plugin for this OS's own windowing system.
NATIVE_QPA = {"linux": "xcb", "win32": "windows", "darwin": "cocoa"}

#: Marker name -> the ``sys.platform`` values it runs on.
PLATFORM_MARKERS = {
    "linux_only": ("linux",),
    "macos_only": ("darwin",),
    "windows_only": ("win32",),
    "posix_only": ("linux", "darwin"),
}


def is_set(var: str) -> bool:
    return os.environ.get(var, "") not in ("", "0")


def native_qpa() -> str:
    return NATIVE_QPA.get(sys.platform, NATIVE_QPA["linux"])


def display_required() -> bool:
    """Whether CI said the native display must be there (see module docs)."""
    return is_set("RECOTAP_REQUIRE_DISPLAY") or (
        sys.platform == "linux" and is_set("RECOTAP_REQUIRE_XCB"))


def has_native_display_env() -> bool:
    """Whether a new process would find a display (Windows and macOS always have one)."""
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def require_native_display() -> None:
    """Skip unless the running QApplication uses this OS's own windowing system."""
    from PySide6.QtWidgets import QApplication

    name, native = QApplication.platformName(), native_qpa()
    if name == native:
        return
    reason = (f"needs Qt's {native!r} platform (running on {name!r}); on Linux run under "
              "xvfb-run (.ci/with-desktop)")
    if display_required():
        pytest.fail(f"RECOTAP_REQUIRE_DISPLAY/XCB is set but this test {reason}")
    pytest.skip(reason)


def keychain_problem() -> str | None:
    """Why the OS keychain cannot be used here, or None when it can."""
    import keyring

    from recotap_desktop.store.secrets import describe_backend

    backend = keyring.get_keyring()
    if describe_backend(backend) == "no system keychain":
        return (f"no OS keychain available here (keyring backend {type(backend).__module__}."
                f"{type(backend).__qualname__}); on Linux run under dbus-run-session with "
                ".ci/with-desktop")
    return None


def require_real_keychain() -> None:
    """Skip unless a system keychain is usable; fail when RECOTAP_REQUIRE_KEYCHAIN is set."""
    problem = keychain_problem()
    if problem is None:
        return
    if is_set("RECOTAP_REQUIRE_KEYCHAIN"):
        pytest.fail(f"RECOTAP_REQUIRE_KEYCHAIN is set but {problem}")
    pytest.skip(problem)
