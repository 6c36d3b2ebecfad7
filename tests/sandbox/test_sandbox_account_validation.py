"""Whole-request validation of POST /accounts, incl. the sandbox-only name length rule."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import Api


def _acc(n: int, **extra: Any) -> dict[str, Any]:
    return {"domain": f"v{n}.io", "name": f"V{n}", "externalId": f"v-{n}", **extra}


def _errors(api: Api, edition: str, body: Any) -> list[dict[str, Any]]:
    count = len(api.server.state.accounts)
    response = api.post(edition, "accounts", body)
    assert response.status_code == 400, response.text
    doc = response.json()
    assert doc["message"] == "Bad Request" and "customMessage" not in doc
    assert len(api.server.state.accounts) == count  # nothing processed
    return list(doc["data"])


def test_accounts_must_be_an_array(api: Api, edition: str) -> None:
    errors = _errors(api, edition, {})
    assert errors[0]["property"] == "accounts"
    assert errors[0]["constraints"]["isArray"] == "accounts must be an array"


def test_accounts_max_100(api: Api, edition: str) -> None:
    errors = _errors(api, edition, {"accounts": [_acc(i) for i in range(101)]})
    assert errors == [{"property": "accounts", "constraints": {
        "arrayMaxSize": "accounts must contain no more than 100 elements"}}]


@pytest.mark.parametrize(("change", "prop", "message"), [
    ({"domain": ""}, "domain", "domain should not be empty"),
    ({"name": ""}, "name", "name should not be empty"),
    ({"name": "n" * 256}, "name", "name must be shorter than or equal to 255 characters"),
    ({"tags": "x"}, "tags", "tags must be an array"),
    ({"customFields": [1]}, "customFields", "customFields must be an object"),
])
def test_item_rules(api: Api, edition: str, change: dict[str, Any], prop: str,
                    message: str) -> None:
    errors = _errors(api, edition, {"accounts": [_acc(1), _acc(2, **change), _acc(3)]})
    assert [e["property"] for e in errors] == [prop]
    assert message in errors[0]["constraints"].values()


def test_name_of_255_characters_is_fine(api: Api) -> None:
    data = api.data(api.post("crm", "accounts", {"accounts": [_acc(1, name="n" * 255)]}))
    assert data["results"][0]["status"] == "created"


def test_crm_requires_external_id_external_does_not(api: Api) -> None:
    body = {"accounts": [{"domain": "noid.io", "name": "No Id"}]}
    errors = _errors(api, "crm", body)
    assert errors == [{"property": "externalId", "constraints": {
        "isString": "externalId must be a string"}}]
    assert api.data(api.post("external", "accounts", body))["results"][0]["status"] == "created"


def test_same_problem_in_several_items_is_reported_once(api: Api) -> None:
    errors = _errors(api, "external", {"accounts": [_acc(1, name=""), _acc(2, name="")]})
    assert len(errors) == 1


def test_upsert_must_be_boolean(api: Api) -> None:
    errors = _errors(api, "external", {"accounts": [_acc(1)], "upsert": "yes"})
    assert errors == [{"property": "upsert", "constraints": {
        "isBoolean": "upsert must be a boolean value"}}]
