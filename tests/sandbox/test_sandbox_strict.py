"""The sandbox is as strict as the reference (issue 15, finding 15).

Each rule the reference states is enforced, in both editions: the JSON content type
of writes (§3), no property a request object does not document (§9, every level),
at least one usable contact (§9.11), only the query parameters each endpoint page
documents (Ambiguities #10), the custom-field key derived from the label as given
(§8.3), and, on request, per-item results in another order than the request's.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx
import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox import Faults, SandboxServer
from recotap_desktop.sandbox.cli import add_sandbox_arguments, build_server


def _account(n: int, **extra: Any) -> dict[str, Any]:
    return {"externalId": f"strict-{n}", "domain": f"strict{n}.example", "name": f"S {n}",
            **extra}


def _deal(n: int, **extra: Any) -> dict[str, Any]:
    return {"externalDealId": f"strict-deal-{n}", "name": f"Deal {n}", **extra}


def _activity(n: int, **extra: Any) -> dict[str, Any]:
    return {"externalActivityId": f"strict-act-{n}", "activityType": "email",
            "occurredAt": "2026-04-22T10:30:00Z", "domain": "acme.com",
            "ownerEmail": "jane@example.com", "contacts": [{"email": f"c{n}@acme.com"}],
            **extra}


def _pipeline(pid: str, **extra: Any) -> dict[str, Any]:
    return {"pipelineId": pid, "pipelineLabel": pid.upper(),
            "stages": [{"stageId": "s1", "stageLabel": "One"}], **extra}


def _snapshot(api: Api) -> dict[str, Any]:
    """Everything a write could change (to prove nothing was processed)."""
    return {name: api.inspect(name) for name in
            ("accounts", "custom-fields", "deals", "pipelines", "activities")}


def _violation(response: httpx.Response, prop: str, rule: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["statusCode"] == 400 and body["message"] == "Bad Request"
    found = {item["property"]: item["constraints"] for item in body["data"]}
    assert rule in found.get(prop, {}), body
    return str(found[prop][rule])


# ---- §3: writes carry Content-Type: application/json ----------------------------------

def _mapped_account(api: Api) -> dict[str, Any]:
    return next(a for a in api.inspect("accounts") if a["externalId"])


def _writes(edition: str, api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    existing = _mapped_account(api)
    key = existing["rtp_aid"] if edition == "external" else existing["externalId"]
    assert key, existing
    return [
        ("POST", "accounts", {"accounts": [_account(1)]}),
        ("PUT", f"accounts/{key}", {"customFields": {}}),
        ("PATCH", "accounts/external-ids",
         {"mappings": [{"domain": existing["domain"], "externalId": "strict-x"}]}),
        ("POST", "accounts/custom-field", {"label": "Strict Field", "labelType": "number"}),
        ("POST", "deals", {"deals": [_deal(1)]}),
        ("POST", "deal-stages", {"pipelines": [_pipeline("strict-p")]}),
        ("POST", "sales-activities", {"activities": [_activity(1)]}),
    ]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonx", "multipart/form-data"])
def test_write_without_json_content_type_is_refused_and_not_read(
        api: Api, edition: str, content_type: str | None) -> None:
    before = _snapshot(api)
    for method, path, body in _writes(edition, api):
        headers = {"Content-Type": content_type} if content_type else {}
        response = api.request(method, edition, path, content=json.dumps(body).encode(),
                               headers=headers)
        assert response.status_code == 400, (method, path, response.text)
        doc = response.json()
        assert doc["data"] is None
        assert "Content-Type must be application/json" in doc["customMessage"]
    assert _snapshot(api) == before


def test_json_content_type_with_parameters_is_accepted(api: Api, edition: str) -> None:
    before = _snapshot(api)
    for method, path, body in _writes(edition, api):
        response = api.request(method, edition, path, content=json.dumps(body).encode(),
                               headers={"Content-Type": "Application/JSON; charset=utf-8"})
        assert response.status_code in (200, 201), (method, path, response.text)
    assert _snapshot(api) != before


def test_auth_is_checked_before_the_content_type(api: Api, edition: str) -> None:
    response = api.client.post(api.url(edition, "accounts"), content=b"{}",
                               headers={"X-Api-Key": "wrong", "Content-Type": "text/plain"})
    assert response.status_code == 401


def test_reads_need_no_content_type(api: Api, edition: str) -> None:
    assert api.get(edition, "accounts", params={"limit": "1"}).status_code == 200


# ---- §9: unknown properties are refused at every level --------------------------------

_UNKNOWN: list[tuple[str, str, Any, str]] = [
    # (edition or "both", path, body, the property that must be named)
    ("external", "accounts", {"accounts": [_account(1)], "upsrt": True}, "upsrt"),
    ("crm", "accounts", {"accounts": [_account(1)], "upsert": True}, "upsert"),
    ("both", "accounts", {"accounts": [_account(1)], "segmentID": "seg-1"}, "segmentID"),
    ("both", "accounts", {"accounts": [_account(1, nmae="Typo")]}, "nmae"),
    ("both", "accounts", {"accounts": [_account(1, custom_fields={})]}, "custom_fields"),
    ("both", "accounts/external-ids",
     {"mappings": [{"domain": "a.example", "externalId": "x", "externalID": "y"}]},
     "externalID"),
    ("both", "accounts/external-ids",
     {"mappings": [{"domain": "a.example", "externalId": "x"}], "dryRun": True}, "dryRun"),
    ("both", "accounts/custom-field",
     {"label": "Strict Typo", "labelType": "number", "labeltype": "date"}, "labeltype"),
    ("both", "deals", {"deals": [_deal(1, amout=5)]}, "amout"),
    ("both", "deals", {"deals": [_deal(1)], "upsert": True}, "upsert"),
    ("both", "deals", {"deals": [_deal(1, associatedAccounts=[
        {"domain": "a.example", "domian": "b.example"}])]}, "domian"),
    ("both", "deal-stages", {"pipelines": [_pipeline("strict-p", label="P")]}, "label"),
    ("both", "deal-stages", {"pipelines": [
        {"pipelineId": "strict-p", "pipelineLabel": "P",
         "stages": [{"stageId": "s1", "stageLabel": "One", "order": 1}]}]}, "order"),
    ("both", "sales-activities", {"activities": [_activity(1, ocurredAt="x")]}, "ocurredAt"),
    ("both", "sales-activities", {"activities": [_activity(1)], "skipDuplicates": True},
     "skipDuplicates"),
    ("both", "sales-activities", {"activities": [_activity(1, contacts=[
        {"email": "c@acme.com", "mail": "d@acme.com"}])]}, "mail"),
    ("both", "sales-activities", {"activities": [_activity(1, **{"from": {
        "email": "jane@example.com", "address": "x"}})]}, "address"),
]


_UNKNOWN_CASES = [(edition, path, body, prop) for only, path, body, prop in _UNKNOWN
                  for edition in ("crm", "external") if only in ("both", edition)]


@pytest.mark.parametrize(("edition", "path", "body", "prop"), _UNKNOWN_CASES,
                         ids=[f"{e}-{p}-{prop}" for e, p, _, prop in _UNKNOWN_CASES])
def test_unknown_property_is_refused_and_nothing_processed(
        api: Api, edition: str, path: str, body: dict[str, Any], prop: str) -> None:
    before = _snapshot(api)
    response = api.post(edition, path, body) if path != "accounts/external-ids" else \
        api.patch(edition, path, body)
    message = _violation(response, prop, "whitelistValidation")
    assert message == f"property {prop} should not exist"
    assert _snapshot(api) == before


def test_documented_upsert_flag_is_still_accepted_in_external(api: Api) -> None:
    response = api.post("external", "accounts", {"accounts": [_account(1)], "upsert": True})
    assert api.data(response)["results"][0]["status"] == "created"


def test_put_refuses_any_property_but_custom_fields(api: Api, edition: str) -> None:
    acc = _mapped_account(api)
    key = acc["rtp_aid"] if edition == "external" else acc["externalId"]
    _violation(api.put(edition, f"accounts/{key}", {"customFields": {}, "name": "x"}), "name",
               "whitelistValidation")


# ---- §9.11: contacts need an e-mail ---------------------------------------------------------

@pytest.mark.parametrize("contacts", [[{}], [{"name": "No Mail"}], [{"email": ""}],
                                      [{"email": "c@acme.com"}, {}]])
def test_contact_without_email_is_refused(api: Api, edition: str,
                                          contacts: list[dict[str, Any]]) -> None:
    before = api.inspect("activities")
    response = api.post(edition, "sales-activities",
                        {"activities": [_activity(1, contacts=contacts)]})
    assert _violation(response, "email", "isEmail") == "email must be an email"
    assert api.inspect("activities") == before


def test_contact_with_only_an_email_is_accepted(api: Api, edition: str) -> None:
    response = api.post(edition, "sales-activities", {"activities": [_activity(1)]})
    assert api.data(response)["results"][0]["status"] == "created"


# ---- Ambiguities #10: only the query parameters each endpoint documents ---------------

_QUERIES: list[tuple[str, dict[str, str], str]] = [
    ("accounts", {"limit": "5", "since": "2026-01-01"}, "since"),
    ("accounts", {"limit": "5", "offset": "5"}, "offset"),
    ("accounts/missing-external-ids", {"limit": "5", "cursor": "5"}, "cursor"),
    ("accounts/missing-external-ids", {"lastSync": "2026-01-01T00:00:00Z"}, "lastSync"),
    ("accounts/custom-fields", {"limit": "5"}, "limit"),
    ("segments", {"limit": "5", "lastSync": "2026-01-01T00:00:00Z"}, "lastSync"),
    ("journey-stages", {"limit": "5"}, "limit"),
]


@pytest.mark.parametrize(("path", "params", "prop"), _QUERIES,
                         ids=[f"{p}-{prop}" for p, _, prop in _QUERIES])
def test_undocumented_query_parameter_is_refused(api: Api, edition: str, path: str,
                                                 params: dict[str, str], prop: str) -> None:
    response = api.get(edition, path, params=params)
    assert _violation(response, prop, "whitelistValidation") == f"property {prop} should not exist"


def test_query_parameter_on_a_write_is_refused(api: Api, edition: str) -> None:
    before = _snapshot(api)
    response = api.post(edition, "accounts", {"accounts": [_account(1)]},
                        params={"upsert": "true"})
    _violation(response, "upsert", "whitelistValidation")
    assert _snapshot(api) == before


@pytest.mark.parametrize(("path", "params"), [
    ("accounts", {"limit": "5", "lastSync": "2026-01-01T00:00:00Z"}),
    ("accounts/missing-external-ids", {"limit": "5"}),
    ("accounts/custom-fields", {}),
    ("segments", {"limit": "1"}),
])
def test_documented_query_parameters_are_accepted(api: Api, edition: str, path: str,
                                                  params: dict[str, str]) -> None:
    first = api.get(edition, path, params=params)
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    if isinstance(data, dict) and data.get("hasNextPage"):  # the paged ones take a cursor
        cursor = data.get("nextCursor") or len(data["data"])  # [A]: an integer offset
        after = api.get(edition, path, params={**params, "cursor": str(cursor)})
        assert after.status_code == 200, after.text


def test_domains_filter_is_documented_in_external_only(api: Api) -> None:
    params = {"domains": json.dumps(["acme.com"])}
    assert api.get("external", "accounts", params=params).status_code == 200
    _violation(api.get("crm", "accounts", params=params), "domains", "whitelistValidation")


# ---- §8.3: the key comes from the label as given --------------------------------------

@pytest.mark.parametrize(("label", "key"), [(" Region", "_REGION_C"), ("Region ", "REGION__C"),
                                            ("  Deal  Size ", "__DEAL__SIZE__C")])
def test_custom_field_label_is_not_trimmed_before_the_key(api: Api, edition: str, label: str,
                                                          key: str) -> None:
    response = api.post(edition, "accounts/custom-field", {"label": label, "labelType": "number"})
    created = api.data(response)
    assert [(f["key"], f["label"]) for f in created] == [(key, label)]
    listed = {f["key"]: f["label"] for f in api.data(api.get(edition, "accounts/custom-fields"))}
    assert listed[key] == label


def test_labels_that_differ_only_by_spaces_are_different_fields(api: Api, edition: str) -> None:
    assert api.post(edition, "accounts/custom-field",
                    {"label": "Tier", "labelType": "number"}).status_code == 201
    second = api.post(edition, "accounts/custom-field", {"label": "Tier ", "labelType": "number"})
    assert second.status_code == 201 and api.data(second)[0]["key"] == "TIER__C"
    again = api.post(edition, "accounts/custom-field", {"label": "tier", "labelType": "date"})
    assert again.status_code == 409 and "TIER_C" in again.json()["customMessage"]


# ---- shuffled per-item results ------------------------------------------------------------

def _identity(result: dict[str, Any]) -> str:
    for name in ("externalDealId", "externalActivityId", "pipelineId", "domain"):
        if result.get(name):
            return str(result[name])
    raise AssertionError(result)


def _bulk_writes() -> list[tuple[str, dict[str, Any], list[str]]]:
    return [
        ("accounts", {"accounts": [_account(n) for n in range(6)]},
         [f"strict{n}.example" for n in range(6)]),
        ("deals", {"deals": [_deal(n) for n in range(6)]},
         [f"strict-deal-{n}" for n in range(6)]),
        ("sales-activities", {"activities": [_activity(n) for n in range(6)]},
         [f"strict-act-{n}" for n in range(6)]),
        ("deal-stages", {"pipelines": [_pipeline(f"strict-p{n}") for n in range(6)]},
         [f"strict-p{n}" for n in range(6)]),
    ]


def test_shuffled_results_are_the_same_outcomes_in_another_order(edition: str) -> None:
    with SandboxServer(accounts=20, faults=Faults(shuffle_results=True, seed=3)) as server, \
            httpx.Client(headers={"X-Api-Key": server.api_key}) as client:
        for path, body, identities in _bulk_writes():
            response = client.post(server.base_url(edition) + path, json=body)
            assert response.status_code in (200, 201), response.text
            results = response.json()["data"]["results"]
            order = [_identity(r) for r in results]
            assert order != identities and sorted(order) == sorted(identities), path
            assert {r["status"] for r in results} <= {"created", "upserted"}, results
        assert server.state.fault_counts["shuffle"] == 4


def test_results_are_in_request_order_without_the_switch(api: Api, edition: str) -> None:
    for path, body, identities in _bulk_writes():
        response = api.post(edition, path, body)
        assert [_identity(r) for r in api.data(response)["results"]] == identities


def test_single_item_and_error_answers_are_not_touched(edition: str) -> None:
    with SandboxServer(accounts=5, faults=Faults(shuffle_results=True)) as server, \
            httpx.Client(headers={"X-Api-Key": server.api_key}) as client:
        one = client.post(server.base_url(edition) + "deals", json={"deals": [_deal(1)]})
        assert one.json()["data"]["results"][0]["externalDealId"] == "strict-deal-1"
        bad = client.post(server.base_url(edition) + "deals", json={"deals": [{}]})
        assert bad.status_code == 400
        assert server.state.fault_counts.get("shuffle", 0) == 0


def test_shuffle_switch_through_the_inspection_route(api: Api, sandbox: SandboxServer) -> None:
    response = api.client.post(sandbox.inspect_url("faults"), json={"shuffle_results": True})
    assert response.json()["shuffle_results"] is True and sandbox.faults.shuffle_results
    refused = api.client.post(sandbox.inspect_url("faults"), json={"shuffle_results": "yes"})
    assert refused.status_code == 400 and sandbox.faults.shuffle_results is True
    sandbox.faults.clear()
    assert sandbox.faults.shuffle_results is False


def test_reorder_never_returns_the_given_order() -> None:
    faults = Faults(seed=1)
    for size in range(2, 6):
        for _ in range(50):
            items = [{"n": i} for i in range(size)]
            out = faults.reorder(items)
            assert out != items and sorted(o["n"] for o in out) == list(range(size))
    assert faults.reorder([{"n": 0}]) == [{"n": 0}]


def test_cli_flag_switches_shuffling_on() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    assert build_server(parser.parse_args(["--port", "0"])).faults.shuffle_results is False
    server = build_server(parser.parse_args(["--port", "0", "--shuffle-results"]))
    assert server.faults.shuffle_results is True
