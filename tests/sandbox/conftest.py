"""Fixtures for the sandbox tests: a running server and an httpx client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.sandbox.fixtures import running_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(accounts=200, seed=7) as server:
        yield server


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}, timeout=10) as client:
        yield Api(sandbox, client)


@pytest.fixture(params=["crm", "external"])
def edition(request: pytest.FixtureRequest) -> str:
    """Runs a test once per API edition."""
    return str(request.param)
