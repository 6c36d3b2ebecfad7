"""Fixtures for the API layer tests (respx-mocked httpx, no real network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from api_testkit import FAST, KEY, Api, RecordingEvent

from recotap_desktop.api import RecotapClient, RetryInfo


@pytest.fixture(params=["crm", "external"])
def edition(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def event() -> RecordingEvent:
    return RecordingEvent()


@pytest.fixture
def retries() -> list[RetryInfo]:
    return []


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def api(mock: respx.MockRouter, edition: str) -> Api:
    return Api(mock, edition)


@pytest.fixture
def client(
    edition: str, event: RecordingEvent, retries: list[RetryInfo]
) -> Iterator[RecotapClient]:
    with RecotapClient(
        KEY, edition=edition, retry=FAST, cancel_event=event, on_retry=retries.append
    ) as c:
        yield c
