"""The API key never shows up in reprs, error texts or log output."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from api_testkit import FAST, KEY, Api, error_response

from recotap_desktop.api import (
    AuthError,
    ConfigError,
    RecotapClient,
    RecotapError,
    SecretFilter,
    TransportError,
    redact,
)
from recotap_desktop.api.client import _FILTERED_LOGGERS


class _EchoKeyHandler(BaseHTTPRequestHandler):
    """Answers 401 and (rudely) echoes the key it received in the error text."""

    def do_GET(self) -> None:
        key = self.headers.get("X-Api-Key", "")
        body = json.dumps({"statusCode": 401, "message": "Unauthorized",
                           "customMessage": f"Invalid API key {key}", "data": None}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Echo", key)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoKeyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/crm/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_key_absent_everywhere_over_a_real_socket(
    echo_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with RecotapClient(KEY, base_url=echo_server, retry=FAST) as client:
        assert KEY not in repr(client) and KEY not in str(vars(client))
        with pytest.raises(AuthError) as info:
            client.verify()
    exc = info.value
    texts = [str(exc), repr(exc), exc.message, exc.server_message, *exc.details,
             "".join(traceback.format_exception(exc))]
    for text in texts:
        assert KEY not in text
    assert "Invalid API key ***" in exc.server_message
    assert caplog.records, "httpx/httpcore should have logged at DEBUG"
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()


def test_retry_log_lines_have_no_key(api: Api, client: RecotapClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    api.route("GET", "accounts/custom-fields").mock(side_effect=[
        error_response(429), httpx.Response(200, json={"data": []})])
    client.list_custom_fields()
    assert "retrying" in caplog.text
    assert KEY not in caplog.text


def test_filter_masks_records_logged_with_the_key(client: RecotapClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").debug("header X-Api-Key: %s", KEY)
    try:
        raise ValueError(f"boom {KEY}")
    except ValueError:
        logging.getLogger("recotap_desktop.api.client").exception("failed with %s", KEY)
    assert KEY not in caplog.text
    assert "X-Api-Key: ***" in caplog.text


def test_filters_are_detached_on_close() -> None:
    client = RecotapClient(KEY)
    flt = client._secret_filter
    assert all(flt in logging.getLogger(n).filters for n in _FILTERED_LOGGERS)
    client.close()
    assert not any(flt in logging.getLogger(n).filters for n in _FILTERED_LOGGERS)


def test_transport_error_texts_have_no_key(api: Api, client: RecotapClient) -> None:
    api.route("GET", "accounts/custom-fields").mock(
        side_effect=httpx.ConnectError(f"weird proxy said {KEY}"))
    with pytest.raises(TransportError) as info:
        client.list_custom_fields()
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert KEY not in "".join(traceback.format_exception(info.value))


def test_config_errors_do_not_echo_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        RecotapClient(KEY + "\n" + KEY)
    assert KEY not in str(info.value)
    with pytest.raises(ConfigError, match="No API key"):
        RecotapClient("   ")


def test_redact() -> None:
    assert redact(f"a {KEY} b {KEY}", KEY) == "a *** b ***"
    assert redact("nothing", KEY) == "nothing"
    assert redact("text", "") == "text"
    assert redact("text", None) == "text"


def test_secret_filter_unit() -> None:
    flt = SecretFilter(["short", "shorter-secret"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a %s b %d", ("shorter-secret", 3),
                               None)
    assert flt.filter(record) is True
    assert record.getMessage() == "a *** b 3"
    flt.discard("short")
    flt.discard("shorter-secret")
    assert len(flt) == 0
    flt.add("")
    assert len(flt) == 0
    assert "short" not in repr(SecretFilter(["short"]))
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d", (5,), None)
    SecretFilter(["zzz"]).filter(plain)
    assert plain.args == (5,)  # records without secrets are left alone


def test_error_repr_shows_message_only() -> None:
    exc = RecotapError("plain words")
    assert repr(exc) == "RecotapError('plain words')"
    assert str(exc) == "plain words"
