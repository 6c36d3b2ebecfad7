"""Every endpoint method, both editions: paths, bodies, headers, parsed answers."""

from __future__ import annotations

import json

import httpx
import pytest
from api_testkit import HOST, KEY, PREFIX, Api, ok

from recotap_desktop import __version__
from recotap_desktop.api import (
    Account,
    AmbiguousOutcome,
    ConfigError,
    CustomField,
    RecotapClient,
)


def body_of(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_paths_differ_by_edition(api: Api, client: RecotapClient, edition: str) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(return_value=ok([]))
    client.list_custom_fields()
    url = route.calls.last.request.url
    assert url.host == HOST
    expected = {"crm": "/api/v1/crm/", "external": "/api/v1/"}[edition]
    assert url.path == expected + "accounts/custom-fields"
    assert client.base_url == f"https://{HOST}{PREFIX[edition]}"
    assert client.host == HOST


def test_headers(api: Api, client: RecotapClient) -> None:
    get = api.route("GET", "accounts/custom-fields").mock(return_value=ok([]))
    post = api.route("POST", "deals").mock(return_value=ok({"results": []}))
    client.list_custom_fields()
    client.push_deals([{"externalDealId": "d1", "name": "D"}])
    for route in (get, post):
        request = route.calls.last.request
        assert request.headers["X-Api-Key"] == KEY
        assert request.headers["User-Agent"] == f"recotap-desktop/{__version__}"
    assert "content-type" not in get.calls.last.request.headers
    assert post.calls.last.request.headers["Content-Type"] == "application/json"
    # the key lives only on the wire, not in the pooled client's default headers
    assert KEY not in repr(dict(client._http.headers))


ACCOUNT = {
    "externalId": "crm-001",
    "name": "Acme Corp",
    "domain": "acme.com",
    "rtp_aid": "663abc",
    "rtp_account_score": 78,
    "rtp_journey_stage": "Consideration",
    "rtp_advertising_activity_score": 55,
    "rtp_website_intent_score": 42.5,
    "rtp_g2_intent_score": 0,
    "rtp_bombora_intent_score": "31",
    "rtp_last_account_date": "2026-04-30T09:00:00.000Z",
    "customFields": {"CRM_STAGE_C": "POC", "RENEWAL_DATE_C": None},
}


def test_iter_account_pages_single(api: Api, client: RecotapClient) -> None:
    route = api.route("GET", "accounts").mock(
        return_value=ok({"data": [ACCOUNT], "nextCursor": None, "hasNextPage": False,
                         "syncTimestamp": "2026-04-30T10:00:00.000Z"})
    )
    pages = list(client.iter_account_pages())
    assert len(pages) == 1
    page = pages[0]
    assert page.has_next_page is False and page.next_cursor is None
    assert page.sync_timestamp == "2026-04-30T10:00:00.000Z"
    account = page.accounts[0]
    assert account == Account(
        external_id="crm-001", name="Acme Corp", domain="acme.com", rtp_aid="663abc",
        account_score=78, journey_stage="Consideration", advertising_activity_score=55,
        website_intent_score=42.5, g2_intent_score=0, bombora_intent_score=31,
        last_account_date="2026-04-30T09:00:00.000Z",
        custom_fields={"CRM_STAGE_C": "POC", "RENEWAL_DATE_C": None},
    )
    assert account.raw == ACCOUNT
    assert route.calls.last.request.url.params["limit"] == "100"
    assert "cursor" not in route.calls.last.request.url.params


def test_create_accounts_crm(mock, event, retries) -> None:
    api = Api(mock, "crm")
    route = api.route("POST", "accounts").mock(return_value=ok({
        "results": [{"externalId": "crm-001", "status": "created"},
                    {"externalId": "crm-002", "status": "failed",
                     "error": "externalId already exists"}],
    }))
    with RecotapClient(KEY, edition="crm") as client:
        result = client.create_accounts(
            [{"externalId": "crm-001", "name": "A", "domain": "a.com"},
             {"externalId": "crm-002", "name": "B", "domain": "b.com"}],
            segment_id="seg-1",
        )
        with pytest.raises(ConfigError, match="upsert"):
            client.create_accounts([{"externalId": "x", "name": "X", "domain": "x.com"}],
                                   upsert=True)
    body = body_of(route)
    assert body["segmentId"] == "seg-1"
    assert "upsert" not in body  # Revision A rejects unknown properties
    assert [i.status for i in result.items] == ["created", "failed"]
    assert result.items[1].error == "externalId already exists"
    assert result.items[1].ids == {"externalId": "crm-002"}
    assert result.summary == {"total": 2, "created": 1, "failed": 1}
    assert result.attempts == 1 and result.possibly_repeated is False
    assert route.call_count == 1


def test_create_accounts_external(mock) -> None:
    api = Api(mock, "external")
    route = api.route("POST", "accounts").mock(return_value=ok({
        "results": [{"rtp_aid": "6a21", "domain": "a.com", "status": "updated"},
                    {"rtp_aid": "6a22", "domain": "b.com", "status": "Created"}],
        "summary": {"total": 2, "created": 1, "updated": 1, "failed": 0},
    }))
    with RecotapClient(KEY, edition="external") as client:
        result = client.create_accounts([{"name": "A", "domain": "a.com"},
                                         {"name": "B", "domain": "b.com"}], upsert=True)
        assert body_of(route) == {"accounts": [{"name": "A", "domain": "a.com"},
                                               {"name": "B", "domain": "b.com"}],
                                  "upsert": True}
        client.create_accounts([{"name": "A", "domain": "a.com"}])
        assert body_of(route)["upsert"] is False  # create-only is said explicitly
    assert [i.status for i in result.items] == ["updated", "created"]
    assert result.items[0].ids == {"rtp_aid": "6a21", "domain": "a.com"}


def test_update_account_encodes_key(api: Api, client: RecotapClient, edition: str) -> None:
    key = "crm/001 ä?#" if edition == "crm" else "663abc"
    route = api.router.route(method="PUT", host=HOST).mock(
        return_value=ok({"message": "Account updated successfully"})
    )
    message = client.update_account(key, {"CONTRACT_VALUE_C": 95000})
    assert message == "Account updated successfully"
    request = route.calls.last.request
    expected = "crm%2F001%20%C3%A4%3F%23" if edition == "crm" else "663abc"
    assert request.url.raw_path.decode() == PREFIX[edition] + "accounts/" + expected
    assert json.loads(request.content) == {"customFields": {"CONTRACT_VALUE_C": 95000}}


def test_update_account_dot_segments_are_encoded(api: Api, client: RecotapClient) -> None:
    route = api.router.route(method="PUT", host=HOST).mock(return_value=ok({"message": "ok"}))
    client.update_account("..", {"A_C": 1})
    assert route.calls.last.request.url.raw_path.decode().endswith("/accounts/%2E%2E")


def test_update_account_refuses_empty(client: RecotapClient) -> None:
    with pytest.raises(ValueError):
        client.update_account("x", {})
    with pytest.raises(ValueError):
        client.update_account("  ", {"A_C": 1})


def test_list_unmapped_accounts(api: Api, client: RecotapClient) -> None:
    route = api.route("GET", "accounts/missing-external-ids").mock(return_value=ok([
        {"name": "Acme Corp", "domain": "acme.com"}, {"name": "Globex Inc", "domain": "globex.com"},
    ]))
    rows = client.list_unmapped_accounts(limit=500)
    assert [(r.name, r.domain) for r in rows] == [("Acme Corp", "acme.com"),
                                                  ("Globex Inc", "globex.com")]
    assert route.calls.last.request.url.params["limit"] == "100"  # clamped


def test_map_external_ids(api: Api, client: RecotapClient) -> None:
    route = api.route("PATCH", "accounts/external-ids").mock(
        return_value=ok({"matched": 1, "updated": 1, "notFound": ["unknown.com"]})
    )
    mappings = [{"domain": "acme.com", "externalId": "crm-001"},
                {"domain": "unknown.com", "externalId": "crm-002"}]
    result = client.map_external_ids(mappings)
    assert body_of(route) == {"mappings": mappings}
    assert (result.matched, result.updated, result.not_found) == (1, 1, ["unknown.com"])
    assert result.attempts == 1 and not result.possibly_repeated


FIELD = {"key": "DEAL_SOURCE_C", "label": "Deal Source", "labelType": "singleSelection",
         "description": None, "options": ["inbound", "outbound"], "objectType": "accounts",
         "status": "active"}


def test_list_custom_fields(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(return_value=ok([FIELD]))
    fields = client.list_custom_fields()
    assert fields == [CustomField("DEAL_SOURCE_C", "Deal Source", "singleSelection", None,
                                  ("inbound", "outbound"), "accounts", "active")]


@pytest.mark.parametrize("shape", ["array", "object"])
def test_create_custom_field(api: Api, client: RecotapClient, shape: str) -> None:
    route = api.route("POST", "accounts/custom-field").mock(
        return_value=ok([FIELD] if shape == "array" else FIELD)
    )
    field = client.create_custom_field("Deal Source", "singleSelection",
                                       options=["inbound", "outbound"])
    assert field.key == "DEAL_SOURCE_C" and field.options == ("inbound", "outbound")
    assert body_of(route) == {"label": "Deal Source", "labelType": "singleSelection",
                              "options": ["inbound", "outbound"]}
    client.create_custom_field("Contract Value", "number", description="USD")
    assert body_of(route) == {"label": "Contract Value", "labelType": "number",
                              "description": "USD"}


def test_create_custom_field_without_definition_is_ambiguous(api: Api, client) -> None:
    api.route("POST", "accounts/custom-field").mock(return_value=ok([]))
    with pytest.raises(AmbiguousOutcome) as info:
        client.create_custom_field("X", "number")
    assert info.value.kind == "protocol"


def test_segments(api: Api, client: RecotapClient) -> None:
    route = api.route("GET", "segments").mock(side_effect=[
        ok({"data": [{"segmentId": "seg-001", "name": "Q2", "status": "active"}],
            "nextCursor": "seg-001", "hasNextPage": True}),
        ok({"data": [{"segmentId": "seg-002", "name": "Draft", "status": "draft"}],
            "nextCursor": "seg-002", "hasNextPage": False}),
    ])
    segments = client.list_segments()
    assert [(s.segment_id, s.name, s.status) for s in segments] == [
        ("seg-001", "Q2", "active"), ("seg-002", "Draft", "draft")]
    assert route.calls[1].request.url.params["cursor"] == "seg-001"
    assert "lastSync" not in route.calls[1].request.url.params


def test_push_deals(api: Api, client: RecotapClient) -> None:
    route = api.route("POST", "deals").mock(return_value=ok({
        "results": [{"externalDealId": "deal-001", "status": "upserted"}],
        "summary": {"total": 1, "upserted": 1, "failed": 0}}))
    deal = {"externalDealId": "deal-001", "name": "Acme", "amount": 75000,
            "associatedAccounts": [{"domain": "acme.com"}]}
    result = client.push_deals([deal])
    assert body_of(route) == {"deals": [deal]}
    assert result.items[0].status == "upserted"
    assert result.items[0].ids == {"externalDealId": "deal-001"}
    assert result.summary == {"total": 1, "upserted": 1}


def test_push_deal_stages(api: Api, client: RecotapClient) -> None:
    route = api.route("POST", "deal-stages").mock(return_value=ok({
        "results": [{"pipelineId": "smb", "status": "created"},
                    {"pipelineId": "ent", "status": "created"}],
        "summary": {"total": 2, "created": 2}}))
    pipes = [{"pipelineId": "smb", "pipelineLabel": "SMB",
              "stages": [{"stageId": "s1", "stageLabel": "One"}]},
             {"pipelineId": "ent", "pipelineLabel": "Ent",
              "stages": [{"stageId": "s1", "stageLabel": "One"}]}]
    result = client.push_deal_stages(pipes)
    assert body_of(route) == {"pipelines": pipes}
    assert [i.ids["pipelineId"] for i in result.items] == ["smb", "ent"]


def test_push_sales_activities(api: Api, client: RecotapClient) -> None:
    route = api.route("POST", "sales-activities").mock(return_value=ok({
        "results": [{"externalActivityId": "call-001", "status": "created"},
                    {"externalActivityId": "call-002", "status": "failed",
                     "error": "Activity with externalActivityId 'call-002' already exists"},
                    {"externalActivityId": "x-3", "status": "skipped"}],
        "summary": {"total": 3, "created": 1, "failed": 1, "skipped": 1}}))
    acts = [{"externalActivityId": i, "activityType": "call"}
            for i in ("call-001", "call-002", "x-3")]
    result = client.push_sales_activities(acts)
    assert body_of(route) == {"activities": acts}
    assert [i.status for i in result.items] == ["created", "failed", "skipped"]
    assert "already exists" in (result.items[1].error or "")
    assert [i.index for i in result.items] == [0, 1, 2]


def test_verify(api: Api, client: RecotapClient) -> None:
    route = api.route("GET", "segments").mock(
        return_value=ok({"data": [], "nextCursor": None, "hasNextPage": False}))
    assert client.verify() is None
    assert route.calls.last.request.url.params["limit"] == "1"


@pytest.mark.parametrize(
    ("method", "args", "limit"),
    [("create_accounts", "accounts", 100), ("push_deals", "deals", 100),
     ("push_sales_activities", "activities", 50), ("push_deal_stages", "pipelines", 20),
     ("map_external_ids", "mappings", 100)],
)
def test_documented_item_limits(client: RecotapClient, method: str, args: str, limit: int) -> None:
    with pytest.raises(ValueError, match=f"At most {limit}"):
        getattr(client, method)([{"domain": "a.com"}] * (limit + 1))
    with pytest.raises(ValueError, match="No "):
        getattr(client, method)([])


def test_nan_payload_is_refused(client: RecotapClient) -> None:
    with pytest.raises(ValueError, match="JSON"):
        client.push_deals([{"externalDealId": "d", "name": "n", "amount": float("nan")}])


def test_bare_array_answer_is_tolerated(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(return_value=httpx.Response(200, json=[FIELD]))
    assert [f.key for f in client.list_custom_fields()] == ["DEAL_SOURCE_C"]


def test_client_repr_and_properties(client: RecotapClient, edition: str) -> None:
    assert KEY not in repr(client)
    assert "***" in repr(client)
    assert client.rules.name == edition
    client.close()
    client.close()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError):
        client.list_custom_fields()
