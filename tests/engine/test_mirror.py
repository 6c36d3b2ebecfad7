"""The account mirror against the sandbox over real sockets: full pulls, deltas, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from recotap_desktop.api import RecotapError, RetryPolicy
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.mirror import mirror_for, refresh_mirror
from recotap_desktop.engine.progress import CancelToken, ProgressSnapshot
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.sandbox.faults import Faults

FAST_RETRY = {"retry": RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, max_total=30)}


def conn(server: SandboxServer, edition: str) -> ConnectionSpec:
    return ConnectionSpec(
        base_url=server.base_url(edition), edition=edition, api_key=DEMO_API_KEY, profile="test"
    )


def api_gets(server: SandboxServer) -> int:
    return sum(1 for r in server.state.request_log if r.method == "GET" and "/accounts" in r.path)


def server_view(server: SandboxServer, edition: str) -> dict[str, tuple[str, str, object]]:
    lists_custom = edition == "external"
    return {
        a["rtp_aid"]: (a["domain"], a["name"], a["customFields"] if lists_custom else None)
        for a in server.state.all_accounts()
    }


def mirror_view(mirror) -> dict[str, tuple[str, str, object]]:
    out = {}
    for batch in mirror.iter_accounts():
        for a in batch:
            custom = a.custom_fields
            out[a.rtp_aid] = (a.domain, a.name, custom)
    return out


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_first_refresh_is_full_then_one_request_when_nothing_changed(
    sandbox: SandboxServer, tmp_path: Path, edition: str
) -> None:
    c = conn(sandbox, edition)
    mirror = mirror_for(c, tmp_path)
    first = refresh_mirror(c, mirror, concurrency=4)
    assert first.full
    assert first.info.count == len(sandbox.state.accounts) == 3000
    view = mirror_view(mirror)
    expected = server_view(sandbox, edition)
    assert {a: v[:2] for a, v in view.items()} == {a: v[:2] for a, v in expected.items()}

    before = api_gets(sandbox)
    again = refresh_mirror(c, mirror)
    assert not again.full
    assert again.requests == 1
    assert api_gets(sandbox) - before == 1
    assert again.received == 0
    assert again.info.count == 3000


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_a_delta_brings_changed_and_new_accounts(
    sandbox: SandboxServer, tmp_path: Path, edition: str
) -> None:
    c = conn(sandbox, edition)
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    changed = sandbox.state.rescore(7)
    sandbox.state.add_accounts(5)
    result = refresh_mirror(c, mirror)
    assert not result.full
    assert result.received == 12
    assert result.info.count == 3005
    listed = {a.rtp_aid: a for batch in mirror.iter_accounts() for a in batch}
    for aid in changed:
        got = listed[aid]
        assert got.raw["rtp_account_score"] == sandbox.state.get_account(aid)["rtp_account_score"]


def test_external_custom_field_values_are_mirrored(sandbox: SandboxServer, tmp_path: Path) -> None:
    c = conn(sandbox, "external")
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    acc = sandbox.state.all_accounts()[10]
    got = mirror.by_domains([acc["domain"]])[acc["domain"]]
    assert got.custom_fields is not None
    for key, value in acc["customFields"].items():
        assert got.custom_fields[key] == value


def test_crm_lists_no_custom_fields_so_they_are_unknown(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    c = conn(sandbox, "crm")
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    acc = sandbox.state.all_accounts()[10]
    assert mirror.by_domains([acc["domain"]])[acc["domain"]].custom_fields is None


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_a_failed_refresh_leaves_the_previous_mirror(
    sandbox: SandboxServer, tmp_path: Path, edition: str
) -> None:
    c = conn(sandbox, edition)
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    info = mirror.info()
    sandbox.state.add_accounts(3)
    sandbox.faults.rate_5xx = 1.0
    with pytest.raises(RecotapError):
        refresh_mirror(
            c, mirror,
            client_kwargs={"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)},
        )
    with pytest.raises(RecotapError):
        refresh_mirror(
            c, mirror, full=True,
            client_kwargs={"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)},
        )
    sandbox.faults.rate_5xx = 0.0
    assert mirror.info() == info
    assert not mirror.path.with_name(mirror.path.name + ".new").exists()


def test_a_cancelled_full_pull_leaves_the_previous_mirror(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    c = conn(sandbox, "crm")
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    info = mirror.info()
    token = CancelToken()

    class CancelAfterTwoPages:
        def update(self, snap: ProgressSnapshot) -> None:
            if snap.done >= 200:
                token.cancel()

    from recotap_desktop.api import CancelledError

    with pytest.raises(CancelledError):
        refresh_mirror(c, mirror, full=True, progress=CancelAfterTwoPages(), cancel=token)
    assert mirror.info() == info


def test_concurrent_crm_pages_survive_429s_and_5xx(tmp_path: Path) -> None:
    faults = Faults(seed=5, rate_429=0.2, retry_after=0.01, rate_5xx=0.1)
    with SandboxServer(port=0, accounts=1234, faults=faults) as server:
        c = conn(server, "crm")
        mirror = mirror_for(c, tmp_path)
        result = refresh_mirror(c, mirror, concurrency=6, client_kwargs=FAST_RETRY)
        assert result.throttled > 0
        assert result.info.count == 1234
        faults.rate_429 = faults.rate_5xx = 0.0
        assert {a: v[:2] for a, v in mirror_view(mirror).items()} == {
            a: v[:2] for a, v in server_view(server, "crm").items()
        }


def test_the_mirror_file_is_private_and_holds_no_key(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    c = conn(sandbox, "external")
    mirror = mirror_for(c, tmp_path)
    refresh_mirror(c, mirror)
    assert DEMO_API_KEY.encode() not in mirror.path.read_bytes()
    import os
    import stat
    import sys

    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(mirror.path).st_mode) == 0o600


def test_an_export_advances_the_same_mirror(sandbox: SandboxServer, tmp_path: Path) -> None:
    from recotap_desktop.engine.export import ExportOptions, export_accounts
    from recotap_desktop.store.history import History

    c = conn(sandbox, "external")
    history = History(tmp_path / "history.sqlite3")
    try:
        mirror = mirror_for(c, tmp_path)
        # a filtered pull does not touch it
        export_accounts(c, tmp_path / "some.csv", history, ExportOptions(min_score=50))
        assert not mirror.info().exists
        # a full pull fills it: the next refresh is one request
        result = export_accounts(c, tmp_path / "all.csv", history, ExportOptions(mode="full"))
        assert mirror.info().count == result.exported == 3000
        before = api_gets(sandbox)
        assert refresh_mirror(c, mirror).requests == 1
        assert api_gets(sandbox) - before == 1
        # a delta pull brings the changes in
        changed = sandbox.state.rescore(5)
        export_accounts(c, tmp_path / "delta.csv", history, ExportOptions(mode="delta"))
        listed = {a.rtp_aid: a for batch in mirror.iter_accounts() for a in batch}
        for aid in changed:
            assert listed[aid].raw["rtp_account_score"] == (
                sandbox.state.get_account(aid)["rtp_account_score"])
        assert refresh_mirror(c, mirror).received == 0
    finally:
        history.close()


def test_a_failed_export_leaves_the_mirror(sandbox: SandboxServer, tmp_path: Path) -> None:
    from recotap_desktop.engine.export import ExportOptions, export_accounts
    from recotap_desktop.store.history import History

    c = conn(sandbox, "crm")
    history = History(tmp_path / "history.sqlite3")
    try:
        mirror = mirror_for(c, tmp_path)
        refresh_mirror(c, mirror)
        info = mirror.info()
        sandbox.state.add_accounts(4)
        sandbox.faults.rate_5xx = 1.0
        result = export_accounts(
            c, tmp_path / "all.csv", history, ExportOptions(mode="full"),
            client_kwargs={"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)})
        sandbox.faults.rate_5xx = 0.0
        assert result.state.value == "aborted"
        assert mirror.info() == info
    finally:
        history.close()
