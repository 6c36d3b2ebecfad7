"""Seeding, the Python state API, rescoring, the inspection route and the fixtures."""

from __future__ import annotations

import random
import threading

import httpx
import pytest
from sandbox_helpers import Api

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer, SandboxState
from recotap_desktop.sandbox.fixtures import running_sandbox, sandbox_fixture
from recotap_desktop.sandbox.state import custom_field_key, is_rtp_aid


def test_seed_is_deterministic() -> None:
    a, b = SandboxState(accounts=300, seed=1), SandboxState(accounts=300, seed=1)
    strip = ("created_at", "updated_at")
    rows_a = [{k: v for k, v in r.items() if k not in strip} for r in a.all_accounts()]
    rows_b = [{k: v for k, v in r.items() if k not in strip} for r in b.all_accounts()]
    assert rows_a == rows_b
    other = SandboxState(accounts=300, seed=2).all_accounts()
    assert [r["domain"] for r in other] != [r["domain"] for r in rows_a]


def test_default_seed_is_realistic() -> None:
    state = SandboxState()
    accounts = state.all_accounts()
    assert len(accounts) == 3000
    assert len({a["domain"] for a in accounts}) == 3000
    missing = sum(1 for a in accounts if not a["externalId"])
    assert 150 < missing < 450  # about 10% lack an externalId
    assert all(is_rtp_aid(a["rtp_aid"]) for a in accounts)
    assert [a["rtp_aid"] for a in accounts] == sorted(a["rtp_aid"] for a in accounts)
    assert any(a["rtp_journey_stage"] == "" and a["rtp_account_score"] == 0 for a in accounts)
    assert any(a["customFields"] for a in accounts)
    assert {s["status"] for s in state.segments.values()} >= {"active", "draft", "archived"}


def test_rescore_changes_scores_and_updated_time() -> None:
    state = SandboxState(accounts=50, seed=3)
    before = {a["rtp_aid"]: a for a in state.all_accounts()}
    changed = state.rescore(10, random.Random(1))
    assert len(changed) == 10 == len(set(changed))
    for aid in changed:
        assert state.accounts[aid]["updated_at"] > before[aid]["updated_at"]
    untouched = set(before) - set(changed)
    assert all(state.accounts[a]["updated_at"] == before[a]["updated_at"] for a in untouched)
    score_keys = [k for k in before[changed[0]] if k.startswith("rtp_") and k != "rtp_aid"]
    assert any(any(state.accounts[a][k] != before[a][k] for k in score_keys) for a in changed)


def test_add_accounts_and_lookups() -> None:
    state = SandboxState(accounts=5)
    aids = state.add_accounts([{"name": "Acme", "domain": "https://www.Acme.com/x",
                                "externalId": "crm-x"}])
    assert state.account_by_domain("acme.com")["rtp_aid"] == aids[0]
    assert state.account_by_external_id("crm-x")["name"] == "Acme"
    generated = state.add_accounts(3)
    assert len(generated) == 3 and len(state.accounts) == 9
    with pytest.raises(ValueError):
        state.add_accounts([{"name": "Dup", "domain": "acme.com"}])
    assert state.counts()["accounts"] == 9


def test_clock_is_strictly_increasing() -> None:
    state = SandboxState(accounts=0)
    stamps = [state.now() for _ in range(100)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 100


def test_state_is_thread_safe_under_concurrent_pushes(sandbox: SandboxServer) -> None:
    errors: list[BaseException] = []

    def push(worker: int) -> None:
        try:
            with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}) as client:
                for batch in range(5):
                    accounts = [{"domain": f"w{worker}-{batch}-{i}.io", "name": "W"}
                                for i in range(20)]
                    r = client.post(sandbox.base_url("external") + "accounts",
                                    json={"accounts": accounts})
                    assert r.json()["data"]["summary"]["created"] == 20
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    aids = list(sandbox.state.accounts)
    assert len(aids) == 200 + 600 == len(set(aids))


def test_rescore_every_runs_in_background() -> None:
    with SandboxServer(accounts=20, rescore_every=0.01, rescore_count=3) as server:
        first = {a["rtp_aid"]: a["updated_at"] for a in server.state.all_accounts()}
        changed = threading.Event()
        for _ in range(500):
            now = {a["rtp_aid"]: a["updated_at"] for a in server.state.all_accounts()}
            if now != first:
                changed.set()
                break
            changed.wait(0.01)
    assert changed.is_set()


@pytest.mark.parametrize(("label", "key"), [("Contract Value", "CONTRACT_VALUE_C"),
                                            ("Net-Revenue", "NET-REVENUE_C"),
                                            ("Revenue (USD)", "REVENUE_(USD)_C")])
def test_custom_field_key(label: str, key: str) -> None:
    assert custom_field_key(label) == key


@pytest.mark.parametrize(("raw", "clean"), [
    ("https://www.acme.com/foo", "acme.com"),
    ("HTTP://Acme.COM", "acme.com"),
    ("www.acme.com", "acme.com"),
    (" acme.com. ", "acme.com"),
    ("https://user:pw@www.acme.com:8443/a?b#c", "acme.com"),
    ("//cdn.acme.co.uk/x", "cdn.acme.co.uk"),
])
def test_pushed_domains_are_cleaned(api: Api, edition: str, raw: str, clean: str) -> None:
    data = api.data(api.post(edition, "accounts", {"accounts": [
        {"domain": raw, "name": "Acme", "externalId": "acme-1"}]}))
    assert data["results"][0]["domain"] == clean
    assert api.server.state.account_by_domain(clean)["name"] == "Acme"


# ---- inspection route ---------------------------------------------------------------------

def test_inspection_routes(api: Api) -> None:
    state = api.inspect("state")
    assert state["counts"]["accounts"] == 200
    assert state["base_urls"] == {"crm": api.server.base_url("crm"),
                                  "external": api.server.base_url("external")}
    rows = api.inspect("accounts?limit=3")
    assert len(rows) == 3 and rows[0]["updated_at"].endswith("Z")
    one = api.inspect(f"accounts/{rows[1]['rtp_aid']}")
    assert one["domain"] == rows[1]["domain"]
    assert api.inspect(f"accounts?domain=www.{rows[2]['domain']}")[0]["rtp_aid"] == \
        rows[2]["rtp_aid"]
    segments = api.inspect("segments")
    assert {s["status"] for s in segments} >= {"archived"}
    assert all("members" in s for s in segments)
    assert len(api.inspect("custom-fields")) == 7  # incl. the inactive one
    assert api.inspect("pipelines") == [] and api.inspect("activities") == []
    changed = api.client.post(api.server.inspect_url("rescore"), json={"n": 4}).json()
    assert len(changed["changed"]) == 4
    api.get("crm", "segments")
    assert api.inspect("requests") == [
        {"method": "GET", "path": "/api/v1/crm/segments", "status": 200}]
    assert api.client.get(api.server.inspect_url("nothing")).status_code == 404


def test_inspection_needs_no_key(sandbox: SandboxServer) -> None:
    with httpx.Client() as client:
        assert client.get(sandbox.inspect_url("state")).status_code == 200


# ---- fixtures factory ---------------------------------------------------------------------

def test_running_sandbox_context_manager() -> None:
    with running_sandbox(accounts=3) as server:
        port = server.port
        with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}) as client:
            assert client.get(server.base_url("external") + "accounts").status_code == 200
    assert port > 0
    assert server._httpd is None


sandbox_from_factory = sandbox_fixture(accounts=4)


def test_sandbox_fixture_factory(sandbox_from_factory: SandboxServer) -> None:
    assert len(sandbox_from_factory.state.accounts) == 4
    assert sandbox_from_factory.port > 0
