"""Fault injection knobs (seeded) and that they never touch the inspection route."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer


def _deal(n: int) -> dict[str, object]:
    return {"externalDealId": f"f-{n}", "name": f"F{n}"}


def test_faults_default_off(sandbox: SandboxServer) -> None:
    assert sandbox.faults == Faults()


def test_rate_429_with_retry_after(api: Api) -> None:
    api.server.faults.update(rate_429=1.0, retry_after=2.5)
    response = api.post("external", "deals", {"deals": [_deal(1)]})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2.5"
    doc = response.json()
    assert doc["statusCode"] == 429 and doc["path"] == "/api/v1/deals" and doc["data"] is None
    assert api.server.state.deals == {}
    assert api.inspect("state")["counts"]["deals"] == 0  # inspection is never faulted
    api.server.faults.rate_429 = 0.0
    assert api.post("external", "deals", {"deals": [_deal(1)]}).status_code == 200


def test_rate_5xx_before_processing(api: Api) -> None:
    api.server.faults.rate_5xx = 1.0
    statuses = {api.post("crm", "deals", {"deals": [_deal(i)]}).status_code for i in range(20)}
    assert statuses == {500, 503}
    assert api.server.state.deals == {}
    response = api.get("crm", "segments")
    assert response.json()["customMessage"].startswith("Temporary failure")


def test_drop_before_closes_without_processing(api: Api) -> None:
    api.server.faults.rate_drop_before = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("external", "deals", {"deals": [_deal(1)]})
    assert api.server.state.deals == {}
    assert api.server.state.fault_counts["drop_before"] == 1
    assert list(api.server.state.request_log) == [("POST", "/api/v1/deals", 0)]


def test_drop_after_processes_then_closes(api: Api) -> None:
    api.server.faults.rate_drop_after = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("external", "deals", {"deals": [_deal(1)]})
    assert set(api.server.state.deals) == {"f-1"}
    api.server.faults.rate_drop_after = 0.0
    assert api.get("external", "segments").status_code == 200  # a new connection works


def test_latency_is_applied_and_counted(api: Api) -> None:
    api.server.faults.latency = 0.01
    for _ in range(3):
        assert api.get("crm", "segments").status_code == 200
    api.inspect("state")
    assert api.server.state.fault_counts["latency"] == 3


def _outcomes(seed: int) -> list[str]:
    faults = Faults(rate_429=0.2, rate_5xx=0.2, rate_drop_before=0.1, rate_drop_after=0.1,
                    retry_after=0, seed=seed)
    out = []
    with SandboxServer(accounts=5, faults=faults) as server, \
            httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}) as client:
        for _ in range(40):
            try:
                out.append(str(client.get(server.base_url("crm") + "segments").status_code))
            except httpx.TransportError:
                out.append("dropped")
    return out


def test_seeded_faults_are_reproducible() -> None:
    first, second, other = _outcomes(3), _outcomes(3), _outcomes(4)
    assert first == second
    assert first != other
    assert {"200", "429", "dropped"} <= set(first)
    assert {"500", "503"} & set(first)


def test_faults_knobs_via_inspection_route(api: Api) -> None:
    response = api.client.post(api.server.inspect_url("faults"), json={"rate_429": 1.0})
    assert response.status_code == 200 and response.json()["rate_429"] == 1.0
    assert api.get("crm", "segments").status_code == 429
    bad = api.client.post(api.server.inspect_url("faults"), json={"rate_429": 2})
    assert bad.status_code == 400
    assert api.server.faults.rate_429 == 1.0
    api.client.post(api.server.inspect_url("faults"),
                    json={"rate_429": 0, "latency": 0, "seed": 5})
    assert api.get("crm", "segments").status_code == 200
    assert api.server.faults.seed == 5


def test_faults_validation() -> None:
    with pytest.raises(ValueError):
        Faults(rate_5xx=1.5)
    faults = Faults()
    with pytest.raises(ValueError):
        faults.update(nonsense=1)
    faults.update(rate_5xx=0.5, latency=0.1)
    faults.clear()
    assert faults == Faults()
