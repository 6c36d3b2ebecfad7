"""Paging, delta sync and the domains filter of the list endpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from api_testkit import KEY, Api, ok

from recotap_desktop.api import ConfigError, RecotapClient, format_last_sync


def page(rows: list[dict], cursor: object, more: bool, ts: str = "2026-04-30T10:00:00.000Z"):
    return ok({"data": rows, "nextCursor": cursor, "hasNextPage": more, "syncTimestamp": ts})


def acc(n: int) -> dict:
    return {"externalId": f"crm-{n}", "name": f"A{n}", "domain": f"a{n}.com", "rtp_aid": f"id{n}"}


def params(route, i: int):
    return route.calls[i].request.url.params


def test_cursor_paging_stops_on_has_next_false_despite_cursor(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1), acc(2)], "c2", True, "T1"),
        page([acc(3)], "c3", False, "T2"),  # non-null cursor on the last page
    ])
    pages = list(client.iter_account_pages(limit=2))
    assert [len(p.accounts) for p in pages] == [2, 1]
    assert [p.sync_timestamp for p in pages] == ["T1", "T2"]
    assert route.call_count == 2
    assert "cursor" not in params(route, 0)
    assert params(route, 1)["cursor"] == "c2"
    assert params(route, 0)["limit"] == params(route, 1)["limit"] == "2"


def test_repeated_cursor_stops(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], "c1", True),
        page([acc(2)], "c2", True),
        page([acc(3)], "c1", True),  # goes back: a loop
        page([acc(4)], "c9", False),
    ])
    pages = list(client.iter_account_pages())
    assert route.call_count == 3
    assert [p.accounts[0].external_id for p in pages] == ["crm-1", "crm-2", "crm-3"]


def test_same_cursor_twice_in_a_row_stops(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], "c1", True), page([acc(2)], "c1", True), page([acc(3)], "c3", False)])
    assert len(list(client.iter_account_pages())) == 2
    assert route.call_count == 2


def test_empty_page_stops_even_if_server_says_more(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], "c1", True), page([], "c2", True), page([acc(3)], "c3", False)])
    pages = list(client.iter_account_pages())
    assert [len(p.accounts) for p in pages] == [1, 0]
    assert route.call_count == 2


def test_offset_paging_when_no_cursor_is_given(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1), acc(2), acc(3)], None, True),
        page([acc(4), acc(5)], None, True),
        page([acc(6)], None, False),
    ])
    pages = list(client.iter_account_pages(limit=3))
    assert sum(len(p.accounts) for p in pages) == 6
    assert "cursor" not in params(route, 0)
    assert params(route, 1)["cursor"] == "3"
    assert params(route, 2)["cursor"] == "5"


def test_integer_cursor_is_sent_as_text(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], 100, True), page([acc(2)], 200, False)])
    pages = list(client.iter_account_pages())
    assert pages[0].next_cursor == "100"
    assert params(route, 1)["cursor"] == "100"


@pytest.mark.parametrize(("asked", "sent"), [(500, "100"), (0, "1"), (-3, "1"), (42, "42")])
def test_limit_is_clamped(api: Api, client, asked: int, sent: str) -> None:
    route = api.route("GET", "accounts").mock(return_value=page([], None, False))
    list(client.iter_account_pages(limit=asked))
    assert params(route, 0)["limit"] == sent


def test_last_sync_is_sent_on_every_page(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], "c1", True, "FIRST"), page([acc(2)], "c2", False, "SECOND")])
    since = datetime(2026, 4, 30, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    pages = list(client.iter_account_pages(last_sync=since))
    assert [params(route, i)["lastSync"] for i in range(2)] == ["2026-04-30T10:00:00.000Z"] * 2
    assert pages[0].sync_timestamp == "FIRST"


def test_last_sync_string_is_passed_through(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(return_value=page([], None, False))
    list(client.iter_account_pages(last_sync="2026-04-30T10:00:00.000Z"))
    assert params(route, 0)["lastSync"] == "2026-04-30T10:00:00.000Z"


def test_format_last_sync() -> None:
    assert format_last_sync(None) is None
    assert format_last_sync("  ") is None
    assert format_last_sync(datetime(2026, 1, 15)) == "2026-01-15T00:00:00.000Z"  # naive = UTC
    assert (format_last_sync(datetime(2026, 1, 15, 1, 2, 3, 456789, tzinfo=UTC))
            == "2026-01-15T01:02:03.456Z")
    assert (format_last_sync(datetime(2026, 1, 15, tzinfo=timezone(timedelta(hours=-5))))
            == "2026-01-15T05:00:00.000Z")


def test_domains_filter_external(mock) -> None:
    api = Api(mock, "external")
    route = api.route("GET", "accounts").mock(return_value=page([acc(1)], None, False))
    with RecotapClient(KEY, edition="external") as client:
        list(client.iter_account_pages(
            domains=["https://www.Acme.com/path", "acme.com", "hubspot.com", "  "]))
    request = route.calls.last.request
    assert request.url.params["domains"] == '["acme.com","hubspot.com"]'
    # URL-encoded on the wire: no raw quotes, brackets or commas
    raw_query = request.url.query.decode()
    assert "domains=%5B%22acme.com%22%2C%22hubspot.com%22%5D" in raw_query
    assert json.loads(request.url.params["domains"]) == ["acme.com", "hubspot.com"]


def test_domains_filter_limits(mock) -> None:
    with RecotapClient(KEY, edition="external") as client:
        with pytest.raises(ValueError, match="100"):
            client.iter_account_pages(domains=[f"d{i}.com" for i in range(101)])
        # 100 distinct after normalisation is fine; duplicates do not count twice
        route = Api(mock, "external").route("GET", "accounts").mock(
            return_value=page([], None, False))
        list(client.iter_account_pages(
            domains=[f"d{i}.com" for i in range(100)] + ["WWW.d0.com"]))
        assert len(json.loads(route.calls.last.request.url.params["domains"])) == 100
        # nothing to look up: no request at all (never "no filter")
        assert list(client.iter_account_pages(domains=["", " "])) == []
        assert route.call_count == 1
        with pytest.raises(TypeError):
            client.iter_account_pages(domains="acme.com")


def test_domains_filter_refused_on_crm(mock) -> None:
    with RecotapClient(KEY, edition="crm") as client, pytest.raises(ConfigError, match="domain"):
        client.iter_account_pages(domains=["acme.com"])


def test_iteration_is_lazy(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1)], "c1", True), page([acc(2)], "c2", False)])
    pages = client.iter_account_pages()
    assert route.call_count == 0
    first = next(pages)
    assert route.call_count == 1 and first.has_next_page
    pages.close()
    assert route.call_count == 1


def test_segments_repeated_cursor_and_bare_array(api: Api, client) -> None:
    route = api.route("GET", "segments").mock(side_effect=[
        ok({"data": [{"segmentId": "s1", "name": "a", "status": "active"}],
            "nextCursor": "s1", "hasNextPage": True}),
        ok({"data": [{"segmentId": "s2", "name": "b", "status": "draft"}],
            "nextCursor": "s1", "hasNextPage": True}),
    ])
    assert [len(p) for p in client.iter_segments()] == [1, 1]
    assert route.call_count == 2
    route.side_effect = None
    route.return_value = ok([{"segmentId": "s3", "name": "c", "status": "active"}])
    assert [s.segment_id for s in client.list_segments()] == ["s3"]


def bare_page(rows: list[dict], cursor: object) -> object:
    """A Revision A page: no ``hasNextPage`` at all."""
    return ok({"data": rows, "nextCursor": cursor, "syncTimestamp": "T"})


def test_without_has_next_page_an_integer_cursor_means_more(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        bare_page([acc(1), acc(2)], 2), bare_page([acc(3)], 3), bare_page([], None)])
    pages = list(client.iter_account_pages(limit=5))
    assert [len(p.accounts) for p in pages] == [2, 1, 0]
    assert [p.has_next_page for p in pages] == [True, True, False]
    assert params(route, 1)["cursor"] == "2" and params(route, 2)["cursor"] == "3"


def test_without_has_next_page_a_full_page_means_more(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        bare_page([acc(1), acc(2)], None), bare_page([acc(3)], None)])
    pages = list(client.iter_account_pages(limit=2))
    assert [len(p.accounts) for p in pages] == [2, 1]
    assert pages[-1].has_next_page is False
    assert params(route, 1)["cursor"] == "2"  # the integer offset of Revision A


def test_has_next_page_false_wins_over_an_integer_cursor(api: Api, client) -> None:
    route = api.route("GET", "accounts").mock(side_effect=[
        page([acc(1), acc(2)], 2, False), page([acc(3)], None, False)])
    assert len(list(client.iter_account_pages(limit=2))) == 1
    assert route.call_count == 1
