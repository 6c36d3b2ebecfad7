"""Custom fields, deals, deal stages and sales activities."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import Api

LABEL_TYPES = {"singleLineText", "multiLineText", "singleSelection", "multiSelection", "number",
               "date"}


def _deal(n: int, **extra: Any) -> dict[str, Any]:
    return {"externalDealId": f"deal-{n}", "name": f"Deal {n}", "amount": 1000 * n,
            "dealCurrencyCode": "USD", "startDate": "2026-01-15T00:00:00Z",
            "closedDate": "2026-06-30", "ownerEmail": "jane@example.com", **extra}


def _activity(n: int, **extra: Any) -> dict[str, Any]:
    return {"externalActivityId": f"act-{n}", "activityType": "call",
            "occurredAt": "2026-04-22T10:30:00Z", "domain": "acme.com",
            "ownerEmail": "jane@example.com", "direction": "outbound",
            "contacts": [{"email": "john@acme.com", "name": "John"}], **extra}


def _pipeline(pid: str, stages: int = 2) -> dict[str, Any]:
    return {"pipelineId": pid, "pipelineLabel": pid.upper(),
            "stages": [{"stageId": f"s{i}", "stageLabel": f"Stage {i}"} for i in range(stages)]}


# ---- custom fields -------------------------------------------------------------------------

def test_custom_fields_seeded_with_every_label_type(api: Api, edition: str) -> None:
    fields = api.data(api.get(edition, "accounts/custom-fields"))
    assert {f["labelType"] for f in fields} == LABEL_TYPES
    for f in fields:
        assert set(f) == {"key", "label", "labelType", "description", "options", "objectType",
                          "status"}
        assert f["status"] == "active" and f["objectType"] == "accounts"
        assert bool(f["options"]) == (f["labelType"] in ("singleSelection", "multiSelection"))
    assert "LEGACY_SCORE_C" not in {f["key"] for f in fields}


@pytest.mark.parametrize(("label", "key"), [("Contract Stage", "CONTRACT_STAGE_C"),
                                            ("Net-Revenue", "NET-REVENUE_C"),
                                            ("Revenue (USD)", "REVENUE_(USD)_C")])
def test_create_custom_field_derives_key(api: Api, label: str, key: str) -> None:
    response = api.post("external", "accounts/custom-field",
                        {"label": label, "labelType": "number"})
    assert response.status_code == 201
    created = response.json()["data"]
    assert created == [{"key": key, "label": label, "labelType": "number", "description": None,
                        "options": [], "objectType": "accounts", "status": "active"}]
    listed = api.data(api.get("crm", "accounts/custom-fields"))
    assert key in {f["key"] for f in listed}
    # the new key is usable at once
    push = api.data(api.post("external", "accounts", {"accounts": [
        {"domain": "cfuser.io", "name": "U", "customFields": {key: 1}}]}))
    assert push["results"][0]["status"] == "created"


def test_create_custom_field_conflict_is_409(api: Api, edition: str) -> None:
    response = api.post(edition, "accounts/custom-field",
                        {"label": "contract value", "labelType": "number"})
    assert response.status_code == 409
    doc = response.json()
    assert doc["customMessage"] == "Custom field with key 'CONTRACT_VALUE_C' already exists"
    assert doc["data"] is None and doc["message"] == "Conflict"


def test_inactive_key_can_be_created_again(api: Api) -> None:
    response = api.post("external", "accounts/custom-field",
                        {"label": "Legacy Score", "labelType": "singleSelection",
                         "options": ["a", "b"], "description": "back"})
    assert response.status_code == 201
    assert response.json()["data"][0]["options"] == ["a", "b"]


def test_create_custom_field_validation(api: Api) -> None:
    response = api.post("external", "accounts/custom-field",
                        {"label": "Choice", "labelType": "singleSelection"})
    assert response.status_code == 400
    assert response.json()["data"] == [{"property": "options", "constraints": {
        "isArray": "options must be an array",
        "arrayMinSize": "options must contain at least 1 elements"}}]
    bad_type = api.post("external", "accounts/custom-field", {"label": "X", "labelType": "bool"})
    assert bad_type.status_code == 400
    assert bad_type.json()["data"][0]["property"] == "labelType"
    no_label = api.post("external", "accounts/custom-field", {"labelType": "number"})
    assert no_label.json()["data"][0]["constraints"]["isNotEmpty"] == "label should not be empty"


# ---- deals -------------------------------------------------------------------------------

def test_deals_upsert(api: Api, edition: str) -> None:
    acc = api.server.state.all_accounts()[0]
    deals = [_deal(1, associatedAccounts=[{"domain": f"https://{acc['domain']}"}]), _deal(2)]
    data = api.data(api.post(edition, "deals", {"deals": deals}))
    assert data == {"results": [{"externalDealId": "deal-1", "status": "upserted"},
                                {"externalDealId": "deal-2", "status": "upserted"}],
                    "summary": {"total": 2, "upserted": 2, "failed": 0}}
    again = api.data(api.post(edition, "deals", {"deals": [_deal(1, name="Renamed")]}))
    assert again["summary"] == {"total": 1, "upserted": 1, "failed": 0}
    state = api.server.state
    assert len(state.deals) == 2
    assert state.deals["deal-1"]["name"] == "Renamed"
    assert api.inspect("deals")[0]["externalDealId"] == "deal-1"


def test_deal_linked_accounts(api: Api) -> None:
    acc = api.server.state.all_accounts()[0]
    api.data(api.post("external", "deals", {"deals": [_deal(
        1, associatedAccounts=[{"domain": f"www.{acc['domain']}"}, {"domain": "nope.io"}])]}))
    assert api.server.state.deals["deal-1"]["linkedAccountIds"] == [acc["rtp_aid"], None]


@pytest.mark.parametrize(("deal", "prop", "message"), [
    ({"externalDealId": ""}, "externalDealId", "externalDealId should not be empty"),
    ({"name": ""}, "name", "name should not be empty"),
    ({"startDate": "15/01/2026"}, "startDate", "startDate must be a valid ISO 8601 date string"),
    ({"closedDate": "soon"}, "closedDate", "closedDate must be a valid ISO 8601 date string"),
    ({"ownerEmail": "jane"}, "ownerEmail", "ownerEmail must be an email"),
    ({"dealCurrencyCode": "XYZ"}, "dealCurrencyCode",
     "dealCurrencyCode must be a valid ISO 4217 currency code"),
])
def test_deal_validation(api: Api, edition: str, deal: dict[str, Any], prop: str,
                         message: str) -> None:
    body = {"deals": [_deal(1), _deal(2, **deal), _deal(3)]}
    response = api.post(edition, "deals", body)
    assert response.status_code == 400
    doc = response.json()
    assert doc["message"] == "Bad Request" and "customMessage" not in doc
    assert [e["property"] for e in doc["data"]] == [prop]
    assert message in doc["data"][0]["constraints"].values()
    assert api.server.state.deals == {}  # nothing processed


def test_deal_limits(api: Api) -> None:
    response = api.post("external", "deals", {"deals": [_deal(i) for i in range(101)]})
    assert response.json()["data"] == [{"property": "deals", "constraints": {
        "arrayMaxSize": "deals must contain no more than 100 elements"}}]
    ok = api.post("external", "deals", {"deals": [_deal(i) for i in range(100)]})
    assert api.data(ok)["summary"]["upserted"] == 100
    assert api.data(api.post("external", "deals", {"deals": [_deal(1, dealCurrencyCode="eur")]}))


# ---- deal stages ---------------------------------------------------------------------------

def test_deal_stages_create_and_409(api: Api) -> None:
    response = api.post("external", "deal-stages", {"pipelines": [_pipeline("smb"),
                                                                   _pipeline("ent")]})
    assert response.status_code == 201
    assert response.json()["data"] == {
        "results": [{"pipelineId": "smb", "status": "created"},
                    {"pipelineId": "ent", "status": "created"}],
        "summary": {"total": 2, "created": 2}}
    conflict = api.post("external", "deal-stages", {"pipelines": [
        _pipeline("new"), _pipeline("ent"), _pipeline("smb")]})
    assert conflict.status_code == 409
    assert conflict.json()["customMessage"] == "Pipeline(s) already exist: ent, smb"
    crm = api.post("crm", "deal-stages", {"pipelines": [_pipeline("smb")]})
    assert crm.status_code == 409
    assert crm.json()["customMessage"] == ("Pipeline(s) already exist: smb. Use the update "
                                           "endpoint to modify existing pipelines.")
    assert set(api.server.state.pipelines) == {"smb", "ent"}  # all-or-nothing
    listed = api.get("crm", "deal-stages").json()
    assert [p["pipelineId"] for p in listed] == ["smb", "ent"]


def test_deal_stages_validation(api: Api) -> None:
    too_many = api.post("external", "deal-stages",
                        {"pipelines": [_pipeline(f"p{i}") for i in range(21)]})
    assert too_many.json()["data"] == [{"property": "pipelines", "constraints": {
        "arrayMaxSize": "pipelines must contain no more than 20 elements"}}]
    no_stages = api.post("external", "deal-stages", {"pipelines": [_pipeline("x", stages=0)]})
    assert no_stages.json()["data"] == [{"property": "stages", "constraints": {
        "arrayMinSize": "stages must contain at least 1 elements"}}]
    blank = api.post("external", "deal-stages", {"pipelines": [
        {"pipelineId": "", "pipelineLabel": "L", "stages": [{"stageId": "a"}]}]})
    props = {e["property"] for e in blank.json()["data"]}
    assert props == {"pipelineId", "stageLabel"}
    twice = api.post("external", "deal-stages", {"pipelines": [_pipeline("d"), _pipeline("d")]})
    assert twice.status_code == 400
    assert api.server.state.pipelines == {}


# ---- sales activities ----------------------------------------------------------------------

def test_activities_created_failed_skipped(api: Api, edition: str) -> None:
    body = {"activities": [_activity(1), _activity(2, activityType="meeting"),
                           _activity(1), _activity(3, activityType="email", openCount=2)]}
    data = api.data(api.post(edition, "sales-activities", body))
    statuses = [(r["externalActivityId"], r["status"]) for r in data["results"]]
    assert statuses == [("act-1", "created"), ("act-2", "skipped"), ("act-1", "failed"),
                        ("act-3", "created")]
    assert "already exists" in data["results"][2]["error"]
    assert data["summary"] == {"total": 4, "created": 2, "failed": 1, "skipped": 1}
    again = api.data(api.post(edition, "sales-activities", {"activities": [_activity(3)]}))
    assert again["results"][0]["status"] == "failed"
    assert again["results"][0]["error"] == "Activity with externalActivityId 'act-3' already exists"
    assert set(api.server.state.activities) == {"act-1", "act-3"}


@pytest.mark.parametrize(("change", "prop", "message"), [
    ({"occurredAt": "yesterday"}, "occurredAt", "occurredAt must be a valid ISO 8601 date string"),
    ({"occurredAt": None}, "occurredAt", "occurredAt must be a valid ISO 8601 date string"),
    ({"domain": ""}, "domain", "domain should not be empty"),
    ({"ownerEmail": "nobody"}, "ownerEmail", "ownerEmail must be an email"),
    ({"ownerEmail": None}, "ownerEmail", "ownerEmail must be an email"),
    ({"contacts": []}, "contacts", "contacts must contain at least 1 elements"),
    ({"direction": "sideways"}, "direction",
     "direction must be one of the following values: inbound, outbound"),
    ({"subject": "s" * 256}, "subject", "subject must be shorter than or equal to 255 characters"),
])
def test_activity_validation(api: Api, edition: str, change: dict[str, Any], prop: str,
                             message: str) -> None:
    activity = {k: v for k, v in _activity(2).items() if change.get(k, 0) is not None}
    activity.update({k: v for k, v in change.items() if v is not None})
    response = api.post(edition, "sales-activities", {"activities": [_activity(1), activity]})
    assert response.status_code == 400
    data = response.json()["data"]
    assert [e["property"] for e in data] == [prop]
    assert message in data[0]["constraints"].values()
    assert api.server.state.activities == {}


def test_activity_limits(api: Api) -> None:
    response = api.post("external", "sales-activities",
                        {"activities": [_activity(i) for i in range(51)]})
    assert response.json()["data"] == [{"property": "activities", "constraints": {
        "arrayMaxSize": "activities must contain no more than 50 elements"}}]
    ok = api.post("external", "sales-activities",
                  {"activities": [_activity(i, subject="s" * 255) for i in range(50)]})
    assert api.data(ok)["summary"]["created"] == 50
