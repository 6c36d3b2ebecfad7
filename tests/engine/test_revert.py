"""Undo a run's updates over the sandbox: every changed value comes back, a value changed
since is left alone and named, created accounts are listed (no delete)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recotap_desktop.engine.jobs import load_custom_fields
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.revert import Verdict, plan_revert, run_revert, write_created_list
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.history import History
from tests.helpers.runs import row_states, sandbox_conn

HEADERS = ["Company Domain Name", "Company name", "Account Owner", "Contract Value"]


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _job(server: SandboxServer, edition: str, path: Path, kind: str = "accounts",
         **options: object) -> ImportJob:
    fields = load_custom_fields(sandbox_conn(server, edition))
    rules = sandbox_conn(server, edition).rules
    mapping = get_kind(kind).automap(sniff(path).headers, ConvertContext.build(rules, fields))
    return ImportJob(kind=kind, path=path, mapping=mapping, rules=rules, custom_fields=fields,
                     options=ImportOptions(**options))  # type: ignore[arg-type]


def _write(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)
    return path


def test_revert_restores_every_changed_value_and_skips_one_changed_since(
    tmp_path: Path, history: History
) -> None:
    with SandboxServer(port=0, accounts=200) as server:
        conn = sandbox_conn(server, "external")
        targets = server.state.all_accounts()[:20]
        originals = {a["domain"]: (a["name"], dict(a["customFields"])) for a in targets}
        rows = [[a["domain"], a["name"] + " Renamed", f"Owner {i}", str(1000 + i)]
                for i, a in enumerate(targets)]
        rows.append(["created-by-run.revert-example.org", "Brand New", "", ""])
        path = _write(tmp_path / "acc.csv", HEADERS, rows)
        run = ImportRunner(build_plan(_job(server, "external", path, upsert=True)), conn,
                           history).run()
        states = row_states(history, run.run_id)
        assert list(states.values()).count("updated") == 20 and states[22] == "created"

        # someone changes one value after the run
        changed = targets[3]
        server.state.accounts[changed["rtp_aid"]]["customFields"]["ACCOUNT_OWNER_C"] = "Zed"
        server.state.touch(changed["rtp_aid"])

        plan = plan_revert(history, run.run_id, conn, tmp_path)
        assert len(plan.rows) == 20 and len(plan.created) == 1
        verdicts = {(r.domain, f.field): f.verdict for r in plan.rows for f in r.fields}
        assert verdicts[(changed["domain"], "customFields.ACCOUNT_OWNER_C")] is Verdict.CHANGED
        assert verdicts[(changed["domain"], "name")] is Verdict.RESTORE
        assert write_created_list(plan, tmp_path / "created.csv") == 1

        result = run_revert(history, plan, conn)
        assert result.counts == {"updated": 20}
        for a in targets:
            now = server.state.account_by_domain(a["domain"])
            name, custom = originals[a["domain"]]
            assert now["name"] == name
            if a["domain"] == changed["domain"]:
                assert now["customFields"]["ACCOUNT_OWNER_C"] == "Zed"  # left alone
            else:
                for key in ("ACCOUNT_OWNER_C", "CONTRACT_VALUE_C"):
                    assert now["customFields"].get(key) == custom.get(key)
        # a second undo has nothing left to restore
        again = plan_revert(history, run.run_id, conn, tmp_path)
        assert not any(r.restores for r in again.rows)


def test_revert_of_account_field_values(tmp_path: Path, history: History) -> None:
    with SandboxServer(port=0, accounts=100) as server:
        conn = sandbox_conn(server, "external")
        targets = server.state.all_accounts()[:5]
        before = {a["rtp_aid"]: a["customFields"].get("CONTRACT_VALUE_C") for a in targets}
        path = _write(tmp_path / "f.csv", ["Recotap account ID", "Contract Value"],
                      [[a["rtp_aid"], "777"] for a in targets])
        run = ImportRunner(build_plan(_job(server, "external", path, kind="account-fields")),
                           conn, history).run()
        assert set(row_states(history, run.run_id).values()) <= {"updated", "unchanged"}
        result = run_revert(history, plan_revert(history, run.run_id, conn, tmp_path), conn)
        assert result.counts.get("failed", 0) == 0
        for aid, value in before.items():
            assert server.state.get_account(aid)["customFields"].get("CONTRACT_VALUE_C") == value


def test_crm_names_cannot_be_written_back(tmp_path: Path, history: History) -> None:
    with SandboxServer(port=0, accounts=50) as server:
        conn = sandbox_conn(server, "crm")
        # an account without externalId is adopted (and renamed) by a CRM import
        acc = next(a for a in server.state.all_accounts() if not a["externalId"])
        path = _write(tmp_path / "a.csv", ["Record ID", "Company name", "Company Domain Name"],
                      [["adopt-1", acc["name"] + " X", acc["domain"]]])
        run = ImportRunner(build_plan(_job(server, "crm", path)), conn, history).run()
        assert row_states(history, run.run_id) == {2: "updated"}
        plan = plan_revert(history, run.run_id, conn, tmp_path)
        fields = {f.field: f for f in plan.rows[0].fields}
        assert fields["name"].verdict is Verdict.CANNOT
        assert fields["externalId"].verdict is Verdict.CANNOT
        result = run_revert(history, plan, conn)
        assert result.counts == {"skipped": 1}
