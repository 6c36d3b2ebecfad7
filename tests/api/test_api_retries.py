"""Retries, back-off, Retry-After, cancellation, lost answers on writes, TLS failures."""

from __future__ import annotations

import email.utils
import json
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from api_testkit import FAST, KEY, Api, RecordingEvent, error_response, ok

from recotap_desktop.api import (
    AmbiguousOutcome,
    CancelledError,
    Conflict,
    RateLimited,
    RecotapClient,
    RetryInfo,
    RetryPolicy,
    ServerError,
    TransportError,
    parse_retry_after,
)

DEALS = [{"externalDealId": "d0", "name": "Deal"}]
DEALS_OK = ok({"results": [{"externalDealId": "d0", "status": "upserted"}]})
FIELDS_OK = ok([])


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=True)
    assert jittered.backoff(3, rng=lambda: 0.25) == pytest.approx(0.5)
    assert all(0 <= jittered.backoff(4) < 3.0 for _ in range(50))


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.max_total) == (
        6, 0.5, 20.0, 120.0)
    assert policy.jitter is True


def test_429_then_success_honours_retry_after_seconds(
    api: Api, client: RecotapClient, event: RecordingEvent, retries: list[RetryInfo]
) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(side_effect=[
        error_response(429, message="Too Many Requests", headers={"Retry-After": "7"}),
        error_response(429, message="Too Many Requests"),
        FIELDS_OK,
    ])
    assert client.list_custom_fields() == []
    assert route.call_count == 3
    assert event.waits == [7.0, 0.02]  # server's hint, then our own back-off (2nd attempt)
    assert retries == [
        RetryInfo(1, 7.0, "rate limited (429)", 429, "GET", "accounts/custom-fields"),
        RetryInfo(2, 0.02, "rate limited (429)", 429, "GET", "accounts/custom-fields"),
    ]


def test_retry_after_http_date(api: Api, edition: str, event: RecordingEvent) -> None:
    now = 1_780_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    api.route("POST", "deals").mock(side_effect=[
        error_response(503, message="Service Unavailable", headers={"Retry-After": date}),
        DEALS_OK,
    ])
    policy = replace(FAST, clock=lambda: now)
    with RecotapClient(KEY, edition=edition, retry=policy, cancel_event=event) as client:
        result = client.push_deals(DEALS)
    assert event.waits == [pytest.approx(12.0)]
    assert result.attempts == 2
    assert result.possibly_repeated is True  # a 5xx may have been processed


def test_parse_retry_after() -> None:
    now = 1_000_000.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_retry_after_beyond_budget_gives_up_at_once(api: Api, event: RecordingEvent) -> None:
    api.route("GET", "accounts/custom-fields").mock(
        return_value=error_response(429, headers={"Retry-After": "3600"}))
    with (
        RecotapClient(KEY, edition=api.edition, retry=FAST, cancel_event=event) as client,
        pytest.raises(RateLimited) as info,
    ):
        client.list_custom_fields()
    assert info.value.retry_after == 3600.0
    assert info.value.attempts == 1
    assert event.waits == []


def test_max_total_bounds_the_back_off(api: Api, event: RecordingEvent) -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=100.0, max_total=3.5,
                         jitter=False)
    route = api.route("GET", "accounts/custom-fields").mock(
        return_value=httpx.Response(500, text="boom"))
    with (
        RecotapClient(KEY, edition=api.edition, retry=policy, cancel_event=event) as client,
        pytest.raises(ServerError),
    ):
        client.list_custom_fields()
    assert event.waits == [1.0, 2.0]  # the next one (4.0) would exceed 3.5 s in total
    assert route.call_count == 3


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_connect_failures_are_retried_for_writes_without_ambiguity(
    api: Api, client: RecotapClient, retries, exc
) -> None:
    api.route("POST", "deals").mock(side_effect=[exc, exc, DEALS_OK])
    result = client.push_deals(DEALS)
    assert result.attempts == 3
    assert result.possibly_repeated is False  # nothing was sent before
    assert [r.status_code for r in retries] == [None, None]


def test_connect_failures_exhausted(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as info:
        client.list_custom_fields()
    assert type(info.value) is TransportError
    assert info.value.kind == "connect"
    assert info.value.attempts == 4
    assert "eapi.recotap.com" in info.value.message


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
def test_get_retried_after_lost_answer(api: Api, client: RecotapClient, exc) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(side_effect=[exc, FIELDS_OK])
    assert client.list_custom_fields() == []
    assert route.call_count == 2


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("timed out"), httpx.ReadError("reset"),
     httpx.RemoteProtocolError("Server disconnected without sending a response."),
     httpx.WriteError("broken pipe"), httpx.WriteTimeout("write")],
)
def test_write_lost_answer_then_success_is_possibly_repeated(
    api: Api, client: RecotapClient, retries, exc
) -> None:
    route = api.route("POST", "deals").mock(side_effect=[exc, DEALS_OK])
    result = client.push_deals(DEALS)
    assert route.call_count == 2
    assert result.attempts == 2 and result.possibly_repeated is True
    assert json.loads(route.calls[0].request.content) == json.loads(route.calls[1].request.content)
    assert retries[0].status_code is None and retries[0].attempt == 1


def test_write_lost_answer_exhausted_is_ambiguous(api: Api, client: RecotapClient) -> None:
    api.route("POST", "accounts").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(AmbiguousOutcome) as info:
        client.create_accounts([{"externalId": "a", "domain": "a.com", "name": "A"}])
    exc = info.value
    assert isinstance(exc, TransportError)
    assert exc.kind == "timeout" and exc.attempts == 4 and exc.possibly_repeated
    assert "may or may not have processed" in exc.message


@pytest.mark.parametrize(
    "later",
    [httpx.ConnectError("refused"),
     error_response(503, message="Service Unavailable"),
     error_response(429, message="Too Many Requests")],
)
def test_lost_answer_then_other_failures_is_ambiguous(api: Api, client: RecotapClient, later):
    route = api.route("POST", "sales-activities").mock(
        side_effect=[httpx.RemoteProtocolError("Server disconnected"), later, later, later])
    with pytest.raises(AmbiguousOutcome) as info:
        client.push_sales_activities([{"externalActivityId": "a0"}])
    assert route.call_count == 4
    assert info.value.attempts == 4


def test_lost_answer_then_conflict_flags_possible_repeat(api: Api, client: RecotapClient):
    api.route("POST", "deal-stages").mock(side_effect=[
        httpx.ReadTimeout("timed out"),
        error_response(409, custom="Pipeline(s) already exist: smb", message="Conflict"),
    ])
    with pytest.raises(Conflict) as info:
        client.push_deal_stages([{"pipelineId": "smb", "pipelineLabel": "S",
                                  "stages": [{"stageId": "1", "stageLabel": "1"}]}])
    assert info.value.possibly_repeated is True
    assert info.value.attempts == 2


def test_lost_answer_on_create_custom_field_then_conflict(api: Api, client: RecotapClient):
    api.route("POST", "accounts/custom-field").mock(side_effect=[
        httpx.ReadTimeout("t"), error_response(409, message="Conflict")])
    with pytest.raises(Conflict) as info:
        client.create_custom_field("Contract Value", "number")
    assert info.value.possibly_repeated is True


def test_5xx_then_success_on_write_is_possibly_repeated(api: Api, client: RecotapClient):
    api.route("PATCH", "accounts/external-ids").mock(side_effect=[
        httpx.Response(500, text="oops"), ok({"matched": 1, "updated": 1, "notFound": []})])
    result = client.map_external_ids([{"domain": "a.com", "externalId": "1"}])
    assert result.attempts == 2 and result.possibly_repeated is True


def test_429_then_success_on_write_is_not_repeated(api: Api, client: RecotapClient):
    api.route("POST", "deals").mock(side_effect=[error_response(429), DEALS_OK])
    result = client.push_deals(DEALS)
    assert result.attempts == 2 and result.possibly_repeated is False


def test_5xx_exhausted_on_write(api: Api, client: RecotapClient) -> None:
    api.route("POST", "deals").mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(ServerError) as info:
        client.push_deals(DEALS)
    assert info.value.possibly_repeated is True and info.value.attempts == 4


def test_unreadable_success_on_write_is_ambiguous(api: Api, client: RecotapClient) -> None:
    route = api.route("POST", "deals").mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(AmbiguousOutcome) as info:
        client.push_deals(DEALS)
    assert info.value.kind == "protocol" and route.call_count == 1


def test_cancel_during_back_off(api: Api, retries: list[RetryInfo]) -> None:
    event = RecordingEvent(cancel_on_wait=1)
    route = api.route("GET", "accounts/custom-fields").mock(
        return_value=error_response(429, headers={"Retry-After": "20"}))
    with RecotapClient(KEY, edition=api.edition, retry=FAST, cancel_event=event,
                       on_retry=retries.append) as client, pytest.raises(CancelledError) as info:
        client.list_custom_fields()
    assert route.call_count == 1
    assert event.waits == [20.0]
    assert len(retries) == 1
    assert info.value.possibly_repeated is False


def test_cancel_during_back_off_after_lost_write(api: Api) -> None:
    event = RecordingEvent(cancel_on_wait=1)
    route = api.route("POST", "deals").mock(side_effect=httpx.ReadTimeout("t"))
    with (
        RecotapClient(KEY, edition=api.edition, retry=FAST, cancel_event=event) as client,
        pytest.raises(CancelledError) as info,
    ):
        client.push_deals(DEALS)
    assert route.call_count == 1
    assert info.value.possibly_repeated is True


def test_cancelled_before_sending(api: Api, client: RecotapClient, event) -> None:
    route = api.route("GET", "accounts/custom-fields").mock(return_value=FIELDS_OK)
    event.set()
    with pytest.raises(CancelledError):
        client.list_custom_fields()
    assert route.call_count == 0


def test_cancel_with_a_real_event_ends_a_long_wait(api: Api) -> None:
    """A real threading.Event: the wait returns as soon as another thread sets it."""
    event = threading.Event()
    api.route("GET", "accounts/custom-fields").mock(
        return_value=error_response(503, headers={"Retry-After": "600"}))
    policy = RetryPolicy(max_attempts=3, max_total=10_000)

    def cancel_when_waiting(info: RetryInfo) -> None:
        threading.Thread(target=event.set).start()

    with RecotapClient(KEY, edition=api.edition, retry=policy, cancel_event=event,
                       on_retry=cancel_when_waiting) as client, pytest.raises(CancelledError):
        client.list_custom_fields()


def test_tls_failure_is_not_retried_and_in_plain_words(api: Api, client: RecotapClient):
    def raise_tls(request: httpx.Request) -> httpx.Response:
        cause = ssl.SSLCertVerificationError(
            1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
               "self-signed certificate in certificate chain (_ssl.c:1000)")
        raise httpx.ConnectError(str(cause), request=request) from cause

    route = api.route("GET", "segments").mock(side_effect=raise_tls)
    with pytest.raises(TransportError) as info:
        client.verify()
    assert info.value.kind == "tls"
    assert route.call_count == 1
    assert "certificate could not be verified" in info.value.message
    assert "proxy" in info.value.message


def test_tls_wrong_version(api: Api, client: RecotapClient) -> None:
    api.route("GET", "segments").mock(side_effect=httpx.ConnectError(
        "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"))
    with pytest.raises(TransportError) as info:
        client.verify()
    assert info.value.kind == "tls" and "HTTPS" in info.value.message


def test_concurrent_calls_from_threads(api: Api, client: RecotapClient) -> None:
    refused: set[str] = set()
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        deals = json.loads(request.content)["deals"]
        first = deals[0]["externalDealId"]
        with lock:  # every third batch is refused once (a 429), whatever the interleaving
            once = int(first[1:].split("-")[0]) % 3 == 0 and first not in refused
            refused.add(first)
        if once:
            return error_response(429)
        return ok({"results": [{"externalDealId": d["externalDealId"], "status": "upserted"}
                               for d in deals]})

    api.route("POST", "deals").mock(side_effect=answer)

    def push(i: int) -> list[str]:
        batch = [{"externalDealId": f"t{i}-{j}", "name": "x"} for j in range(5)]
        return [r.ids["externalDealId"] for r in client.push_deals(batch).items]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(push, range(40)))
    assert results == [[f"t{i}-{j}" for j in range(5)] for i in range(40)]
    assert len(refused) == 40


@pytest.mark.parametrize(("code", "words"), [
    (62, "not valid for the name"), (10, "certificate has expired"),
    (18, "certificate could not be verified")])
def test_tls_words_come_from_openssls_verification_code(code: int, words: str) -> None:
    """Why a certificate was refused is read from OpenSSL's code (X509_V_ERR_*) in the
    exception chain, as httpx raises it for a real connection, not from the words of its
    message (these say nothing of the reason here)."""
    from recotap_desktop.api.failures import transport_failure
    from recotap_desktop.api.redact import Secret

    cause = ssl.SSLCertVerificationError(1, "[SSL] verification failed (_ssl.c:1000)")
    cause.verify_code = code
    try:
        raise httpx.ConnectError("[SSL] handshake failed") from cause
    except httpx.ConnectError as exc:
        failure = transport_failure(exc, "GET", "segments", False, host="crm.example.com",
                                    timeout=10.0, key=Secret("k"))
    assert failure.error.kind == "tls" and words in failure.error.message
