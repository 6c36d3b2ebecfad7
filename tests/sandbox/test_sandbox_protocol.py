"""Envelope, auth, unknown routes, bare endpoints, keep-alive and TCP_NODELAY."""

from __future__ import annotations

import socket

import httpx
import pytest
from sandbox_helpers import Api, read_response

from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer

ALL_ROUTES = [
    ("GET", "accounts"),
    ("POST", "accounts"),
    ("PUT", "accounts/crm-00001"),
    ("GET", "accounts/missing-external-ids"),
    ("PATCH", "accounts/external-ids"),
    ("GET", "accounts/custom-fields"),
    ("POST", "accounts/custom-field"),
    ("GET", "segments"),
    ("POST", "deals"),
    ("POST", "deal-stages"),
    ("POST", "sales-activities"),
    ("GET", "journey-stages"),
]


def test_success_envelope(api: Api, edition: str) -> None:
    response = api.get(edition, "segments")
    assert response.status_code == 200
    doc = response.json()
    assert set(doc) == {"statusCode", "timestamp", "path", "data"}
    assert doc["statusCode"] == 200
    assert doc["timestamp"].endswith("Z") and "T" in doc["timestamp"]
    expected = "/api/v1/crm/segments" if edition == "crm" else "/api/v1/segments"
    assert doc["path"] == expected
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_missing_key_is_401_on_every_route(sandbox: SandboxServer, edition: str, method: str,
                                            path: str) -> None:
    with httpx.Client() as client:
        response = client.request(method, sandbox.base_url(edition) + path, json={})
    assert response.status_code == 401
    doc = response.json()
    assert doc["customMessage"] == "X-Api-Key header is required"
    assert doc["data"] is None
    assert doc["message"] == "Unauthorized"


def test_wrong_key_is_401(sandbox: SandboxServer, edition: str) -> None:
    with httpx.Client(headers={"X-Api-Key": "rtp_wrong"}) as client:
        response = client.get(sandbox.base_url(edition) + "accounts")
    assert response.status_code == 401
    assert response.json()["customMessage"] == "Invalid API key"


def test_custom_key(edition: str) -> None:
    with SandboxServer(accounts=5, api_key="k-123") as server, httpx.Client() as client:
        ok = client.get(server.base_url(edition) + "segments", headers={"X-Api-Key": "k-123"})
        demo = client.get(server.base_url(edition) + "segments",
                          headers={"X-Api-Key": DEMO_API_KEY})
    assert ok.status_code == 200
    assert demo.status_code == 401
    assert "k-123" not in repr(server)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/accounts/unmapped"),
    ("GET", "/api/v1/custom-fields/account"),
    ("GET", "/api/v1/crm/nothing"),
    ("DELETE", "/api/v1/accounts"),
    ("GET", "/elsewhere"),
])
def test_unknown_routes_are_404(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, api.server.root_url + path)
    assert response.status_code == 404
    doc = response.json()
    assert doc["message"] == f"Cannot {method} {path}"
    assert doc["path"] == path
    assert doc["data"] is None


def test_unknown_route_is_404_even_without_key(sandbox: SandboxServer) -> None:
    with httpx.Client() as client:
        response = client.get(sandbox.root_url + "/api/v1/nowhere")
    assert response.status_code == 404


def test_journey_stages_is_a_bare_array(api: Api, edition: str) -> None:
    response = api.get(edition, "journey-stages")
    assert response.status_code == 200
    assert response.json() == ["Unaware", "Aware", "Consideration", "Opportunity", "Customer"]


def test_invalid_json_body_is_400(api: Api) -> None:
    response = api.client.post(api.url("external", "deals"), content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["customMessage"] == "Request body is not valid JSON"


def test_keep_alive_serves_many_requests_on_one_connection(sandbox: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.port)) as sock, \
            sock.makefile("rb") as fp:
        for _ in range(5):
            sock.sendall(f"GET /api/v1/segments HTTP/1.1\r\nHost: x\r\n"
                         f"X-Api-Key: {DEMO_API_KEY}\r\n\r\n".encode())
            status, headers, body = read_response(fp)
            assert "connection" not in headers
            assert status == 200
            assert b'"statusCode":200' in body


def test_server_sets_tcp_nodelay_on_accepted_sockets(api: Api) -> None:
    assert api.inspect("connection") == {"tcp_nodelay": True}


def test_accept_hook_sets_tcp_nodelay(sandbox: SandboxServer) -> None:
    """Unit level: the server's accept hook turns Nagle off on the accepted socket."""
    from recotap_desktop.sandbox.server import _HTTPServer

    other = _HTTPServer(("127.0.0.1", 0), sandbox)
    try:
        with socket.create_connection(("127.0.0.1", other.server_address[1])):
            accepted, _ = other.get_request()
            try:
                value = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                other.shutdown_request(accepted)
    finally:
        other.server_close()
    assert value != 0


def test_stop_closes_keep_alive_connections(edition: str) -> None:
    server = SandboxServer(accounts=5).start()
    with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}) as client:
        assert client.get(server.base_url(edition) + "segments").status_code == 200
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get(server.base_url(edition) + "segments")
    server.stop()  # idempotent


def test_base_urls(sandbox: SandboxServer) -> None:
    assert sandbox.base_url() == f"http://127.0.0.1:{sandbox.port}/api/v1/crm/"
    assert sandbox.base_url("crm") == f"http://127.0.0.1:{sandbox.port}/api/v1/crm/"
    assert sandbox.base_url("external") == f"http://127.0.0.1:{sandbox.port}/api/v1/"
    assert sandbox.port > 0


def test_request_log_records_api_requests(api: Api) -> None:
    api.get("crm", "segments")
    api.get("external", "nothing")
    api.inspect("state")
    log = list(api.server.state.request_log)
    assert log == [("GET", "/api/v1/crm/segments", 200), ("GET", "/api/v1/nothing", 404)]
