"""`recotap auth test` detects the edition (issue 18, finding 8) against real sandboxes
that serve one edition each, and says plainly why when neither answers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.paths import app_paths
from recotap_desktop.store.settings import Profile, Settings


def _run(data: Path, key: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--data-dir", str(data), "auth", "test"], stdin=io.StringIO(""),
                stdout=out, stderr=err, env={"RECOTAP_API_KEY": key})
    return code, out.getvalue(), err.getvalue()


def _profile(data: Path, base_url: str, edition: str) -> None:
    paths = app_paths(data).ensure()
    settings = Settings.load(paths)
    settings.upsert_profile(Profile(name="W", edition=edition, base_url=base_url))
    settings.active_profile = "W"
    settings.save()


@pytest.mark.parametrize(("served", "stored"), [("external", "crm"), ("crm", "external")])
def test_auth_test_prints_and_stores_the_edition_that_answers(
        tmp_path: Path, served: str, stored: str) -> None:
    with SandboxServer(accounts=3, editions=[served]) as server:
        _profile(tmp_path, server.base_url(stored), stored)  # the user guessed wrong
        code, out, err = _run(tmp_path, DEMO_API_KEY)
        assert code == 0, err
        assert f"Detected edition: {served} (" in out
        profile = Settings.load(app_paths(tmp_path)).get_profile("W")
        assert profile is not None
        assert (profile.edition, profile.base_url) == (served, server.base_url(served))
        assert profile.last_verified


def test_auth_test_with_a_refused_key_says_401(tmp_path: Path) -> None:
    with SandboxServer(accounts=3, editions=["crm"]) as server:
        _profile(tmp_path, server.base_url("crm"), "crm")
        code, _out, err = _run(tmp_path, "wrong-key")
    assert code != 0
    assert "refused the API key (401)" in err
    profile = Settings.load(app_paths(tmp_path)).get_profile("W")
    assert profile is not None and not profile.last_verified


def test_auth_test_with_nothing_listening_says_unreachable(tmp_path: Path) -> None:
    with SandboxServer(accounts=3) as server:
        url = server.base_url("crm")
    _profile(tmp_path, url, "crm")  # the server is gone: the port refuses connections
    code, _out, err = _run(tmp_path, DEMO_API_KEY)
    assert code != 0 and "Could not reach 127.0.0.1" in err
