"""Helpers shared by the GUI tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from tests.helpers.memory_keyring import MemoryKeyring

__all__ = ["PROFILE", "MemoryKeyring"]

PROFILE = "Sandbox"
