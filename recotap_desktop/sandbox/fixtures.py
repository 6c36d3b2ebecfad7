"""Factories the lead wires into ``tests/conftest.py`` (pytest is imported lazily).

Example::

    from recotap_desktop.sandbox.fixtures import sandbox_fixture
    sandbox = sandbox_fixture(accounts=300)          # function-scoped fixture "sandbox"
    sandbox_session = sandbox_fixture(scope="session")

or, without pytest::

    with running_sandbox(accounts=100) as server:
        client = RecotapClient(DEMO_API_KEY, base_url=server.base_url("external"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from recotap_desktop.sandbox.faults import Faults
from recotap_desktop.sandbox.server import SandboxServer


@contextmanager
def running_sandbox(*, faults: Faults | None = None, accounts: int = 300, seed: int = 7,
                    **kwargs: Any) -> Iterator[SandboxServer]:
    """Start a sandbox on an ephemeral loopback port; stop it on exit.

    Defaults to 300 accounts (fast to seed); pass ``accounts=3000`` for the full set.
    Extra keyword arguments go to :class:`SandboxServer`.
    """
    server = SandboxServer(port=kwargs.pop("port", 0), faults=faults, accounts=accounts,
                           seed=seed, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sandbox_fixture(*, scope: str = "function", accounts: int = 300, seed: int = 7,
                    **kwargs: Any) -> Callable[..., Any]:
    """Build a pytest fixture that yields a running :class:`SandboxServer`.

    Assign the result to a module-level name in a conftest; that name is the fixture's
    name. Faults start switched off; tests change ``server.faults`` as they need.
    """
    import pytest

    def _fixture() -> Iterator[SandboxServer]:
        with running_sandbox(accounts=accounts, seed=seed, **kwargs) as server:
            yield server

    return pytest.fixture(scope=scope)(_fixture)  # type: ignore[call-overload]
