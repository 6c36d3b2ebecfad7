"""External-ID backfill: matching rules (pure) and the session against the sandbox."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.backfill import (
    WINDOW,
    AcceptedMapping,
    BackfillError,
    BackfillOptions,
    BackfillSession,
    MatchKind,
    auto_decisions,
    automap_crm,
    list_unmapped,
    load_crm_mapping,
    read_crm_file,
    run_backfill,
)
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.progress import CancelToken
from recotap_desktop.engine.runner import RunResult
from recotap_desktop.engine.states import RunState
from recotap_desktop.records.backfill_match import (
    CrmIndex,
    Proposal,
    check_decisions,
    company_key,
    match_accounts,
)
from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer
from recotap_desktop.store.history import History, RowOutcome, RunInfo
from tests.helpers.backfill import Dataset, build_dataset, crm_index

FAST_RETRY = {"retry": RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total=10)}


def _conn(server: SandboxServer, edition: str = "crm") -> ConnectionSpec:
    return ConnectionSpec(
        base_url=server.base_url(edition), edition=edition, api_key=DEMO_API_KEY, profile="test"
    )


@pytest.fixture
def empty_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, accounts=0, faults=Faults(seed=5)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _session(
    server: SandboxServer,
    crm_path: Path,
    history: History,
    tmp_path: Path,
    **options: object,
) -> BackfillSession:
    crm = read_crm_file(crm_path)
    return BackfillSession(
        _conn(server),
        crm,
        history,
        tmp_path / "data",
        options=BackfillOptions(**options),  # type: ignore[arg-type]
        client_kwargs=FAST_RETRY,
    )


def _requests(server: SandboxServer, method: str, suffix: str) -> int:
    return sum(
        1
        for r in list(server.state.request_log)
        if r.method == method and r.path.split("?")[0].endswith(suffix)
    )


# ---------------------------------------------------------------- pure matching
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Inc", "ACME, INC."),
        ("Acme Incorporated", "acme"),
        ("Acme LLC", "Acme Ltd."),
        ("Acme Limited", "Acme GmbH"),
        ("Acme AG", "Acme S.A."),
        ("Acme SAS", "Acme B.V."),
        ("Acme NV", "Acme PLC"),
        ("Acme Corp.", "Acme Corporation"),
        ("Acme Co", "Acme Company"),
        ("Acme Pty Ltd", "Acme Oy"),
        ("Acme AB", "acme"),
        ("Société Générale S.A.", "societe generale"),
        ("Müller & Söhne GmbH & Co. KG", "Muller and Sohne"),
        ("  Blue   Sky-Labs ", "blue sky labs"),
        ("The Widget Company", "Widget"),
        ("O'Reilly Media, Inc.", "OReilly Media"),
        ("Acme S A", "Acme SA"),
    ],
)
def test_company_key_ignores_case_accents_punctuation_and_legal_suffixes(a: str, b: str) -> None:
    assert company_key(a) == company_key(b) != ""


@pytest.mark.parametrize(
    ("a", "b"), [("Acme Holdings", "Acme"), ("Acme Labs", "Acme Lab"), ("Co-op Bank", "Bank")]
)
def test_company_key_keeps_words_that_are_not_legal_suffixes(a: str, b: str) -> None:
    assert company_key(a) != company_key(b)


def test_company_key_of_a_bare_suffix_is_kept() -> None:
    assert company_key("Company") == "company"
    assert company_key("   ") == ""


@dataclass(frozen=True)
class Acc:
    name: str
    domain: str


_MATCH_RULES_CRM = [
    (2, "ID-A", "Alpha Inc", "https://www.alpha.com/"),
    (3, "ID-A", "Alpha", "ALPHA.COM"),  # same id again: one candidate
    (4, "ID-B1", "Beta", "beta.com"),
    (5, "ID-B2", "Beta Two", "www.beta.com"),  # same domain, other id
    (6, "ID-G", "Gamma GmbH", ""),  # name only
    (7, "ID-D1", "Delta", ""),
    (8, "ID-D2", "DELTA LLC", "delta-old.net"),  # name in two rows
    (9, "ID-T", "Twin", ""),  # one row, two accounts by name
    (10, "ID-E", "Epsilon", "epsilon.com"),  # domain for one, name for another
    (11, "", "Nobody", "nobody.com"),  # no id: ignored
]
_MATCH_RULES_ACCOUNTS = [
    Acc("Alpha Corp", "alpha.com"),
    Acc("Beta", "beta.com"),
    Acc("Gamma S.A.", "gamma.io"),
    Acc("Delta", "delta.io"),
    Acc("Twin Inc", "twin-a.com"),
    Acc("Twin Ltd", "twin-b.com"),
    Acc("Epsilon", "epsilon.com"),
    Acc("Epsilon AG", "epsilon.de"),
    Acc("Nobody", "nobody.com"),
    Acc("No Domain", ""),
]


@pytest.fixture
def match_index() -> CrmIndex:
    """The CRM rows of the match-rule tests, indexed."""
    return crm_index(_MATCH_RULES_CRM)


@pytest.fixture
def matched(match_index: CrmIndex) -> dict[str, Proposal]:
    """The match-rule accounts matched against ``match_index``, by domain (or name)."""
    return {p.domain or p.name: p for p in match_accounts(_MATCH_RULES_ACCOUNTS, match_index)}


def test_match_rules_index_rows_with_an_id(match_index: CrmIndex) -> None:
    index = match_index
    assert index.rows == 10 and index.rows_indexed == 9 and index.rows_without_id == 1


def test_match_rules_by_domain(matched: dict[str, Proposal]) -> None:
    got = matched
    assert got["alpha.com"].match is MatchKind.DOMAIN
    assert got["alpha.com"].external_id == "ID-A" and got["alpha.com"].candidates[0].crm_row == 2
    assert got["epsilon.com"].match is MatchKind.DOMAIN


def test_match_rules_by_name(matched: dict[str, Proposal]) -> None:
    got = matched
    assert got["gamma.io"].match is MatchKind.NAME and got["gamma.io"].external_id == "ID-G"


def test_match_rules_ambiguous(matched: dict[str, Proposal]) -> None:
    got = matched
    assert got["beta.com"].match is MatchKind.AMBIGUOUS
    assert {c.external_id for c in got["beta.com"].candidates} == {"ID-B1", "ID-B2"}
    assert got["delta.io"].match is MatchKind.AMBIGUOUS
    assert {c.external_id for c in got["delta.io"].candidates} == {"ID-D1", "ID-D2"}
    assert got["twin-a.com"].match is got["twin-b.com"].match is MatchKind.AMBIGUOUS
    assert [c.external_id for c in got["twin-a.com"].candidates] == ["ID-T"]
    assert got["epsilon.de"].match is MatchKind.AMBIGUOUS
    assert "epsilon.com by domain" in got["epsilon.de"].reason


def test_match_rules_no_match(matched: dict[str, Proposal]) -> None:
    got = matched
    assert got["nobody.com"].match is MatchKind.NONE
    assert got["No Domain"].match is MatchKind.NONE and got["No Domain"].domain == ""


def test_match_rules_default_decisions(matched: dict[str, Proposal]) -> None:
    # Only domain matches by default; name matches when asked; ambiguous never.
    got = matched
    assert {d.domain for d in auto_decisions(got.values())} == {"alpha.com", "epsilon.com"}
    assert {d.domain for d in auto_decisions(got.values(), include_name_matches=True)} == {
        "alpha.com",
        "epsilon.com",
        "gamma.io",
    }


def test_match_rules_choosing_a_candidate(matched: dict[str, Proposal]) -> None:
    # The user resolves an ambiguous one by choosing a candidate.
    chosen = matched["beta.com"].accept(1)
    assert (chosen.domain, chosen.external_id, chosen.match) == (
        "beta.com",
        matched["beta.com"].candidates[1].external_id,
        MatchKind.AMBIGUOUS,
    )
    with pytest.raises(ValueError):
        matched["nobody.com"].accept()


def test_match_rules_an_id_taken_is_not_proposed_again(match_index: CrmIndex) -> None:
    # An id already written elsewhere in this backfill is not proposed again.
    again = match_accounts([Acc("Alpha", "alpha.com")], match_index,
                           taken_ids={"ID-A": "other.com"})
    assert again[0].match is MatchKind.AMBIGUOUS and "other.com" in again[0].reason


def test_check_decisions_refuses_reused_ids_and_domains() -> None:
    a = AcceptedMapping("a.com", "X", 2, MatchKind.DOMAIN)
    assert check_decisions([a]) == []
    assert check_decisions([a, AcceptedMapping("b.com", "X", 3, MatchKind.NAME)])
    assert check_decisions([a, AcceptedMapping("https://A.com", "Y", 3, MatchKind.NAME)])
    assert check_decisions([a], taken_ids={"X": "c.com"})
    assert check_decisions([AcceptedMapping("not a domain", "X", 2, MatchKind.DOMAIN)])


# ---------------------------------------------------------------- CRM files
def test_crm_columns_are_detected_from_real_export_headers() -> None:
    m = automap_crm(["Account ID", "Account Name", "Website", "Owner"])
    assert m.columns == {"externalId": "Account ID", "domain": "Website", "name": "Account Name"}
    m = automap_crm(["Record ID", "Company name", "Company Domain Name", "Website URL"])
    assert m.columns["domain"] == "Company Domain Name"


def test_crm_file_without_an_id_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Company name,Website\nAcme,acme.com\n", encoding="utf-8")
    with pytest.raises(BackfillError, match="ID"):
        read_crm_file(path)


def test_crm_mapping_file_flat_and_saved_forms(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Key,Label,Site\nK1,Acme,acme.com\n", encoding="utf-8")
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"externalId": "Key", "domain": "Site", "name": "Label"}))
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"version": 1, "columns": {"externalId": "Key", "name": "Label"}}))
    crm = read_crm_file(path, mapping=load_crm_mapping(flat))
    assert [c.external_id for c in crm.index.by_domain["acme.com"]] == ["K1"]
    crm = read_crm_file(path, mapping=load_crm_mapping(saved))
    assert not crm.index.by_domain and crm.index.by_name["acme"][0].external_id == "K1"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(BackfillError, match="not valid JSON"):
        load_crm_mapping(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"externalId": "Nope"}))
    with pytest.raises(BackfillError, match="no column 'Nope'"):
        read_crm_file(path, mapping=load_crm_mapping(wrong))


def test_xlsx_crm_export_matches_like_csv(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    ds = build_dataset(40, 5, 1, 1, 1, 3)
    empty_sandbox.state.add_accounts(ds.accounts)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Account ID", "Account Name", "Website"])
    for row in ds.crm_rows:
        ws.append(row[:3])
    path = tmp_path / "crm.xlsx"
    wb.save(path)
    session = _session(empty_sandbox, path, history, tmp_path)
    counts = Counter(p.match.value for p in session.next_round())
    assert counts == {"domain": 40, "name": 5, "ambiguous": 4, "none": 3}


# ---------------------------------------------------------------- against the sandbox
def _step_propose(server: SandboxServer, session: BackfillSession, ds: Dataset) -> list[Proposal]:
    """Step 1: the first round pages every account once and proposes exactly the data set."""
    proposals = session.next_round()
    # The window was full, so every account was found by paging GET /accounts once.
    assert session.scanned and session.listing_complete
    assert _requests(server, "GET", "/accounts") == 20
    assert len(proposals) == 2000
    by_kind: dict[MatchKind, dict[str, object]] = {k: {} for k in MatchKind}
    for p in proposals:
        by_kind[p.match][p.domain] = (
            {c.external_id for c in p.candidates}
            if p.match is MatchKind.AMBIGUOUS
            else p.external_id
        )
    assert by_kind[MatchKind.DOMAIN] == ds.domain
    assert by_kind[MatchKind.NAME] == ds.name
    assert by_kind[MatchKind.AMBIGUOUS] == ds.ambiguous
    assert set(by_kind[MatchKind.NONE]) == ds.none
    assert session.match_counts() == {"domain": 1700, "name": 150, "ambiguous": 50, "none": 100}
    return proposals


def _step_send(session: BackfillSession, proposals: list[Proposal]) -> RunResult:
    """Step 2: domain and name matches are sent, none overwriting, all updated."""
    decisions = auto_decisions(proposals, include_name_matches=True)
    assert len(decisions) == 1850
    assert session.overwrite_check(decisions).count == 0
    result = session.send(decisions)
    assert result is not None and result.state is RunState.FINISHED
    assert result.counts == {"updated": 1850}
    return result


def _step_written(
    server: SandboxServer, session: BackfillSession, expected: dict[str, str]
) -> None:
    """Step 3: Recotap holds exactly the IDs sent, and the next round has nothing left."""
    state = server.state
    for acc in state.all_accounts():
        assert acc["externalId"] == expected.get(acc["domain"]), acc["domain"]
    assert state.counts()["accounts_without_external_id"] == 2000 - 1850
    # The next fetch brings nothing new: done.
    assert session.next_round() == [] and session.finished and not session.blocked


def _step_history(
    history: History, result: RunResult, tmp_path: Path, expected: dict[str, str]
) -> None:
    """Step 4: one id-mappings run in the history, with the provenance file in the data dir."""
    run = history.get_run(result.run_id)
    assert run.kind == "id-mappings" and run.profile == "test"
    assert Path(run.file_path or "").parent == tmp_path / "data" / "backfill"
    with open(run.file_path or "", encoding="utf-8", newline="") as fh:
        sent = list(csv.DictReader(fh))
    assert Counter(r["match"] for r in sent) == {"domain": 1700, "name": 150}
    assert {r["domain"]: r["externalId"] for r in sent} == expected


def _step_report(session: BackfillSession, tmp_path: Path) -> None:
    """Step 5: the report has every listed account once, with its fate."""
    report = tmp_path / "report.csv"
    assert session.write_report(report) == 2000
    assert session.report_path == report
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert Counter((r["match"], r["recotap_state"]) for r in rows) == {
        ("domain", "updated"): 1700,
        ("name", "updated"): 150,
        ("ambiguous", "skipped"): 50,
        ("none", "skipped"): 100,
    }
    amb = next(r for r in rows if r["recotap_domain"] == "dupdom3.example.com")
    assert "AD-3-a" in amb["candidates"] and "AD-3-b" in amb["candidates"]


def test_backfill_2000_accounts_proposes_exactly_and_writes_exactly(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset()
    empty_sandbox.state.add_accounts(ds.accounts)
    assert empty_sandbox.state.counts()["accounts_without_external_id"] == 2000
    crm_path = ds.write_crm(tmp_path / "crm.csv")
    session = _session(empty_sandbox, crm_path, history, tmp_path)

    proposals = _step_propose(empty_sandbox, session, ds)
    result = _step_send(session, proposals)
    expected = {**ds.domain, **ds.name}
    _step_written(empty_sandbox, session, expected)
    _step_history(history, result, tmp_path, expected)
    _step_report(session, tmp_path)


def test_domain_matches_only_leave_name_matches_unmapped(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(300, 40, 5, 5, 2, 20)
    empty_sandbox.state.add_accounts(ds.accounts)
    session = _session(empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path)
    result = run_backfill(session, lambda ps: auto_decisions(ps))
    assert result.state is RunState.FINISHED and result.all_succeeded
    assert result.updated == 300 and result.sent_counts == {"updated": 300}
    assert result.match_counts == {"domain": 300, "name": 40, "ambiguous": 14, "none": 20}
    for d, ext in ds.domain.items():
        assert empty_sandbox.state.account_by_domain(d)["externalId"] == ext  # type: ignore[index]
    for d in ds.name:
        assert empty_sandbox.state.account_by_domain(d)["externalId"] is None  # type: ignore[index]


def test_rounds_without_scan_follow_the_reference_loop(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(320, 0, 0, 0, 0, 60, seed=3)
    empty_sandbox.state.add_accounts(ds.accounts)
    session = _session(
        empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path, scan=False
    )
    seen: list[int] = []

    def decide(proposals):  # type: ignore[no-untyped-def]
        assert len(proposals) <= WINDOW
        seen.append(len(proposals))
        return auto_decisions(proposals)

    result = run_backfill(session, decide)
    assert result.state is RunState.FINISHED and result.listing_complete and not result.blocked
    assert result.updated == 320 and len(result.runs) == result.rounds > 3
    assert sum(seen) == 380  # every account proposed exactly once
    assert _requests(empty_sandbox, "GET", "/accounts") == 0  # no scan
    assert empty_sandbox.state.counts()["accounts_without_external_id"] == 60


def test_window_stuck_behind_unmappable_accounts_needs_the_scan(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(50, 0, 0, 0, 0, 0)
    lonely = [{"name": f"Stuck {i}", "domain": f"stuck{i}.example.com"} for i in range(100)]
    empty_sandbox.state.add_accounts(lonely + ds.accounts)  # 100 unmappable come first
    crm_path = ds.write_crm(tmp_path / "crm.csv")
    session = _session(empty_sandbox, crm_path, history, tmp_path, scan=False)
    result = run_backfill(session, lambda ps: auto_decisions(ps))
    assert result.blocked and not result.listing_complete and result.updated == 0
    assert result.match_counts["none"] == 100 and result.match_counts["domain"] == 0

    session = _session(empty_sandbox, crm_path, history, tmp_path)  # scan (default)
    result = run_backfill(session, lambda ps: auto_decisions(ps))
    assert result.listing_complete and not result.blocked and result.updated == 50
    assert empty_sandbox.state.counts()["accounts_without_external_id"] == 100


def test_list_unmapped_says_whether_it_saw_everything(empty_sandbox: SandboxServer) -> None:
    empty_sandbox.state.add_accounts(
        [{"name": f"Co {i}", "domain": f"co{i}.example.com"} for i in range(130)]
    )
    with _conn(empty_sandbox).open() as client:
        window = list_unmapped(client)
        assert len(window.accounts) == 100 and not window.complete and not window.scanned
        full = list_unmapped(client, scan=True)
        assert len(full.accounts) == 130 and full.complete and full.scanned
        assert full.scanned_accounts == 130
    with _conn(empty_sandbox, "external").open() as client:
        assert len(list_unmapped(client, scan=True).accounts) == 130


def test_overwrites_are_counted_from_earlier_runs(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(5, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    conn = _conn(empty_sandbox)
    earlier = history.create_run(
        RunInfo(kind="id-mappings", profile="test", host=conn.host, file_name="old.csv")
    )
    history.set_outcomes(
        earlier,
        [
            RowOutcome(2, "updated", "", {"domain": "dom0.example.com", "externalId": "OLD-0"}),
            RowOutcome(3, "updated", "", {"domain": "dom1.example.com", "externalId": "D-00001"}),
            RowOutcome(4, "failed", "x", {"domain": "dom2.example.com", "externalId": "OLD-2"}),
        ],
    )
    history.finish_run(earlier, "finished", {"updated": 2, "failed": 1})
    other_host = history.create_run(RunInfo(kind="id-mappings", profile="test", host="elsewhere"))
    history.set_outcomes(
        other_host,
        [RowOutcome(2, "updated", "", {"domain": "dom3.example.com", "externalId": "OLD-3"})],
    )
    session = _session(empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path)
    proposals = {p.domain: p for p in session.next_round()}
    assert proposals["dom0.example.com"].previous_external_id == "OLD-0"
    assert proposals["dom0.example.com"].would_overwrite
    assert not proposals["dom1.example.com"].would_overwrite
    assert proposals["dom2.example.com"].previous_external_id is None  # failed row
    assert proposals["dom3.example.com"].previous_external_id is None  # another server
    check = session.overwrite_check(auto_decisions(proposals.values()))
    assert check.overwrites == (("dom0.example.com", "OLD-0", "D-00000"),)
    assert check.repeats == 1
    assert "OLD-0" in check.message()


def test_not_found_domains_fail_per_row(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(3, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    session = _session(empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path)
    decisions = auto_decisions(session.next_round())
    decisions.append(AcceptedMapping("gone.example.com", "G-1", 99, MatchKind.DOMAIN, "Gone"))
    result = session.send(decisions)
    assert result is not None and result.counts == {"updated": 3, "failed": 1}
    rows = {r[1]: r for r in session.report_rows()}
    assert rows["gone.example.com"][9] == "failed"
    assert "gone.example.com" in str(rows["gone.example.com"][10])
    assert session.sent_counts() == {"updated": 3, "failed": 1}


def test_conflicting_decisions_are_refused_before_sending(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(2, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    session = _session(empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path)
    a, b = session.next_round()
    with pytest.raises(BackfillError, match="one account only"):
        session.send([a.accept(), AcceptedMapping(b.domain, a.external_id or "", 2, a.match)])
    assert _requests(empty_sandbox, "PATCH", "/external-ids") == 0


def test_cancelled_backfill_sends_nothing(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(20, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    token = CancelToken()
    crm = read_crm_file(ds.write_crm(tmp_path / "crm.csv"))
    session = BackfillSession(_conn(empty_sandbox), crm, history, tmp_path, cancel=token)

    def decide(proposals):  # type: ignore[no-untyped-def]
        token.cancel()
        return auto_decisions(proposals)

    result = run_backfill(session, decide)
    assert result.state is RunState.CANCELLED and result.updated == 0
    assert empty_sandbox.state.counts()["accounts_without_external_id"] == 20


def test_dry_run_lists_and_sends_nothing(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    ds = build_dataset(30, 4, 0, 0, 0, 2)
    empty_sandbox.state.add_accounts(ds.accounts)
    session = _session(empty_sandbox, ds.write_crm(tmp_path / "crm.csv"), history, tmp_path)
    result = run_backfill(session, lambda ps: auto_decisions(ps), dry_run=True)
    assert result.state is RunState.FINISHED and result.dry_run and not result.runs
    states = Counter(r[9] for r in session.report_rows())
    assert states == {"not sent": 30, "skipped": 6}
    assert _requests(empty_sandbox, "PATCH", "/external-ids") == 0
    assert history.list_runs() == []


def test_a_cancelled_send_is_an_ordinary_run_that_resumes(
    empty_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    from recotap_desktop.engine.jobs import resume
    from recotap_desktop.engine.progress import ProgressSnapshot
    from recotap_desktop.engine.report import iter_report_rows

    ds = build_dataset(450, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    token = CancelToken()

    class CancelAfterFirstBatch:
        def update(self, snapshot: ProgressSnapshot) -> None:
            if snapshot.phase.value == "send" and snapshot.done >= 100:
                token.cancel()

    crm = read_crm_file(ds.write_crm(tmp_path / "crm.csv"))
    session = BackfillSession(
        _conn(empty_sandbox),
        crm,
        history,
        tmp_path / "data",
        options=BackfillOptions(concurrency=1),
        progress=CancelAfterFirstBatch(),
        cancel=token,
        client_kwargs=FAST_RETRY,
    )
    result = run_backfill(session, lambda ps: auto_decisions(ps))
    assert result.state is RunState.CANCELLED
    (run,) = result.runs
    assert 0 < result.updated < 450
    assert result.sent_counts == {"updated": result.updated, "not sent": 450 - result.updated}

    resumed = resume(history, run.run_id, _conn(empty_sandbox), client_kwargs=FAST_RETRY)
    assert resumed.state is RunState.FINISHED and resumed.counts == {"updated": 450}
    assert {d: v for d, v in _external_ids_of(empty_sandbox).items()} == ds.domain
    headers, rows = iter_report_rows(history, run.run_id)
    assert headers[:4] == ["domain", "externalId", "crm_row", "match"]
    assert Counter(r[headers.index("recotap_state")] for r in rows) == {"updated": 450}


def _external_ids_of(server: SandboxServer) -> dict[str, str | None]:
    return {a["domain"]: a["externalId"] for a in server.state.all_accounts()}
