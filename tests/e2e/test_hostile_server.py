"""Every CLI command against a hostile server (issue 15, "Tests").

A proxy on 127.0.0.1 in front of the sandbox plays one mode at a time (see
``hostile_kit``); ``recotap`` runs in a child process with a distinctive API key. For
each mode and command the test asserts the exit code, that the child's peak memory
stays within a margin of the same command's peak against the honest server, and
that the key is nowhere: not in stdout, stderr, the data directory (history
database included, byte for byte), the logs, the reports or the output files.

Modes × commands covered (``MATRIX``): HTML instead of JSON, a truncated JSON
document, valid JSON without the envelope, the key echoed in messages and per-row
errors, the key in validation constraints, a redirect whose ``Location`` carries
the key; per-item results in another order (``test_reordered_results_*``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.sandbox import SandboxServer
from tests.e2e import hostile_kit as hk
from tests.engine.loopback_kit import Proxy

#: Margin over the honest run's peak memory (MiB). The modes' bodies are small except
#: in the size modes, whose 256 MiB body a client that buffered it whole would exceed
#: the margin with many times over; a bounded client reads at most a few tens of MiB.
RSS_MARGIN_MIB = 96
HUGE = 256 << 20
#: The overall deadline per request in the trickle mode (seconds; the app's default is
#: at least a minute, which the child shortens through ``main(client_kwargs=...)``).
TRICKLE_DEADLINE = "1.5"


# ---- commands ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One CLI command: its arguments given the work folder and the server's data."""

    name: str
    args: Callable[[Path, SandboxServer], list[str]]
    writes: bool


def _accounts(server: SandboxServer) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    accounts = server.state.all_accounts()
    return ([a for a in accounts if a["externalId"]][:3],
            [a for a in accounts if not a["externalId"]][:3])


def _import(kind: str) -> Callable[[Path, SandboxServer], list[str]]:
    def args(work: Path, server: SandboxServer) -> list[str]:
        mapped, unmapped = _accounts(server)
        if kind == "account-fields":
            text = "Record ID,Contract Value\n" + "".join(
                f"{a['externalId']},{(i + 1) * 1000}\n" for i, a in enumerate(mapped))
            path = work / "account-fields.csv"
            path.write_text(text, encoding="utf-8")
        elif kind == "id-mappings":
            text = "Website,Record ID\n" + "".join(
                f"{a['domain']},map-{i}\n" for i, a in enumerate(unmapped))
            path = work / "id-mappings.csv"
            path.write_text(text, encoding="utf-8")
        else:
            path = hk.write_inputs(work)[kind]
        return ["import", kind, str(path), "--yes", "--report", str(work / f"report-{kind}.csv")]
    return args


def _backfill(work: Path, server: SandboxServer) -> list[str]:
    _, unmapped = _accounts(server)
    path = work / "crm.csv"
    path.write_text("Record ID,Website,Company name\n" + "".join(
        f"bf-{i},{a['domain']},{a['name']}\n" for i, a in enumerate(unmapped)), encoding="utf-8")
    return ["backfill", str(path), "--yes", "--report", str(work / "report-backfill.csv")]


COMMANDS = {c.name: c for c in [
    *(Command(f"import-{kind}", _import(kind), True) for kind in (
        "accounts", "deals", "activities", "pipelines", "account-fields", "id-mappings")),
    Command("export", lambda w, s: ["export", "accounts", str(w / "export.csv"), "--full"], False),
    Command("segments", lambda w, s: ["segments"], False),
    Command("fields", lambda w, s: ["fields", "list"], False),
    Command("fields-create", lambda w, s: ["fields", "create", "Hostile Field", "--type",
                                           "number"], True),
    Command("unmapped", lambda w, s: ["unmapped"], False),
    Command("backfill", _backfill, True),
]}


# ---- modes and what each command must do under it ------------------------------------

MODES = {
    "html": hk.Mode("html", takeover=hk.html_takeover),
    "truncated": hk.Mode("truncated", takeover=hk.truncated_takeover),
    "no-envelope": hk.Mode("no-envelope", rewrite=hk.no_envelope_rewrite),
    "echo": hk.Mode("echo", rewrite=hk.echo_rewrite),
    "echo-validation": hk.Mode("echo-validation", rewrite=hk.echo_validation_rewrite),
    "redirect": hk.Mode("redirect", rewrite=hk.redirect_rewrite),
    "huge": hk.Mode("huge", takeover=hk.Huge(HUGE)),
    "huge-error": hk.Mode("huge-error", takeover=hk.Huge(HUGE, status=503)),
    "trickle": hk.Mode("trickle", takeover=hk.Trickle(every=0.5),
                       env={"HOSTILE_DEADLINE": TRICKLE_DEADLINE}),
}

#: Exit codes (README): 0 all rows succeeded, 1 the run finished with failed rows,
#: 2 nothing usable was sent/created, 3 the API was unusable or the run aborted.
_UNUSABLE = dict.fromkeys(COMMANDS, 3)
EXPECTED: dict[str, dict[str, int]] = {
    # An answer the client cannot read is never taken as a result: every command stops.
    "html": _UNUSABLE,
    "truncated": _UNUSABLE,
    "no-envelope": _UNUSABLE,
    "redirect": _UNUSABLE,
    # Too much, too slowly: the answer is cut (size limit, deadline), never waited for
    # or buffered whole.
    "huge": _UNUSABLE,
    "huge-error": _UNUSABLE,
    "trickle": {name: 3 for name in ("segments", "export", "import-deals", "backfill")},
    # Reads work; bulk writes answer every item failed with the key in its error;
    # other writes are refused (400) with the key in the message.
    "echo": {
        "import-accounts": 1, "import-deals": 1, "import-activities": 1,
        "import-pipelines": 1, "import-account-fields": 1, "import-id-mappings": 3,
        "export": 0, "segments": 0, "fields": 0, "fields-create": 2, "unmapped": 0,
        "backfill": 3,
    },
    # Only writes are touched: each is refused with a validation 400 quoting the key.
    "echo-validation": {
        "import-accounts": 1, "import-deals": 1, "import-activities": 1,
        "import-pipelines": 1, "import-account-fields": 1, "import-id-mappings": 1,
        "fields-create": 2, "backfill": 1,
    },
}

MATRIX = [(mode, command) for mode, codes in EXPECTED.items() for command in codes]


# ---- running ----------------------------------------------------------------------------

@dataclass
class Run:
    outcome: hk.Outcome
    work: Path
    server: SandboxServer
    proxy: Proxy


def _run(mode: hk.Mode, command: Command, work: Path, edition: str = "crm") -> Run:
    work.mkdir(parents=True, exist_ok=True)
    with hk.hostile(mode) as (server, proxy):
        args = ["--data-dir", str(work / "data"), "--base-url", proxy.base_url(edition)]
        if edition != "crm":
            args += ["--edition", edition]
        outcome = hk.run_cli([*args, *command.args(work, server)], work, mode.env)
        return Run(outcome, work, server, proxy)


@pytest.fixture(scope="module")
def honest_peak(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], int | None]:
    """Peak RSS (KiB) of a command against the honest server (measured once per command)."""
    measured: dict[str, int | None] = {}

    def peak(name: str) -> int | None:
        if name not in measured:
            run = _run(hk.Mode("honest"), COMMANDS[name], tmp_path_factory.mktemp(name))
            assert run.outcome.code == 0, (name, run.outcome.stderr)
            measured[name] = run.outcome.peak_rss_kib
        return measured[name]
    return peak


def _assert_key_nowhere(run: Run) -> None:
    leaks = [str(p.relative_to(run.work)) for p in hk.files_holding(run.work, hk.KEY.encode())]
    assert leaks == [], f"the API key was written to {leaks}"
    assert hk.KEY not in run.outcome.stdout and hk.KEY not in run.outcome.stderr


def _assert_memory_bounded(run: Run, name: str,
                           honest_peak: Callable[[str], int | None]) -> None:
    peak, honest = run.outcome.peak_rss_kib, honest_peak(name)
    if peak is None or honest is None:
        return  # not measurable on this system (Windows); the POSIX runs cover it
    assert peak <= honest + RSS_MARGIN_MIB * 1024, (
        f"peak RSS {peak // 1024} MiB vs {honest // 1024} MiB against the honest server")


@pytest.mark.parametrize(("mode", "command"), MATRIX, ids=[f"{m}-{c}" for m, c in MATRIX])
def test_command_under_hostile_mode(mode: str, command: str, tmp_path: Path,
                                    honest_peak: Callable[[str], int | None]) -> None:
    run = _run(MODES[mode], COMMANDS[command], tmp_path)
    out = run.outcome
    assert out.code == EXPECTED[mode][command], (out.code, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    _assert_key_nowhere(run)
    _assert_memory_bounded(run, command, honest_peak)
    if command == "export" and out.code != 0:
        assert not (tmp_path / "export.csv").exists()


# ---- reordered per-item results ---------------------------------------------------------

def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_reordered_results_pair_accounts_by_identity(edition: str, tmp_path: Path) -> None:
    """One row names an account that exists (fails), three are new; answers come shuffled."""

    def args(work: Path, server: SandboxServer) -> list[str]:
        existing = _accounts(server)[0][0]
        path = work / "accounts.csv"
        path.write_text(
            "Record ID,Company name,Website\n"
            "hx-1,Hostile One,hostile-one.example.com\n"
            f"{existing['externalId']},Existing,{existing['domain']}\n"
            "hx-3,Hostile Three,hostile-three.example.com\n"
            "hx-4,Hostile Four,hostile-four.example.com\n", encoding="utf-8")
        return ["import", "accounts", str(path), "--yes", "--report", str(work / "r.csv")]

    run = _run(hk.Mode("reordered", shuffle=True), Command("accounts", args, True), tmp_path,
               edition)
    assert run.outcome.code == 1, run.outcome.stderr
    assert run.server.state.fault_counts["shuffle"] >= 1
    rows = _report(tmp_path / "r.csv")
    states = {r["Record ID"]: r["recotap_state"] for r in rows}
    existing = next(r["Record ID"] for r in rows if not r["Record ID"].startswith("hx-"))
    assert states == {"hx-1": "created", existing: "failed", "hx-3": "created",
                      "hx-4": "created"}
    for row in rows:
        if row["recotap_state"] == "created":
            assert row["recotap_externalId"] == row["Record ID"]
            assert row["recotap_domain"] == row["Website"]
            stored = run.server.state.get_account(row["recotap_rtp_aid"])
            assert stored is not None and stored["domain"] == row["Website"]


@pytest.mark.parametrize(("kind", "id_column", "answer_column"), [
    ("deals", "Deal ID", "recotap_externalDealId"),
    ("activities", "Activity ID", "recotap_externalActivityId"),
])
def test_reordered_results_pair_other_kinds_by_identity(kind: str, id_column: str,
                                                        answer_column: str,
                                                        tmp_path: Path) -> None:
    mode = hk.Mode("reordered", shuffle=True)
    run = _run(mode, Command(kind, _import(kind), True), tmp_path)
    assert run.outcome.code == 0, run.outcome.stderr
    assert run.server.state.fault_counts["shuffle"] >= 1
    rows = _report(tmp_path / f"report-{kind}.csv")
    assert len(rows) == 3
    for row in rows:
        assert row[answer_column] == row[id_column], row


def test_reordered_activity_outcomes_follow_their_ids(tmp_path: Path) -> None:
    """ha-2 was already delivered (create-only: it fails); the others are created."""

    def args(work: Path, server: SandboxServer) -> list[str]:
        server.state.create_activities([{
            "externalActivityId": "ha-2", "activityType": "email",
            "occurredAt": "2026-04-02T10:30:00Z", "domain": "acme.example.com",
            "ownerEmail": "jane@you.example", "contacts": [{"email": "b@x.example"}]}])
        return _import("activities")(work, server)

    run = _run(hk.Mode("reordered", shuffle=True), Command("activities", args, True), tmp_path)
    assert run.outcome.code == 1, run.outcome.stderr
    rows = _report(tmp_path / "report-activities.csv")
    assert {r["Activity ID"]: r["recotap_state"] for r in rows} == {
        "ha-1": "created", "ha-2": "failed", "ha-3": "created"}


# ---- the harness itself ------------------------------------------------------------------

def test_honest_server_passes_every_command(tmp_path: Path,
                                            honest_peak: Callable[[str], int | None]) -> None:
    """The baseline: every command exits 0 against the honest proxy (and the key stays out)."""
    for name, command in COMMANDS.items():
        run = _run(hk.Mode("honest"), command, tmp_path / name)
        assert run.outcome.code == 0, (name, run.outcome.stderr)
        _assert_key_nowhere(run)
        assert run.proxy.requests, name


def test_leak_detector_finds_a_planted_key(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.sqlite3").write_bytes(b"\x00\x01" + hk.KEY.encode() + b"\x00")
    assert hk.files_holding(tmp_path, hk.KEY.encode()) == [tmp_path / "data" / "x.sqlite3"]


def test_every_mode_is_in_the_matrix() -> None:
    assert {m for m, _ in MATRIX} == set(MODES)
