"""Whole-request errors: the error tree, §4.2 text extraction, per-item results."""

from __future__ import annotations

import httpx
import pytest
from api_testkit import Api, error_response, ok

from recotap_desktop.api import (
    AmbiguousOutcome,
    ApiStatusError,
    AuthError,
    Conflict,
    NotFound,
    RateLimited,
    RecotapClient,
    RecotapError,
    RequestRejected,
    ServerError,
    TransportError,
)
from recotap_desktop.api.models import NO_ANSWER_ERROR

DEALS = [{"externalDealId": f"d{i}", "name": f"Deal {i}"} for i in range(3)]


def test_validation_flavour(api: Api, client: RecotapClient) -> None:
    api.route("POST", "accounts").mock(return_value=error_response(400, data=[
        {"property": "domain", "constraints": {"isNotEmpty": "domain should not be empty"}},
        {"property": "accounts", "children": [
            {"property": "3", "children": [
                {"property": "name", "constraints": {
                    "isNotEmpty": "name should not be empty",
                    "maxLength": "name must be shorter than or equal to 255 characters"}}]}]},
    ]))
    with pytest.raises(RequestRejected) as info:
        client.create_accounts([{"externalId": "x", "domain": "", "name": ""}])
    exc = info.value
    assert type(exc) is RequestRejected
    assert exc.is_validation is True
    assert exc.status_code == 400
    assert exc.details == ["domain should not be empty", "name should not be empty",
                           "name must be shorter than or equal to 255 characters"]
    assert exc.properties == ["domain", "accounts.3.name"]
    assert exc.server_message == "; ".join(exc.details)
    assert "domain should not be empty" in exc.message
    assert exc.path.endswith("/accounts")
    assert exc.attempts == 1


def test_business_flavour(api: Api, client: RecotapClient) -> None:
    text = "Segment 'abc' is not active or draft and cannot accept new members"
    api.route("POST", "accounts").mock(return_value=error_response(400, custom=text))
    with pytest.raises(RequestRejected) as info:
        client.create_accounts([{"externalId": "x", "domain": "a.com", "name": "A"}],
                               segment_id="abc")
    exc = info.value
    assert exc.is_validation is False
    assert exc.server_message == text
    assert exc.details == [] and exc.properties == []
    assert text in exc.message and "400" in exc.message


def test_custom_message_wins_over_data(api: Api, client: RecotapClient) -> None:
    api.route("POST", "deals").mock(return_value=error_response(
        400, custom="Custom words", data=[{"property": "x", "constraints": {"a": "x bad"}}]))
    with pytest.raises(RequestRejected) as info:
        client.push_deals(DEALS)
    assert info.value.server_message == "Custom words"
    assert info.value.details == ["x bad"] and info.value.properties == ["x"]


def test_generic_message_and_nest_message_array(api: Api, client: RecotapClient) -> None:
    route = api.route("POST", "deals").mock(
        return_value=error_response(400, message="Bad Request"))
    with pytest.raises(RequestRejected) as info:
        client.push_deals(DEALS)
    assert info.value.server_message == "Bad Request"
    route.return_value = httpx.Response(400, json={
        "statusCode": 400, "message": ["deals must contain no more than 100 elements"],
        "error": "Bad Request"})
    with pytest.raises(RequestRejected) as info:
        client.push_deals(DEALS)
    assert info.value.details == ["deals must contain no more than 100 elements"]
    assert info.value.is_validation


def test_non_json_error_body(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(
        return_value=httpx.Response(403, text="<html>Forbidden by proxy</html>"))
    with pytest.raises(RequestRejected) as info:
        client.list_custom_fields()
    assert info.value.status_code == 403
    assert info.value.server_message == "Forbidden"


@pytest.mark.parametrize("text", ["Invalid API key", "X-Api-Key header is required",
                                  "Unauthorized access"])
def test_401_is_auth_error_with_hint(api: Api, client: RecotapClient, text: str) -> None:
    route = api.route("GET", "segments").mock(
        return_value=error_response(401, custom=text, message="Unauthorized"))
    with pytest.raises(AuthError) as info:
        client.verify()
    exc = info.value
    assert exc.status_code == 401 and exc.server_message == text
    assert "API access may also not be enabled for your workspace" in exc.message
    assert route.call_count == 1  # never retried


def test_404_not_found_and_verify_hint(api: Api, client: RecotapClient) -> None:
    api.route("PUT", "accounts/nope").mock(return_value=error_response(
        404, custom="Account not found", message="Not Found"))
    with pytest.raises(NotFound) as info:
        client.update_account("nope", {"A_C": 1})
    assert isinstance(info.value, RequestRejected)
    assert info.value.server_message == "Account not found"
    api.route("GET", "segments").mock(return_value=error_response(
        404, message="Cannot GET /api/v1/crm/segments"))
    with pytest.raises(NotFound) as info:
        client.verify()
    assert "base URL" in info.value.message and "edition" in info.value.message
    assert str(info.value) == info.value.message


def test_409_conflict(api: Api, client: RecotapClient) -> None:
    text = "Pipeline(s) already exist: smb-pipeline"
    api.route("POST", "deal-stages").mock(return_value=error_response(
        409, custom=text, message="Conflict"))
    with pytest.raises(Conflict) as info:
        client.push_deal_stages([{"pipelineId": "smb-pipeline", "pipelineLabel": "S",
                                  "stages": [{"stageId": "1", "stageLabel": "1"}]}])
    assert info.value.server_message == text
    assert info.value.possibly_repeated is False


def test_redirect_is_not_followed(api: Api, client: RecotapClient) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(return_value=httpx.Response(
        301, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(ApiStatusError) as info:
        client.list_custom_fields()
    assert info.value.status_code == 301 and "redirect" in info.value.message
    assert route.call_count == 1


def test_429_exhausted(api: Api, client: RecotapClient, retries) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(
        return_value=error_response(429, message="Too Many Requests",
                                    headers={"Retry-After": "0.01"}))
    with pytest.raises(RateLimited) as info:
        client.list_custom_fields()
    assert info.value.retry_after == pytest.approx(0.01)
    assert info.value.attempts == 4 == route.call_count
    assert [r.status_code for r in retries] == [429, 429, 429]


def test_5xx_exhausted(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(
        return_value=httpx.Response(502, text="Bad gateway"))
    with pytest.raises(ServerError) as info:
        client.list_custom_fields()
    assert info.value.status_code == 502 and info.value.attempts == 4


def test_success_with_unreadable_body_on_get(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(return_value=httpx.Response(200, text="<h"))
    with pytest.raises(TransportError) as info:
        client.list_custom_fields()
    assert info.value.kind == "protocol"


@pytest.mark.parametrize("body", [b'{"ok": true, "items": []}', b"{}", b"", b"  ", b"null",
                                  b'"text"', b'{"statusCode": 200, "message": "OK"}'])
def test_success_without_the_envelope_is_refused(api: Api, client: RecotapClient,
                                                 body: bytes) -> None:
    """§4.1: a 200 that is not the envelope is never read as an empty answer (issue 15)."""
    for path in ("accounts/custom-fields", "accounts/missing-external-ids", "segments",
                 "accounts"):
        api.route("GET", path).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(TransportError) as info:
        client.list_custom_fields()
    assert info.value.kind == "protocol" and "not" in str(info.value)
    with pytest.raises(TransportError):
        client.list_unmapped_accounts()
    with pytest.raises(TransportError):
        list(client.iter_segments())
    with pytest.raises(TransportError):
        list(client.iter_account_pages())


@pytest.mark.parametrize("body", [b'{"ok": true}', b"", b'{"matched": 1, "updated": 1}'])
def test_write_answered_without_the_envelope_is_ambiguous(api: Api, client: RecotapClient,
                                                          body: bytes) -> None:
    api.route("PATCH", "accounts/external-ids").mock(return_value=httpx.Response(200, content=body))
    api.route("POST", "deals").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(AmbiguousOutcome) as info:
        client.map_external_ids([{"domain": "acme.com", "externalId": "x"}])
    assert info.value.kind == "protocol" and "may or may not" in str(info.value)
    with pytest.raises(AmbiguousOutcome):
        client.push_deals(DEALS)


def test_bare_array_is_still_taken_as_the_data(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(return_value=httpx.Response(200, json=[
        {"key": "A_C", "label": "A", "labelType": "number"}]))
    assert [f.key for f in client.list_custom_fields()] == ["A_C"]


def test_every_error_is_a_recotap_error() -> None:
    for cls in (AuthError, RequestRejected, NotFound, Conflict, RateLimited, ServerError):
        assert issubclass(cls, ApiStatusError) and issubclass(cls, RecotapError)
    assert issubclass(NotFound, RequestRejected) and issubclass(Conflict, RequestRejected)


# ---- per-item results --------------------------------------------------------------------


def test_missing_results_are_failed_not_dropped(api: Api, client: RecotapClient, caplog) -> None:
    api.route("POST", "deals").mock(return_value=ok({
        "results": [{"externalDealId": "d0", "status": "upserted"}]}))
    result = client.push_deals(DEALS)
    assert [i.index for i in result.items] == [0, 1, 2]
    assert [i.status for i in result.items] == ["upserted", "failed", "failed"]
    assert result.items[1].error == NO_ANSWER_ERROR
    assert "no answer" in NO_ANSWER_ERROR
    assert result.items[2].ids == {"externalDealId": "d2"}  # taken from the input
    assert result.summary == {"total": 3, "upserted": 1, "failed": 2}
    assert "answered 1 results for 3 items" in caplog.text


def test_results_missing_entirely(api: Api, client: RecotapClient) -> None:
    api.route("POST", "deals").mock(return_value=ok(None))
    result = client.push_deals(DEALS)
    assert all(i.status == "failed" and i.error == NO_ANSWER_ERROR for i in result.items)


def test_generic_item_parsing(api: Api, client: RecotapClient) -> None:
    api.route("POST", "sales-activities").mock(return_value=ok({"results": [
        {"externalActivityId": "a0", "status": "QUEUED"},
        {"externalActivityId": "a1", "error": ["bad thing", "worse thing"]},
        "garbage",
        {"externalActivityId": "a3", "rtp_aid": None, "domain": "", "status": "failed",
         "error": {"message": "Nope"}},
        {"status": "created"},  # more results than items: ignored
    ]}))
    result = client.push_sales_activities([{"externalActivityId": f"a{i}"} for i in range(4)])
    assert [i.status for i in result.items] == ["queued", "failed", "failed", "failed"]
    assert result.items[1].error == "bad thing; worse thing"
    assert "unreadable" in (result.items[2].error or "")
    assert result.items[3].error == "Nope"
    assert result.items[3].ids == {"externalActivityId": "a3"}
    assert len(result.items) == 4
