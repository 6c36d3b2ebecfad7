"""Shared fixtures: a sandbox server on an ephemeral loopback port, data directories."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import PLATFORM_MARKERS

from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.linux_only(reason=...)`` and friends: skipped elsewhere, with the reason.

    A platform marker without a reason is a usage error: say why the test cannot run on
    the other systems (so nobody has to guess whether it was forgotten there).
    """
    for item in items:
        for name, platforms in PLATFORM_MARKERS.items():
            marker = item.get_closest_marker(name)
            if marker is None:
                continue
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            if not reason:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{name} needs a reason")
            if sys.platform not in platforms:
                item.add_marker(pytest.mark.skip(reason=f"{name}: {reason}"))


@pytest.fixture(autouse=True)
def _no_real_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing in the suite may touch the real user's settings or history, nor the internet."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("RECOTAP_API_KEY", raising=False)
    monkeypatch.delenv("RECOTAP_BASE_URL", raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox (seeded, 3000 accounts) on 127.0.0.1 with no faults."""
    server = SandboxServer(port=0, faults=Faults(seed=1234)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def small_sandbox() -> Iterator[SandboxServer]:
    """A sandbox with few seeded accounts, for tests that compare whole states."""
    server = SandboxServer(port=0, accounts=50, faults=Faults(seed=99)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_key() -> str:
    return DEMO_API_KEY


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "appdata"
    d.mkdir()
    return d


def require_env(var: str) -> bool:
    return os.environ.get(var, "") not in ("", "0")
