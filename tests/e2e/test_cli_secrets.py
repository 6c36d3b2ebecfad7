"""A server that echoes the API key everywhere: the key must end up nowhere (finding 2).

A loopback proxy in front of the sandbox appends the key to every string of every JSON
answer (messages, per-item errors, account fields, cursors, timestamps) and to a header;
another mode answers with a redirect whose ``Location`` carries the key to another host.
Every command's outputs are then searched for the key: the data directory (history
database, settings), reports, failures files, the exported file, stdout, stderr and the
log records.
"""

from __future__ import annotations

import io
import logging
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import SandboxServer
from tests.engine.loopback_kit import Proxy
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

KEY = "rtp_live_PlantedS3cret_9f8e7d6c"


def plant(value: Any) -> Any:
    """``value`` with the key added to every string in it."""
    if isinstance(value, str):
        return f"{value} {KEY}"
    if isinstance(value, list):
        return [plant(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "statusCode" else plant(v)) for k, v in value.items()}
    return value


def echo_key(method: str, path: str, status: int, doc: Any) -> Any:
    if doc is None:
        return None
    return status, plant(doc), {"X-Echo": KEY}


def redirect(h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
    h.send_response(302)
    h.send_header("Location", f"http://collector.invalid/steal?key={KEY}")
    h.send_header("Content-Length", "0")
    h.end_headers()
    return True


def run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err,
                env={"RECOTAP_API_KEY": KEY})
    return code, out.getvalue() + err.getvalue()


def files_holding_key(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]


@pytest.fixture
def sandbox():
    with SandboxServer(port=0, accounts=30, api_key=KEY) as server:
        yield server


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_a_key_echoed_in_every_answer_is_written_nowhere(
    sandbox: SandboxServer, tmp_path: Path, edition: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rows = account_rows(40, prefix="sec")
    sandbox.state.add_accounts([{"externalId": rows[i][0], "name": "Taken",
                                 "domain": rows[i][2]} for i in (1, 5)])
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, rows)
    outputs = []
    with Proxy(sandbox.root_url, rewrite=echo_key) as proxy:
        base = ["--data-dir", str(tmp_path / "data"), "--base-url", proxy.base_url(edition),
                "--edition", edition]
        code, text = run([*base, "import", "accounts", str(path), "--yes",
                          "--report", str(tmp_path / "report.csv")])
        outputs.append(text)
        assert code in (1, 3), text  # rows failed (the answers name no row sent)
        assert (tmp_path / "report.csv").exists()
        code, text = run([*base, "export", "accounts", str(tmp_path / "pulled.csv")])
        outputs.append(text)
        assert code == 0, text
        assert "***" in (tmp_path / "pulled.csv").read_text(encoding="utf-8-sig")
        for command in (["segments"], ["fields", "list"], ["history"]):
            outputs.append(run([*base, *command])[1])
        if edition == "external":
            outputs.append(run([*base, "unmapped"])[1])
    assert files_holding_key(tmp_path) == []
    assert all(KEY not in text for text in outputs)
    assert KEY not in caplog.text


def test_a_redirect_carrying_the_key_is_not_followed_nor_shown(
    sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(3, prefix="r"))
    with Proxy(sandbox.root_url, takeover=redirect) as proxy:
        base = ["--data-dir", str(tmp_path / "data"), "--base-url", proxy.base_url("crm")]
        outputs = [run([*base, "segments"]), run([*base, "import", "accounts", str(path),
                                                  "--yes", "--report",
                                                  str(tmp_path / "r.csv")])]
        seen = list(proxy.requests)
    assert all(code != 0 for code, _ in outputs)
    assert any("redirect" in text for _, text in outputs)
    assert all(KEY not in text for _, text in outputs)
    assert all("collector" not in p for _, p in seen)  # nothing went anywhere else
    assert files_holding_key(tmp_path) == [] and KEY not in caplog.text
