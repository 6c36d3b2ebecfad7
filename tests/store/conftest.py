"""Fixtures for the store tests: temporary app paths and an in-memory keyring backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from recotap_desktop.store.paths import AppPaths, app_paths
from tests.helpers.memory_keyring import MemoryKeyring


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    """App paths under a temporary --data-dir (not created yet)."""
    return app_paths(tmp_path / "appdata")


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()
