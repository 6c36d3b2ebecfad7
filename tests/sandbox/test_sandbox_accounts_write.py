"""POST /accounts, PUT /accounts/:key, PATCH /accounts/external-ids."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox.state import is_rtp_aid

ACTIVE_SEGMENT = "65f0a1b2c3d4e5f6a7b8c001"
DRAFT_SEGMENT = "65f0a1b2c3d4e5f6a7b8c003"
ARCHIVED_SEGMENT = "65f0a1b2c3d4e5f6a7b8c006"
DYNAMIC_SEGMENT = "65f0a1b2c3d4e5f6a7b8c007"


def _push(api: Api, edition: str, accounts: list[dict[str, Any]], **extra: Any) -> Any:
    return api.data(api.post(edition, "accounts", {"accounts": accounts, **extra}))


def test_external_create_cleans_domain_and_returns_ids(api: Api) -> None:
    data = _push(api, "external", [
        {"domain": "https://www.NewCo.com/about?x=1", "name": "NewCo", "externalId": "n-1"},
        {"domain": "second.io", "name": "Second"},
    ])
    first, second = data["results"]
    assert first["domain"] == "newco.com" and first["status"] == "created"
    assert first["externalId"] == "n-1" and "error" not in first
    assert is_rtp_aid(first["rtp_aid"]) and is_rtp_aid(second["rtp_aid"])
    assert first["rtp_aid"] < second["rtp_aid"]  # increasing
    assert max(a["rtp_aid"] for a in api.server.state.all_accounts()) == second["rtp_aid"]
    assert data["summary"] == {"total": 2, "created": 2, "updated": 0, "failed": 0}
    stored = api.server.state.account_by_domain("newco.com")
    assert stored is not None and stored["name"] == "NewCo"
    assert stored["rtp_account_score"] == 0 and stored["rtp_journey_stage"] == ""


def test_external_duplicate_domain_fails_without_upsert(api: Api) -> None:
    existing = api.server.state.all_accounts()[0]
    data = _push(api, "external", [{"domain": f"WWW.{existing['domain']}", "name": "Again"}])
    result = data["results"][0]
    assert result["status"] == "failed"
    assert result["rtp_aid"] == existing["rtp_aid"]
    assert result["error"] == (f"Account with domain '{existing['domain']}' already exists. "
                               f"Use PUT /accounts/{existing['rtp_aid']} to update it.")
    assert data["summary"] == {"total": 1, "created": 0, "updated": 0, "failed": 1}
    assert api.server.state.get_account(existing["rtp_aid"])["name"] == existing["name"]


def test_external_upsert_updates(api: Api) -> None:
    existing = api.server.state.all_accounts()[1]
    data = _push(api, "external", [{"domain": existing["domain"], "name": "Renamed",
                                    "customFields": {"NOTES_C": "hello"}}], upsert=True)
    result = data["results"][0]
    assert result["status"] == "updated" and result["rtp_aid"] == existing["rtp_aid"]
    assert data["summary"]["updated"] == 1
    stored = api.server.state.get_account(existing["rtp_aid"])
    assert stored["name"] == "Renamed"
    assert stored["customFields"]["NOTES_C"] == "hello"
    assert stored["updated_at"] > existing["updated_at"]
    # other custom-field values are kept (per-key merge)
    for key, value in existing["customFields"].items():
        assert stored["customFields"][key] == value


def test_unknown_custom_field_fails_the_item(api: Api, edition: str) -> None:
    data = _push(api, edition, [
        {"domain": "cf.io", "name": "CF", "externalId": "cf-1", "customFields": {"SOURCE_C": 1}},
        {"domain": "ok.io", "name": "OK", "externalId": "ok-1"},
    ])
    bad, good = data["results"]
    assert bad == {"rtp_aid": None, "domain": "cf.io", "externalId": "cf-1", "status": "failed",
                   "error": "Custom field key(s) not found: SOURCE_C. Unable to add this account."}
    assert good["status"] == "created"
    # an inactive field counts as unknown
    data = _push(api, edition, [{"domain": "cf.io", "name": "CF", "externalId": "cf-1",
                                 "customFields": {"LEGACY_SCORE_C": 1}}])
    assert data["results"][0]["error"].startswith("Custom field key(s) not found: LEGACY_SCORE_C")


def test_crm_dedups_by_external_id(api: Api) -> None:
    existing = next(a for a in api.server.state.all_accounts() if a["externalId"])
    data = _push(api, "crm", [
        {"domain": "brand-new.com", "name": "X", "externalId": existing["externalId"]},
        {"domain": "brand-new.com", "name": "Y", "externalId": "new-1"},
        {"domain": "brand-new.com", "name": "Z", "externalId": "new-1"},
    ])
    first, second, third = data["results"]
    assert first["status"] == "failed"
    assert first["error"] == f"Account with externalId '{existing['externalId']}' already exists"
    assert second["status"] == "created" and second["externalId"] == "new-1"
    assert third["status"] == "failed"
    assert data["summary"] == {"total": 3, "created": 1, "updated": 0, "failed": 2}


def test_crm_adopts_an_existing_account_without_external_id(api: Api) -> None:
    unmapped = next(a for a in api.server.state.all_accounts() if not a["externalId"])
    data = _push(api, "crm", [{"domain": unmapped["domain"], "name": "Adopted",
                               "externalId": "adopt-1"}])
    assert data["results"][0]["status"] == "updated"
    assert data["results"][0]["rtp_aid"] == unmapped["rtp_aid"]
    assert api.server.state.account_by_external_id("adopt-1")["rtp_aid"] == unmapped["rtp_aid"]


def test_crm_rejects_upsert_flag(api: Api) -> None:
    response = api.post("crm", "accounts", {"accounts": [
        {"domain": "a.io", "name": "A", "externalId": "a"}], "upsert": True})
    assert response.status_code == 400
    assert response.json()["data"] == [{"property": "upsert", "constraints": {
        "whitelistValidation": "property upsert should not exist"}}]


@pytest.mark.parametrize("segment", [ACTIVE_SEGMENT, DRAFT_SEGMENT])
def test_created_and_updated_accounts_join_the_segment(api: Api, segment: str) -> None:
    state = api.server.state
    existing = state.all_accounts()[2]
    before = state.members_of(segment)
    data = _push(api, "external", [
        {"domain": "joiner.io", "name": "Joiner"},
        {"domain": existing["domain"], "name": existing["name"]},
        {"domain": "bad.io", "name": "Bad", "customFields": {"NOPE_C": 1}},
    ], segmentId=segment, upsert=True)
    assert [r["status"] for r in data["results"]] == ["created", "updated", "failed"]
    added = state.members_of(segment) - before
    assert {data["results"][0]["rtp_aid"], existing["rtp_aid"]} - before <= added
    assert data["results"][0]["rtp_aid"] in state.members_of(segment)
    assert existing["rtp_aid"] in state.members_of(segment)
    assert state.account_by_domain("bad.io") is None


@pytest.mark.parametrize("segment", [ARCHIVED_SEGMENT, DYNAMIC_SEGMENT, "nope"])
def test_unusable_segment_rejects_the_request_before_any_item(api: Api, edition: str,
                                                               segment: str) -> None:
    count = len(api.server.state.accounts)
    response = api.post(edition, "accounts", {"segmentId": segment, "accounts": [
        {"domain": "never.io", "name": "Never", "externalId": "never"}]})
    assert response.status_code == 400
    doc = response.json()
    assert doc["customMessage"] == (f"Segment '{segment}' is not active or draft and cannot "
                                    "accept new members")
    assert doc["data"] is None and doc["message"] == "Bad Request"
    assert len(api.server.state.accounts) == count
    assert api.server.state.account_by_domain("never.io") is None


def test_invalid_domain_fails_the_item(api: Api) -> None:
    data = _push(api, "external", [{"domain": "https://", "name": "Nothing"}])
    assert data["results"][0]["status"] == "failed"


# ---- PUT ----------------------------------------------------------------------------------

def test_put_external_by_rtp_aid_merges_custom_fields(api: Api) -> None:
    acc = api.server.state.all_accounts()[4]
    response = api.put("external", f"accounts/{acc['rtp_aid']}",
                       {"customFields": {"CONTRACT_VALUE_C": 95000, "NOTES_C": None}})
    assert api.data(response) == {"message": "Account updated successfully"}
    stored = api.server.state.get_account(acc["rtp_aid"])
    assert stored["customFields"]["CONTRACT_VALUE_C"] == 95000
    assert stored["updated_at"] > acc["updated_at"]
    for key, value in acc["customFields"].items():
        if key not in ("CONTRACT_VALUE_C", "NOTES_C"):
            assert stored["customFields"][key] == value


def test_put_crm_by_external_id_url_encoded(api: Api) -> None:
    created = _push(api, "crm", [{"domain": "slash.io", "name": "S", "externalId": "a/b c"}])
    aid = created["results"][0]["rtp_aid"]
    response = api.put("crm", "accounts/a%2Fb%20c", {"customFields": {"NOTES_C": "x"}})
    assert response.status_code == 200, response.text
    assert api.server.state.get_account(aid)["customFields"]["NOTES_C"] == "x"


def test_put_errors(api: Api) -> None:
    acc = api.server.state.all_accounts()[0]
    malformed = api.put("external", "accounts/crm-00001", {"customFields": {}})
    assert malformed.status_code == 400 and malformed.json()["data"] is None
    assert "rtp_aid" in malformed.json()["customMessage"]
    missing = api.put("external", "accounts/" + "f" * 24, {"customFields": {}})
    assert missing.status_code == 404
    assert missing.json()["customMessage"] == f"Account with rtp_aid '{'f' * 24}' not found"
    assert api.put("crm", "accounts/no-such-id", {"customFields": {}}).status_code == 404
    unknown = api.put("external", f"accounts/{acc['rtp_aid']}", {"customFields": {"X_C": 1}})
    assert unknown.status_code == 400
    assert unknown.json()["customMessage"] == "Custom field key(s) not found: X_C"
    extra = api.put("external", f"accounts/{acc['rtp_aid']}", {"name": "x", "customFields": {}})
    assert extra.status_code == 400
    assert extra.json()["data"] == [{"property": "name", "constraints": {
        "whitelistValidation": "property name should not exist"}}]
    assert api.server.state.get_account(acc["rtp_aid"]) == acc


# ---- PATCH external-ids -------------------------------------------------------------------

def test_map_external_ids(api: Api, edition: str) -> None:
    state = api.server.state
    unmapped = [a for a in state.all_accounts() if not a["externalId"]][:2]
    mapped = next(a for a in state.all_accounts() if a["externalId"])
    body = {"mappings": [
        {"domain": f"https://www.{unmapped[0]['domain'].upper()}/", "externalId": "first"},
        {"domain": unmapped[1]["domain"], "externalId": "m-2"},
        {"domain": unmapped[0]["domain"], "externalId": "m-1"},  # later mapping wins
        {"domain": mapped["domain"], "externalId": mapped["externalId"]},  # unchanged
        {"domain": "https://Unknown.example/x", "externalId": "u-1"},
    ]}
    data = api.data(api.patch(edition, "accounts/external-ids", body))
    assert data == {"matched": 3, "updated": 2, "notFound": ["unknown.example"]}
    assert state.account_by_domain(unmapped[0]["domain"])["externalId"] == "m-1"
    assert state.account_by_external_id("m-2")["domain"] == unmapped[1]["domain"]
    remaining = api.data(api.get(edition, "accounts/missing-external-ids"))
    assert {r["domain"] for r in remaining}.isdisjoint({u["domain"] for u in unmapped})


def test_map_external_ids_validation(api: Api) -> None:
    too_many = {"mappings": [{"domain": f"d{i}.com", "externalId": str(i)} for i in range(101)]}
    response = api.patch("external", "accounts/external-ids", too_many)
    assert response.status_code == 400
    assert response.json()["data"] == [{"property": "mappings", "constraints": {
        "arrayMaxSize": "mappings must contain no more than 100 elements"}}]
    empty = api.patch("external", "accounts/external-ids", {"mappings": []})
    assert empty.json()["data"][0]["constraints"] == {
        "arrayMinSize": "mappings must contain at least 1 elements"}
    blank = api.patch("external", "accounts/external-ids",
                      {"mappings": [{"domain": "", "externalId": "x"}]})
    assert blank.json()["data"][0]["constraints"]["isNotEmpty"] == "domain should not be empty"
