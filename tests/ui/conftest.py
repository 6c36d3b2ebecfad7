"""Fixtures for the GUI tests: a sandbox on 127.0.0.1, services under tmp_path, fake keychain.

Every test uses its own ``--data-dir`` (``tmp_path``) and an empty environment for
key lookup, so nothing touches the real user folders, the real keychain (except the
tests marked ``keychain``) or a ``RECOTAP_API_KEY`` set in the developer's shell.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from ui_helpers import PROFILE, MemoryKeyring

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.secrets import KeyStore
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.qt_compat import protect_bools
from recotap_desktop.ui.services import Services


@pytest.fixture(scope="session", autouse=True)
def _protect_bools() -> None:
    """The app does this before creating its QApplication (see ui/qt_compat.py)."""
    protect_bools()


@pytest.fixture(autouse=True)
def _drain_workers() -> Iterator[None]:
    """No background job may outlive its test."""
    yield
    QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox server on 127.0.0.1 (small data set)."""
    with SandboxServer(accounts=40, seed=7) as server:
        yield server


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "appdata"


@pytest.fixture
def bare_services(data_dir: Path, memory_keyring: MemoryKeyring) -> Iterator[Services]:
    """Services with no connection yet (first start)."""
    services = Services.open(data_dir, keystore=KeyStore(memory_keyring), env={})
    yield services
    services.close()


@pytest.fixture
def services(bare_services: Services, sandbox: SandboxServer,
             memory_keyring: MemoryKeyring) -> Services:
    """Services with an active profile "Sandbox" pointing at the sandbox, key in the keyring."""
    profile = Profile(name=PROFILE, edition="crm", base_url=sandbox.base_url("crm"))
    bare_services.settings.upsert_profile(profile)
    bare_services.set_active(PROFILE)
    bare_services.keystore.set(PROFILE, DEMO_API_KEY)
    return bare_services


#: Harmless messages of Qt's "offscreen" platform (fast runs without an X server).
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))
