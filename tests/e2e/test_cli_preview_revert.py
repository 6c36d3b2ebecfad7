"""``recotap import`` shows what a file will do and sends only what changes; ``recotap
revert`` undoes a run's updates (issue 16), over the sandbox with faults on."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.sandbox.faults import Faults

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}
HEADERS = ["Company Domain Name", "Company name", "Record ID"]


def _run(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err, env=dict(ENV))
    return code, err.getvalue()


def _file(server: SandboxServer, path: Path) -> tuple[Path, dict[int, str]]:
    existing = [a for a in server.state.all_accounts() if a["externalId"]][:60]
    rows, planned = [], {}
    for i, a in enumerate(existing):
        rows.append([a["domain"], a["name"] + (" Group" if i % 3 == 0 else ""),
                     a["externalId"]])
        planned[len(rows) + 1] = "update" if i % 3 == 0 else "unchanged"
    for j in range(25):
        rows.append([f"cli{j}.preview-cli.org", f"Cli {j}", f"cli-{j}"])
        planned[len(rows) + 1] = "create"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows)
    return path, planned


def _column(path: Path, name: str) -> dict[int, str]:
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return {int(r["recotap_row"]): r[name] for r in rows}


def _posts(server: SandboxServer) -> int:
    return sum(1 for r in server.state.request_log
               if r.method == "POST" and r.path.endswith("/accounts"))


def test_dry_run_preview_real_run_second_run_and_revert(tmp_path: Path) -> None:
    faults = Faults(seed=3, rate_5xx=0.10, rate_drop_after=0.05, retry_after=0.01)
    with SandboxServer(port=0, accounts=400, faults=faults) as server:
        base = ["--data-dir", str(tmp_path / "d"), "--base-url",
                server.base_url("external"), "--edition", "external"]
        path, planned = _file(server, tmp_path / "acc.csv")
        before = {a["domain"]: a["name"] for a in server.state.all_accounts()}

        code, err = _run([*base, "import", "accounts", str(path), "--upsert", "--dry-run",
                          "--report", str(tmp_path / "dry.csv")])
        assert code == 0, err
        assert "Planned: 25 create, 20 update, 40 unchanged." in err
        assert _column(tmp_path / "dry.csv", "recotap_planned") == planned
        assert " Group" in _column(tmp_path / "dry.csv", "recotap_changes")[2]

        code, err = _run([*base, "import", "accounts", str(path), "--upsert", "--yes",
                          "--report", str(tmp_path / "run.csv")])
        assert code == 0, err
        states = _column(tmp_path / "run.csv", "recotap_state")
        want = {"create": "created", "update": "updated", "unchanged": "unchanged"}
        assert states == {r: want[p] for r, p in planned.items()}

        posts = _posts(server)
        code, err = _run([*base, "import", "accounts", str(path), "--upsert", "--yes"])
        assert code == 0, err
        assert "Planned: 85 unchanged." in err
        assert _posts(server) == posts

        run_id = 2  # the dry run is run 1
        code, err = _run([*base, "revert", str(run_id), "--dry-run",
                          "--created-list", str(tmp_path / "created.csv"),
                          "--report", str(tmp_path / "undo-plan.csv")])
        assert code == 0, err
        assert "20 values to restore" in err and "25 accounts this run created" in err
        assert len(_column(tmp_path / "created.csv", "domain")) == 25
        # the dry run's report: every field of every updated row, with its verdict
        assert "What the undo would do, field by field (20 lines)" in err
        with (tmp_path / "undo-plan.csv").open(encoding="utf-8-sig", newline="") as fh:
            plan_rows = list(csv.DictReader(fh))
        assert len(plan_rows) == 20 and {r["verdict"] for r in plan_rows} == {"restore"}
        assert all(r["field"] == "name" and r["send_back"] != r["run_wrote"]
                   for r in plan_rows)
        code, err = _run([*base, "revert", str(run_id), "--yes"])
        assert code == 0, err
        for domain, name in before.items():
            now = server.state.account_by_domain(domain)
            assert now is not None and now["name"] == name


def test_revert_refuses_a_value_changed_since(tmp_path: Path) -> None:
    with SandboxServer(port=0, accounts=100) as server:
        base = ["--data-dir", str(tmp_path / "d"), "--base-url",
                server.base_url("external"), "--edition", "external"]
        path, _planned = _file(server, tmp_path / "acc.csv")
        assert _run([*base, "import", "accounts", str(path), "--upsert", "--yes"])[0] == 0
        first = [a for a in server.state.all_accounts() if a["externalId"]][0]
        server.state.accounts[first["rtp_aid"]]["name"] = "Changed By Someone"
        server.state.touch(first["rtp_aid"])
        code, err = _run([*base, "revert", "1", "--yes"])
        assert code == 1, err
        assert "changed since this run" in err and "Changed By Someone" in err
        assert server.state.account_by_domain(first["domain"])["name"] == "Changed By Someone"


@pytest.mark.parametrize("flag", ["--send-unchanged"])
def test_send_unchanged_sends_them(tmp_path: Path, flag: str) -> None:
    with SandboxServer(port=0, accounts=100) as server:
        base = ["--data-dir", str(tmp_path / "d"), "--base-url",
                server.base_url("external"), "--edition", "external"]
        path, _planned = _file(server, tmp_path / "acc.csv")
        assert _run([*base, "import", "accounts", str(path), "--upsert", "--yes"])[0] == 0
        posts = _posts(server)
        code, err = _run([*base, "import", "accounts", str(path), "--upsert", "--yes", flag])
        assert code == 0, err
        assert _posts(server) > posts


@pytest.mark.posix_only(reason="sends SIGINT to a child process")
def test_ctrl_c_while_reading_recotaps_accounts_sends_nothing(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    with SandboxServer(port=0, accounts=2000) as server:
        server.faults.latency = 0.3  # the first full pull takes several seconds
        path, _planned = _file(server, tmp_path / "acc.csv")
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "RECOTAP_API_KEY": DEMO_API_KEY, "PYTHONPATH": str(root)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "recotap_desktop.cli", "--data-dir", str(tmp_path / "d"),
             "--base-url", server.base_url("crm"), "import", "accounts", str(path), "--yes"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            seen = ""
            while "reading Recotap's accounts" not in seen:
                char = proc.stderr.read(1)
                assert char, seen
                seen += char
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 130, seen + err
        assert not any(r.method == "POST" for r in server.state.request_log)
