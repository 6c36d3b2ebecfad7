"""GET /accounts (paging, delta, domains filter), missing-external-ids, segments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox.state import is_rtp_aid

ACCOUNT_KEYS = {
    "externalId", "name", "domain", "rtp_aid", "rtp_account_score", "rtp_journey_stage",
    "rtp_advertising_activity_score", "rtp_website_intent_score", "rtp_g2_intent_score",
    "rtp_bombora_intent_score", "rtp_last_account_date",
}


def _pull_all(api: Api, edition: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        data = api.data(api.get(edition, "accounts", params=query))
        pages += 1
        rows += data["data"]
        if not data["hasNextPage"]:
            return rows, pages
        if edition == "crm":
            assert data["nextCursor"] is None
            cursor = str(len(rows))
        else:
            cursor = data["nextCursor"]
        assert pages < 1000


def test_external_items_have_custom_fields_crm_items_do_not(api: Api) -> None:
    ext = api.data(api.get("external", "accounts", params={"limit": 5}))["data"]
    crm = api.data(api.get("crm", "accounts", params={"limit": 5}))["data"]
    assert all(set(item) == ACCOUNT_KEYS | {"customFields"} for item in ext)
    assert all(set(item) == ACCOUNT_KEYS for item in crm)
    active = {f["key"] for f in api.data(api.get("external", "accounts/custom-fields"))}
    for item in ext:
        assert set(item["customFields"]) == active  # unset keys come back as null
        assert is_rtp_aid(item["rtp_aid"])
    assert any(v is None for item in ext for v in item["customFields"].values())


def test_external_keyset_paging_keeps_cursor_on_last_page(api: Api) -> None:
    rows, pages = _pull_all(api, "external", limit=30)
    assert len(rows) == 200 and pages == 7
    aids = [r["rtp_aid"] for r in rows]
    assert aids == sorted(aids) and len(set(aids)) == 200
    last = api.data(api.get("external", "accounts", params={"limit": 30, "cursor": aids[179]}))
    assert last["hasNextPage"] is False
    assert last["nextCursor"] == aids[-1]  # stays populated, as seen live
    assert "syncTimestamp" in last


def test_crm_offset_paging(api: Api) -> None:
    rows, pages = _pull_all(api, "crm", limit=30)
    assert len(rows) == 200 and pages == 7
    page = api.data(api.get("crm", "accounts", params={"limit": 10, "cursor": "195"}))
    assert [r["rtp_aid"] for r in page["data"]] == [r["rtp_aid"] for r in rows[195:]]
    assert page["hasNextPage"] is False and page["nextCursor"] is None


def test_both_editions_see_the_same_accounts(api: Api) -> None:
    crm, _ = _pull_all(api, "crm")
    ext, _ = _pull_all(api, "external")
    assert [(r["rtp_aid"], r["domain"]) for r in crm] == [(r["rtp_aid"], r["domain"]) for r in ext]


def test_default_and_max_limit(api: Api, edition: str) -> None:
    assert len(api.data(api.get(edition, "accounts"))["data"]) == 100
    response = api.get(edition, "accounts", params={"limit": 101})
    assert response.status_code == 400
    assert response.json()["data"] == [
        {"property": "limit", "constraints": {"max": "limit must not be greater than 100"}}]
    assert api.get(edition, "accounts", params={"limit": 0}).status_code == 400
    assert api.get(edition, "accounts", params={"limit": "x"}).status_code == 400


@pytest.mark.parametrize(("edition", "cursor"), [("crm", "abc"), ("crm", "-1"),
                                                 ("external", "not-an-id")])
def test_bad_cursor_is_400(api: Api, edition: str, cursor: str) -> None:
    response = api.get(edition, "accounts", params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["customMessage"]


def test_delta_sync_returns_only_changed_accounts(api: Api, edition: str) -> None:
    first = api.data(api.get(edition, "accounts", params={"limit": 1}))
    since = first["syncTimestamp"]
    assert api.data(api.get(edition, "accounts", params={"lastSync": since}))["data"] == []
    changed = set(api.server.state.rescore(7))
    delta, _ = _pull_all(api, edition, lastSync=since, limit=3)
    assert {r["rtp_aid"] for r in delta} == changed
    assert all(r["rtp_last_account_date"] > since for r in delta)


def test_delta_sync_sees_pushed_and_mapped_accounts(api: Api) -> None:
    since = api.data(api.get("external", "accounts", params={"limit": 1}))["syncTimestamp"]
    created = api.data(api.post("external", "accounts",
                                {"accounts": [{"domain": "fresh.io", "name": "Fresh"}]}))
    unmapped = api.data(api.get("external", "accounts/missing-external-ids",
                                params={"limit": 1}))[0]
    api.data(api.patch("external", "accounts/external-ids",
                       {"mappings": [{"domain": unmapped["domain"], "externalId": "X-1"}]}))
    delta = api.data(api.get("crm", "accounts", params={"lastSync": since}))["data"]
    assert {r["domain"] for r in delta} == {"fresh.io", unmapped["domain"]}
    fresh = next(r for r in delta if r["domain"] == "fresh.io")
    assert fresh["rtp_aid"] == created["results"][0]["rtp_aid"]
    scores = [fresh[k] for k in ACCOUNT_KEYS if k.endswith("_score")]
    assert scores == [0] * 5 and fresh["rtp_journey_stage"] == ""


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T00:00:00Z", "12345"])
def test_invalid_last_sync_is_400_business_error(api: Api, edition: str, value: str) -> None:
    response = api.get(edition, "accounts", params={"lastSync": value})
    assert response.status_code == 400
    doc = response.json()
    assert doc["data"] is None
    assert "lastSync" in doc["customMessage"]


def test_last_sync_accepts_iso_variants(api: Api) -> None:
    for value in ["2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000+02:00",
                  "2020-01-01T00:00:00"]:
        assert api.get("crm", "accounts", params={"lastSync": value}).status_code == 200


def test_domains_filter_is_normalised(api: Api) -> None:
    accounts = api.server.state.all_accounts()
    wanted = [accounts[3]["domain"], accounts[10]["domain"]]
    query = json.dumps([f"https://www.{wanted[0]}/path", wanted[1].upper(), "unknown.example"])
    data = api.data(api.get("external", "accounts", params={"domains": query}))
    assert sorted(r["domain"] for r in data["data"]) == sorted(wanted)
    assert data["hasNextPage"] is False


def test_domains_filter_limits(api: Api) -> None:
    too_many = json.dumps([f"d{i}.com" for i in range(101)])
    response = api.get("external", "accounts", params={"domains": too_many})
    assert response.status_code == 400
    assert response.json()["data"][0]["constraints"] == {
        "arrayMaxSize": "domains must contain no more than 100 elements"}
    exactly = json.dumps([f"d{i}.com" for i in range(100)])
    assert api.get("external", "accounts", params={"domains": exactly}).status_code == 200
    assert api.get("external", "accounts", params={"domains": "acme.com"}).status_code == 400
    # Revision A has no domain filter.
    crm = api.get("crm", "accounts", params={"domains": '["acme.com"]'})
    assert crm.status_code == 400
    assert crm.json()["data"][0]["property"] == "domains"


def test_missing_external_ids(api: Api, edition: str) -> None:
    rows = api.data(api.get(edition, "accounts/missing-external-ids"))
    state = api.server.state
    expected = [{"name": a["name"], "domain": a["domain"]} for a in state.all_accounts()
                if not a["externalId"]]
    assert rows == expected[:100]
    assert 0 < len(expected) < 200
    assert api.data(api.get(edition, "accounts/missing-external-ids",
                            params={"limit": 2})) == expected[:2]


def test_segments_list_only_static_active_and_draft(api: Api, edition: str) -> None:
    data = api.data(api.get(edition, "segments"))
    assert data["hasNextPage"] is False
    assert {s["status"] for s in data["data"]} == {"active", "draft"}
    assert all(set(s) == {"segmentId", "name", "status"} for s in data["data"])
    names = {s["name"] for s in data["data"]}
    assert "Churn Risk 2025" not in names and "Website Visitors (dynamic)" not in names
    assert len(data["data"]) == 5


def test_segments_paging(api: Api) -> None:
    first = api.data(api.get("external", "segments", params={"limit": 2}))
    assert first["hasNextPage"] is True
    rest = api.data(api.get("external", "segments",
                            params={"limit": 10, "cursor": first["nextCursor"]}))
    assert rest["hasNextPage"] is False and rest["nextCursor"] == rest["data"][-1]["segmentId"]
    assert len(first["data"]) + len(rest["data"]) == 5
    crm = api.data(api.get("crm", "segments", params={"limit": 2, "cursor": "4"}))
    assert len(crm["data"]) == 1 and crm["nextCursor"] is None and crm["hasNextPage"] is False
