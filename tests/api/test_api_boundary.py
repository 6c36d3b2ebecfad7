"""The boundary where server text enters: redaction (finding 2) and size limits (finding 5)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_testkit import FAST, KEY, Api, envelope

from recotap_desktop.api import (
    AmbiguousOutcome,
    ApiStatusError,
    RecotapClient,
    RecotapError,
    ServerError,
    TransportError,
)
from recotap_desktop.api.wire import ERROR_LIMIT, answer_limit


def plant(value: Any) -> Any:
    if isinstance(value, str):
        return f"{value} {KEY}"
    if isinstance(value, list):
        return [plant(v) for v in value]
    if isinstance(value, dict):
        return {f"{k}" if k != "x" else KEY: plant(v) for k, v in value.items()}
    return value


def planted(data: Any, status: int = 200) -> httpx.Response:
    doc = plant(envelope(data, status))
    doc["statusCode"] = status
    doc[KEY] = KEY  # a key that is the secret too
    return httpx.Response(status, json=doc, headers={"X-Echo": KEY})


ACC = {"externalId": "e1", "name": "A", "domain": "a.com", "rtp_aid": "r1",
       "rtp_journey_stage": "Aware", "customFields": {"NOTE_C": "n"}}

ANSWERS = {
    ("GET", "accounts"): {"data": [ACC], "nextCursor": None, "hasNextPage": False,
                          "syncTimestamp": "2026-04-30T10:00:00.000Z"},
    ("POST", "accounts"): {"results": [{"externalId": "e1", "domain": "a.com",
                                        "status": "failed", "error": "exists"}]},
    ("PUT", "accounts/e1"): {"message": "Account updated successfully"},
    ("PUT", "accounts/r1"): {"message": "Account updated successfully"},
    ("GET", "accounts/missing-external-ids"): [{"name": "A", "domain": "a.com"}],
    ("PATCH", "accounts/external-ids"): {"matched": 1, "updated": 1, "notFound": ["b.com"]},
    ("GET", "accounts/custom-fields"): [{"key": "NOTE_C", "label": "Note",
                                         "labelType": "singleLineText", "options": ["x"]}],
    ("POST", "accounts/custom-field"): [{"key": "NOTE_C", "label": "Note",
                                         "labelType": "singleLineText"}],
    ("GET", "segments"): {"data": [{"segmentId": "s1", "name": "S", "status": "active"}],
                          "nextCursor": None, "hasNextPage": False},
    ("POST", "deals"): {"results": [{"externalDealId": "d1", "status": "failed",
                                     "error": "bad"}]},
    ("POST", "deal-stages"): {"results": [{"pipelineId": "p1", "status": "created"}]},
    ("POST", "sales-activities"): {"results": [{"externalActivityId": "a1",
                                                "status": "failed", "error": "dup"}]},
}


def call_every_endpoint(client: RecotapClient) -> list[Any]:
    update_key = "e1" if client.rules.account_update_key == "externalId" else "r1"
    calls = [
        lambda: list(client.iter_account_pages()),
        lambda: client.create_accounts([{"externalId": "e1", "name": "A", "domain": "a.com"}]),
        lambda: client.update_account(update_key, {"NOTE_C": "x"}),
        client.list_unmapped_accounts,
        lambda: client.map_external_ids([{"domain": "b.com", "externalId": "x"}]),
        client.list_custom_fields,
        lambda: client.create_custom_field("Note", "singleLineText"),
        client.list_segments,
        lambda: client.push_deals([{"externalDealId": "d1"}]),
        lambda: client.push_deal_stages([{"pipelineId": "p1", "stages": []}]),
        lambda: client.push_sales_activities([{"externalActivityId": "a1"}]),
    ]
    got: list[Any] = []
    for call in calls:
        try:
            got.append(call())
        except RecotapError as exc:
            got.append(exc)
            got.append(vars(exc))
    return got


def deep_text(value: Any) -> str:
    """Everything reachable from ``value`` (dataclass fields and raw JSON included)."""
    seen: list[str] = []

    def walk(v: Any) -> None:
        seen.append(repr(v))
        if isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                seen.append(repr(k))
                walk(x)
        elif hasattr(v, "__dataclass_fields__"):
            for name in v.__dataclass_fields__:
                walk(getattr(v, name))
        elif isinstance(v, BaseException):
            seen.append(str(v))
            walk(vars(v))
    walk(value)
    return "\n".join(seen)


def test_every_string_of_every_success_answer_is_redacted(
    api: Api, client: RecotapClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for (method, path), data in ANSWERS.items():
        api.route(method, path).mock(return_value=planted(data))
    got = call_every_endpoint(client)
    assert len(got) >= 11
    text = deep_text(got)
    assert KEY not in text and "***" in text
    assert KEY not in caplog.text


@pytest.mark.parametrize("status", [400, 404, 409, 429, 500])
def test_every_string_of_every_error_answer_is_redacted(
    api: Api, client: RecotapClient, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"message": "Bad", "customMessage": "no", "error": "e",
            "data": [{"property": "accounts", "constraints": {"x": "y"},
                      "children": [{"property": "0", "constraints": {"k": "v"}}]}]}
    for method, path in ANSWERS:
        api.route(method, path).mock(
            return_value=httpx.Response(status, json=plant(body), headers={"Retry-After": "0",
                                                                          "X-Echo": KEY}))
    got = call_every_endpoint(client)
    assert all(isinstance(g, RecotapError | dict) for g in got)
    assert KEY not in deep_text(got) and KEY not in caplog.text


def test_a_redirect_is_not_followed_and_its_location_is_masked(
    api: Api, client: RecotapClient, mock: Any
) -> None:
    elsewhere = mock.route(host="collector.example").mock(return_value=httpx.Response(200))
    api.route("GET", "segments").mock(return_value=httpx.Response(
        302, headers={"Location": f"https://collector.example/?k={KEY}"}))
    with pytest.raises(ApiStatusError) as caught:
        client.list_segments()
    assert not elsewhere.called
    assert "redirect" in caught.value.message and "***" in caught.value.message
    assert KEY not in deep_text(caught.value)


# ---------------------------------------------------------------------- size (finding 5)


class Endless:
    """A body of ``chunk`` repeated forever; counts what was taken from it."""

    def __init__(self, chunk: bytes = b" " * 65536) -> None:
        self.chunk = chunk
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self.taken += len(self.chunk)
            if self.taken > 64 << 20:  # the client should have stopped long ago
                raise AssertionError("the client kept reading an endless answer")
            yield self.chunk


def test_a_success_answer_past_its_limit_is_stopped_and_said_to_be_too_much(
    api: Api, client: RecotapClient
) -> None:
    body = Endless()
    api.route("GET", "segments").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(TransportError) as caught:
        client.list_segments()
    assert "sent too much" in caught.value.message
    limit = answer_limit("GET", "segments", 200)
    assert limit <= body.taken <= limit + 2 * len(body.chunk)


def test_a_write_whose_answer_is_too_large_is_ambiguous(api: Api, client: RecotapClient) -> None:
    api.route("POST", "deals").mock(return_value=httpx.Response(200, content=Endless()))
    with pytest.raises(AmbiguousOutcome, match="sent too much"):
        client.push_deals([{"externalDealId": "d1"}])


def test_a_huge_error_body_is_cut_on_every_retry(api: Api, client: RecotapClient) -> None:
    bodies = [Endless() for _ in range(FAST.max_attempts)]
    api.route("GET", "segments").mock(
        side_effect=[httpx.Response(503, content=b) for b in bodies])
    with pytest.raises(ServerError) as caught:
        client.list_segments()
    assert caught.value.attempts == FAST.max_attempts
    assert all(b.taken <= ERROR_LIMIT + 2 * len(b.chunk) for b in bodies)
    assert "too long to read" in caught.value.server_message
