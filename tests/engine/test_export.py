"""The account pull (engine/export.py) against the sandbox over real sockets."""

from __future__ import annotations

import csv
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import openpyxl
import pytest

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.export import (
    EXPORT_KIND,
    HISTOGRAM_LABELS,
    ExportError,
    ExportOptions,
    ExportResult,
    default_mode,
    export_accounts,
    load_domains,
    parse_since,
)
from recotap_desktop.engine.progress import CancelMode, CancelToken, Phase, ProgressSnapshot
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer
from recotap_desktop.store.history import History

EDITIONS = ["crm", "external"]
IDENTITY = ["externalId", "domain", "name", "rtp_aid"]
SCORES = [
    "rtp_account_score",
    "rtp_journey_stage",
    "rtp_advertising_activity_score",
    "rtp_website_intent_score",
    "rtp_g2_intent_score",
    "rtp_bombora_intent_score",
    "rtp_last_account_date",
]
SCORE_NUMBERS = [s for s in SCORES if s.endswith("_score")]
TINY_RETRY = RetryPolicy(max_attempts=15, base_delay=0.001, max_delay=0.01, max_total=60.0)


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A sandbox of 3 000 accounts (30 pages) with no faults."""
    s = SandboxServer(port=0, accounts=3000, faults=Faults(seed=4321)).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = History(tmp_path / "history.sqlite3")
    try:
        yield h
    finally:
        h.close()


def spec(server: SandboxServer, edition: str, *, profile: str = "work", key: str = DEMO_API_KEY
         ) -> ConnectionSpec:
    return ConnectionSpec(base_url=server.base_url(edition), edition=edition, api_key=key,
                          profile=profile)


def read_csv(
    path: Path, *, label_row: bool = False
) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """(headers, label row or [], data rows as dicts)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    headers = rows[0]
    labels = rows[1] if label_row else []
    data = rows[2:] if label_row else rows[1:]
    return headers, labels, [dict(zip(headers, r, strict=True)) for r in data]


def number(text: str) -> float | None:
    return float(text) if text != "" else None


def account_gets(server: SandboxServer) -> list[Any]:
    return [r for r in server.state.request_log
            if r.method == "GET" and r.path.endswith("/accounts")]


def is_unscored(acc: dict[str, Any]) -> bool:
    return not acc["rtp_journey_stage"] and not any(acc[s] for s in SCORE_NUMBERS)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


class Recorder:
    """A progress sink that keeps every snapshot and can act after a page."""

    def __init__(self, after_page: Any = None) -> None:
        self.snapshots: list[ProgressSnapshot] = []
        self.after_page = after_page
        self.lock = threading.Lock()

    def update(self, snapshot: ProgressSnapshot) -> None:
        with self.lock:
            self.snapshots.append(snapshot)
        if self.after_page is not None and snapshot.done > 0:
            self.after_page(snapshot)


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to a real HTTP transport and keeps their URLs."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


# ----------------------------------------------------------------------------- full pulls


@pytest.mark.parametrize("edition", EDITIONS)
def test_full_pull_equals_sandbox_accounts(server: SandboxServer, history: History,
                                           tmp_path: Path, edition: str) -> None:
    out = tmp_path / "accounts.csv"
    result = export_accounts(spec(server, edition), out, history,
                             ExportOptions(mode="full", label_row=True))

    assert result.state is RunState.FINISHED, result.message
    assert result.path == out and out.is_file()
    truth = {a["rtp_aid"]: a for a in server.state.all_accounts()}
    headers, labels, rows = read_csv(out, label_row=True)
    # stable column order: identity, every rtp_ field, then custom fields by key
    custom = sorted(f["key"] for f in server.state.list_custom_fields())
    expected_headers = IDENTITY + SCORES + (custom if edition == "external" else [])
    assert headers == expected_headers
    assert labels[:4] == ["External ID", "Domain", "Name", "Recotap account ID"]
    if edition == "external":
        by_key = {f["key"]: f["label"] for f in server.state.list_custom_fields()}
        assert labels[len(IDENTITY + SCORES):] == [by_key[k] for k in custom]
    # every account exactly once, with its scores
    aids = [r["rtp_aid"] for r in rows]
    assert len(aids) == len(set(aids)) == len(truth) == result.exported == result.received
    assert set(aids) == set(truth)
    for r in rows:
        acc = truth[r["rtp_aid"]]
        assert r["domain"] == acc["domain"]
        assert r["externalId"] == (acc["externalId"] or "")
        assert r["rtp_journey_stage"] == acc["rtp_journey_stage"]
        for s in SCORE_NUMBERS:
            assert number(r[s]) == acc[s]
    assert result.duplicates == 0 and result.filtered_out == 0
    # exactly one request per page: the non-null cursor on the last page does not loop
    assert len(account_gets(server)) == math.ceil(len(truth) / 100)
    # the sync point is the first page's server time, stored after success
    assert result.mode == "full" and result.last_sync is None
    assert result.sync_saved and result.sync_timestamp
    assert history.last_sync("work", "accounts", host=spec(server, edition).host) == \
        result.sync_timestamp
    run = history.get_run(result.run_id)
    assert (run.kind, run.state, run.file_name) == (EXPORT_KIND, "finished", "accounts.csv")
    assert run.counts == {"exported": 3000, "duplicates": 0, "filtered": 0, "received": 3000}
    assert run.note == result.message


def test_summary_matches_the_sandbox_scores(server: SandboxServer, history: History,
                                            tmp_path: Path) -> None:
    server.state.add_accounts(40, scored=False)  # fresh accounts: all 0, stage ""
    result = export_accounts(spec(server, "external"), tmp_path / "a.csv", history,
                             ExportOptions(mode="full"))
    accounts = server.state.all_accounts()
    unscored = [a for a in accounts if is_unscored(a)]
    scored = [a for a in accounts if not is_unscored(a)]
    histogram = [0] * 11
    stages: dict[str, int] = {}
    for a in scored:
        histogram[min(10, int(a["rtp_account_score"]) // 10)] += 1
        stages[a["rtp_journey_stage"]] = stages.get(a["rtp_journey_stage"], 0) + 1
    assert result.unscored == len(unscored) >= 40
    assert result.histogram == histogram
    assert len(result.histogram) == len(HISTOGRAM_LABELS) == 11
    assert HISTOGRAM_LABELS[0] == "0–9" and HISTOGRAM_LABELS[-1] == "100+"
    assert result.histogram[-1] > 0  # the sandbox has scores above 100, kept unclamped
    assert result.stages == stages
    assert list(result.stages)[:5] == ["Unaware", "Aware", "Consideration", "Opportunity",
                                       "Customer"]
    assert result.scored + result.unscored == result.exported == len(accounts)


def test_xlsx_output_with_and_without_label_row(server: SandboxServer, history: History,
                                                tmp_path: Path) -> None:
    out = tmp_path / "accounts.xlsx"
    result = export_accounts(spec(server, "external"), out, history,
                             ExportOptions(mode="full", label_row=True))
    assert result.state is RunState.FINISHED
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    assert list(rows[0][:5]) == [*IDENTITY, "rtp_account_score"]
    assert rows[1][4] == "Account score"
    assert len(rows) == 2 + 3000
    by_aid = {a["rtp_aid"]: a for a in server.state.all_accounts()}
    first = rows[2]
    assert first[4] == by_aid[first[3]]["rtp_account_score"]  # a number, not text

    plain = tmp_path / "plain.xlsx"
    export_accounts(spec(server, "external"), plain, history,
                    ExportOptions(mode="full"))
    wb = openpyxl.load_workbook(plain, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    assert len(rows) == 1 + 3000
    assert rows[1][3] in by_aid


def test_multi_value_custom_fields_are_joined(server: SandboxServer, history: History,
                                              tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    export_accounts(spec(server, "external"), out, history, ExportOptions(mode="full"))
    _, _, rows = read_csv(out)
    truth = {a["rtp_aid"]: a for a in server.state.all_accounts()}
    multi = [r for r in rows if truth[r["rtp_aid"]]["customFields"].get("PRODUCT_INTEREST_C")]
    assert multi
    for r in multi:
        assert r["PRODUCT_INTEREST_C"] == "; ".join(
            truth[r["rtp_aid"]]["customFields"]["PRODUCT_INTEREST_C"])
        value = truth[r["rtp_aid"]]["customFields"].get("CONTRACT_VALUE_C")
        assert r["CONTRACT_VALUE_C"] == ("" if value is None else str(value))


# ----------------------------------------------------------------------------- delta sync


@pytest.mark.parametrize("edition", EDITIONS)
def test_delta_returns_exactly_the_changed_accounts(server: SandboxServer, history: History,
                                                    tmp_path: Path, edition: str) -> None:
    conn = spec(server, edition)
    assert default_mode(history, conn) == "full"
    first = export_accounts(conn, tmp_path / "full.csv", history, ExportOptions(mode="full"))
    assert default_mode(history, conn) == "delta"
    changed = set(server.state.rescore(137))

    delta = export_accounts(conn, tmp_path / "delta.csv", history, ExportOptions())
    assert delta.state is RunState.FINISHED
    assert delta.mode == "delta" and delta.last_sync == first.sync_timestamp
    _, _, rows = read_csv(tmp_path / "delta.csv")
    assert {r["rtp_aid"] for r in rows} == changed and len(rows) == len(changed)
    truth = {a["rtp_aid"]: a for a in server.state.all_accounts()}
    for r in rows:
        assert number(r["rtp_account_score"]) == truth[r["rtp_aid"]]["rtp_account_score"]
    assert delta.sync_saved
    assert history.last_sync("work", host=conn.host) == delta.sync_timestamp != first.sync_timestamp

    quiet = export_accounts(conn, tmp_path / "quiet.csv", history, ExportOptions())
    assert quiet.state is RunState.FINISHED and quiet.exported == 0
    assert read_csv(tmp_path / "quiet.csv")[2] == []  # headers (and labels) only


def test_delta_without_an_earlier_pull_is_a_full_pull(server: SandboxServer, history: History,
                                                      tmp_path: Path) -> None:
    result = export_accounts(spec(server, "crm"), tmp_path / "a.csv", history,
                             ExportOptions(mode="delta"))
    assert result.mode == "full" and result.exported == 3000
    assert "No earlier complete pull" in result.message


def test_sync_time_is_per_connection_and_host(server: SandboxServer, history: History,
                                              tmp_path: Path) -> None:
    export_accounts(spec(server, "crm", profile="a"), tmp_path / "a.csv", history,
                    ExportOptions(mode="full"))
    other = spec(server, "crm", profile="b")
    assert default_mode(history, other) == "full"
    moved = ConnectionSpec(base_url="http://localhost:1/api/v1/crm/", edition="crm",
                           api_key=DEMO_API_KEY, profile="a")
    assert default_mode(history, moved) == "full"  # same profile, another server


def test_a_row_seen_twice_is_written_once_and_the_first_page_time_is_kept(
        server: SandboxServer, history: History, tmp_path: Path) -> None:
    # Offset paging (CRM API) over a delta: an account that changes during the pull
    # enters the result set before the current offset and shifts every later row by
    # one, so the row at the next page boundary is sent twice.
    conn = spec(server, "crm")
    export_accounts(conn, tmp_path / "full.csv", history, ExportOptions(mode="full"))
    changed = set(server.state.rescore(1000))
    target = min(a for a in (x["rtp_aid"] for x in server.state.all_accounts())
                 if a not in changed)
    touched = threading.Event()

    def touch(snapshot: ProgressSnapshot) -> None:
        if not touched.is_set():
            touched.set()
            server.state.touch(target)

    result = export_accounts(conn, tmp_path / "delta.csv", history, ExportOptions(),
                             progress=Recorder(touch))
    assert result.state is RunState.FINISHED
    _, _, rows = read_csv(tmp_path / "delta.csv")
    aids = [r["rtp_aid"] for r in rows]
    assert result.duplicates == 1 and result.received == len(aids) + 1
    assert len(aids) == len(set(aids)) and set(aids) == changed
    assert "1 repeated rows were written once" in result.message
    # the account changed during the pull was missed by it, but not by the next delta,
    # because the stored sync time is the first page's
    again = export_accounts(conn, tmp_path / "next.csv", history, ExportOptions())
    assert target in {r["rtp_aid"] for r in read_csv(tmp_path / "next.csv")[2]}
    assert again.exported >= 1


def test_since_a_date(server: SandboxServer, history: History, tmp_path: Path) -> None:
    conn = spec(server, "external")
    first = export_accounts(conn, tmp_path / "full.csv", history, ExportOptions(mode="full"))
    changed = set(server.state.rescore(12))
    result = export_accounts(conn, tmp_path / "since.csv", history,
                             ExportOptions(mode="since", since=first.sync_timestamp))
    assert {r["rtp_aid"] for r in read_csv(tmp_path / "since.csv")[2]} == changed
    # reaching back to the stored sync time is as complete as a delta: it moves it
    assert result.sync_saved and history.last_sync("work", host=conn.host) == result.sync_timestamp

    later = export_accounts(conn, tmp_path / "later.csv", history,
                            ExportOptions(mode="since", since="2999-01-01"))
    assert later.state is RunState.FINISHED and later.exported == 0
    assert not later.sync_saved  # later than the last complete pull: would skip changes
    assert history.last_sync("work", host=conn.host) == result.sync_timestamp

    everything = export_accounts(conn, tmp_path / "all.csv", history,
                                 ExportOptions(mode="since", since="2000-01-01"))
    assert everything.exported == 3000 and everything.last_sync == "2000-01-01T00:00:00.000Z"


def test_parse_since() -> None:
    assert parse_since("2026-04-01").isoformat() == "2026-04-01T00:00:00+00:00"
    assert parse_since("2026-04-01T09:30:00Z").isoformat() == "2026-04-01T09:30:00+00:00"
    assert parse_since("2026-04-01T11:30:00+02:00").isoformat() == "2026-04-01T09:30:00+00:00"
    assert parse_since("2026-04-01T09:30").isoformat() == "2026-04-01T09:30:00+00:00"
    with pytest.raises(ExportError, match="not an ISO 8601"):
        parse_since("April 1st")
    with pytest.raises(ExportError):
        parse_since("")


# ----------------------------------------------------------------------------- cancel and fail


@pytest.mark.parametrize("mode", [CancelMode.FINISH_IN_FLIGHT, CancelMode.STOP_NOW])
def test_cancel_halfway_leaves_no_file_and_the_sync_time(server: SandboxServer, history: History,
                                                         tmp_path: Path, mode: CancelMode) -> None:
    conn = spec(server, "external")
    first = export_accounts(conn, tmp_path / "full.csv", history, ExportOptions(mode="full"))
    server.state.rescore(500)
    out = tmp_path / "new.csv"
    kept = tmp_path / "kept.csv"
    kept.write_text("an older export\n", encoding="utf-8")
    token = CancelToken()
    sink = Recorder(lambda snap: token.cancel(mode))

    for target in (out, kept):
        result = export_accounts(conn, target, history, ExportOptions(), progress=sink,
                                 cancel=token)
        assert result.state is RunState.CANCELLED
        assert result.path is None and not result.sync_saved
        assert "no file was written" in result.message
    assert not out.exists()
    assert kept.read_text(encoding="utf-8") == "an older export\n"
    assert leftovers(tmp_path) == []
    assert history.last_sync("work", host=conn.host) == first.sync_timestamp
    runs = history.list_runs(kind=EXPORT_KIND)
    assert [r.state for r in runs[:2]] == ["cancelled", "cancelled"]
    # the pull stopped early: far fewer pages than the 5 a complete delta needs
    assert sink.snapshots[-1].done < 500


def test_cancel_before_the_start_sends_no_page(server: SandboxServer, history: History,
                                               tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    result = export_accounts(spec(server, "crm"), tmp_path / "a.csv", history, ExportOptions(),
                             cancel=token)
    assert result.state is RunState.CANCELLED and result.received == 0
    assert account_gets(server) == []


def test_rejected_key_aborts_without_file(server: SandboxServer, history: History,
                                          tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    result = export_accounts(spec(server, "external", key="wrong-key"), out, history,
                             ExportOptions(mode="full"))
    assert result.state is RunState.ABORTED
    assert "No file was written" in result.message
    assert not out.exists() and leftovers(tmp_path) == []
    run = history.get_run(result.run_id)
    assert run.state == "aborted" and run.note == result.message
    assert history.last_sync("work") is None


def test_unreachable_server_aborts(history: History, tmp_path: Path) -> None:
    dead = SandboxServer(port=0, accounts=1).start()
    base = dead.base_url("crm")
    dead.stop()
    conn = ConnectionSpec(base_url=base, edition="crm", api_key=DEMO_API_KEY, profile="work")
    result = export_accounts(conn, tmp_path / "a.csv", history, ExportOptions(mode="full"),
                             client_kwargs={"retry": RetryPolicy(max_attempts=2, base_delay=0.001)})
    assert result.state is RunState.ABORTED
    assert not (tmp_path / "a.csv").exists()


def test_server_failing_mid_pull_aborts_and_keeps_sync(server: SandboxServer, history: History,
                                                        tmp_path: Path) -> None:
    conn = spec(server, "crm")
    first = export_accounts(conn, tmp_path / "full.csv", history, ExportOptions(mode="full"))

    def break_server(snapshot: ProgressSnapshot) -> None:
        server.faults.rate_5xx = 1.0

    result = export_accounts(conn, tmp_path / "b.csv", history, ExportOptions(mode="full"),
                             progress=Recorder(break_server),
                             client_kwargs={"retry": RetryPolicy(max_attempts=3, base_delay=0.001)})
    assert result.state is RunState.ABORTED
    assert result.received >= 100
    assert not (tmp_path / "b.csv").exists() and leftovers(tmp_path) == []
    assert history.last_sync("work", host=conn.host) == first.sync_timestamp


@pytest.mark.parametrize("edition", EDITIONS)
def test_faults_still_give_a_complete_duplicate_free_file(history: History, tmp_path: Path,
                                                          edition: str) -> None:
    faults = Faults(rate_429=0.15, retry_after=0.01, rate_5xx=0.15, rate_drop_before=0.1,
                    rate_drop_after=0.05, seed=2024)
    with SandboxServer(port=0, accounts=2500, faults=faults) as server:
        out = tmp_path / "a.csv"
        result = export_accounts(spec(server, edition), out, history, ExportOptions(mode="full"),
                                 client_kwargs={"retry": TINY_RETRY})
        assert result.state is RunState.FINISHED, result.message
        _, _, rows = read_csv(out)
        truth = {a["rtp_aid"]: a for a in server.state.all_accounts()}
        aids = [r["rtp_aid"] for r in rows]
        assert len(aids) == len(set(aids)) == len(truth)
        assert set(aids) == set(truth)
        for r in rows:
            assert number(r["rtp_account_score"]) == truth[r["rtp_aid"]]["rtp_account_score"]
        counts = server.state.fault_counts
        assert counts["429"] and counts["5xx"] and counts["drop_before"]


# ----------------------------------------------------------------------------- filters


def test_domain_filter_is_sent_in_chunks_of_100(server: SandboxServer, history: History,
                                                tmp_path: Path) -> None:
    accounts = server.state.all_accounts()
    wanted = [a["domain"] for a in accounts[::12]][:230]
    messy = [f"https://www.{d}/pricing" for d in wanted[:30]] + wanted[30:]
    unknown = [f"nobody-{i}.example" for i in range(20)]
    transport = RecordingTransport()
    sink = Recorder()
    out = tmp_path / "a.csv"
    result = export_accounts(spec(server, "external"), out, history,
                             ExportOptions(mode="full", domains=messy + unknown),
                             progress=sink, client_kwargs={"transport": transport})
    assert result.state is RunState.FINISHED
    _, _, rows = read_csv(out)
    assert sorted(r["domain"] for r in rows) == sorted(wanted)
    sent: list[list[str]] = []
    for url in transport.urls:
        if url.path.endswith("/accounts"):
            sent.append(json.loads(parse_qs(urlsplit(str(url)).query)["domains"][0]))
    assert [len(chunk) for chunk in sent] == [100, 100, 50]
    assert sorted(d for chunk in sent for d in chunk) == sorted(wanted + unknown)
    assert {s.total for s in sink.snapshots} == {250}  # at most one account per domain
    assert all(s.phase is Phase.PULL for s in sink.snapshots)
    # a filtered pull does not move the sync time
    assert not result.sync_saved and history.last_sync("work") is None
    assert "filtered pull" in result.message


def test_domain_filter_on_the_crm_edition_is_applied_after_download(
        server: SandboxServer, history: History, tmp_path: Path) -> None:
    accounts = server.state.all_accounts()
    wanted = [a["domain"] for a in accounts[5:25]]
    result = export_accounts(spec(server, "crm"), tmp_path / "a.csv", history,
                             ExportOptions(mode="full", domains=[d.upper() for d in wanted]))
    assert result.state is RunState.FINISHED
    rows = read_csv(tmp_path / "a.csv")[2]
    assert sorted(r["domain"] for r in rows) == sorted(wanted)
    assert result.received == 3000 and result.filtered_out == 3000 - len(wanted)
    assert "cannot filter by domain" in result.message
    for r in account_gets(server):
        assert "domains" not in r.path


def test_score_and_stage_filters(server: SandboxServer, history: History, tmp_path: Path) -> None:
    result = export_accounts(spec(server, "external"), tmp_path / "a.csv", history,
                             ExportOptions(mode="full", min_score=60,
                                           stages=[" opportunity", "CUSTOMER"]))
    expected = {a["rtp_aid"] for a in server.state.all_accounts()
                if a["rtp_account_score"] >= 60
                and a["rtp_journey_stage"] in ("Opportunity", "Customer")}
    rows = read_csv(tmp_path / "a.csv")[2]
    assert {r["rtp_aid"] for r in rows} == expected and len(rows) == len(expected)
    assert result.filtered_out == 3000 - len(expected)
    assert set(result.stages) <= {"Opportunity", "Customer"}
    assert sum(result.histogram[:6]) == 0
    assert not result.sync_saved

    none = export_accounts(spec(server, "external"), tmp_path / "b.csv", history,
                           ExportOptions(mode="full", stages=[""]))
    assert none.exported == none.unscored == sum(
        1 for a in server.state.all_accounts() if not a["rtp_journey_stage"])


def test_custom_field_created_during_the_pull_is_named_not_added(
        server: SandboxServer, history: History, tmp_path: Path) -> None:
    created = threading.Event()

    def create(snapshot: ProgressSnapshot) -> None:
        if not created.is_set():
            created.set()
            server.state.create_custom_field("Late Field", "singleLineText", None, None)

    result = export_accounts(spec(server, "external"), tmp_path / "a.csv", history,
                             ExportOptions(mode="full"), progress=Recorder(create))
    assert result.state is RunState.FINISHED
    assert "LATE_FIELD_C" not in result.columns
    assert result.unknown_custom_keys == ["LATE_FIELD_C"]
    assert "LATE_FIELD_C" in result.message
    assert read_csv(tmp_path / "a.csv")[0] == result.columns


# ----------------------------------------------------------------------------- bad options


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("a.json", ExportOptions(mode="full"), "ending in .csv, .tsv, .txt or .xlsx"),
        ("missing/a.csv", ExportOptions(mode="full"), "does not exist"),
        ("a.csv", ExportOptions(mode="sometimes"), "Unknown pull mode"),
        ("a.csv", ExportOptions(mode="since"), "needs a date"),
        ("a.csv", ExportOptions(mode="since", since="yesterday"), "not an ISO 8601"),
        ("a.csv", ExportOptions(mode="full", domains=["  ", "https://"]), "no domain names"),
        ("a.csv", ExportOptions(mode="full", min_score=float("nan")), "not a number"),
    ],
)
def test_bad_options_fail_before_anything_is_sent(server: SandboxServer, history: History,
                                                  tmp_path: Path, name: str,
                                                  options: ExportOptions, match: str) -> None:
    with pytest.raises(ExportError, match=match):
        export_accounts(spec(server, "external"), tmp_path / name, history, options)
    assert history.list_runs() == []
    assert list(server.state.request_log) == []


def test_progress_reports_pages_and_an_estimate_from_the_last_full_pull(
        server: SandboxServer, history: History, tmp_path: Path) -> None:
    conn = spec(server, "crm")
    first = Recorder()
    export_accounts(conn, tmp_path / "a.csv", history, ExportOptions(mode="full"), progress=first)
    dones = [s.done for s in first.snapshots]
    assert dones == sorted(dones) and dones[-1] == 3000
    assert {s.phase for s in first.snapshots} == {Phase.PULL}
    assert all(s.total is None for s in first.snapshots)  # nothing to estimate from yet
    assert first.snapshots[-1].counts["exported"] == 3000

    second = Recorder()
    export_accounts(conn, tmp_path / "b.csv", history, ExportOptions(mode="full"), progress=second)
    assert second.snapshots[-1].total == 3000
    assert second.snapshots[-1].fraction == 1.0


def test_result_type() -> None:
    result = ExportResult(run_id=1, state=RunState.FINISHED, exported=3, unscored=1)
    assert result.scored == 2 and result.histogram == [0] * 11
    assert result.histogram_labels == HISTOGRAM_LABELS
    assert not ExportOptions(stages=[]).filtered
    assert ExportOptions(min_score=0).filtered and ExportOptions(domains=["a.com"]).filtered
    assert ExportOptions(domains=["a.com"] * 3).to_json()["domains"] == 3


# ----------------------------------------------------------------------------- domain files


def test_load_domains_plain_list(tmp_path: Path) -> None:
    f = tmp_path / "list.txt"
    f.write_text("Acme.com\nhttps://www.foo.io/about\n\nacme.com\nnot a domain\n", encoding="utf-8")
    loaded = load_domains(f)
    assert loaded.domains == ["acme.com", "foo.io"]
    assert loaded.rejected == [(5, "not a domain")]
    single = tmp_path / "one.txt"
    single.write_text("www.Example.org\n", encoding="utf-8")
    assert load_domains(single).domains == ["example.org"]


def test_load_domains_from_a_csv_column(tmp_path: Path) -> None:
    f = tmp_path / "companies.csv"
    f.write_text("Record ID,Company name,Company Domain Name\n1,Acme,acme.com\n2,Foo,FOO.io\n"
                 "3,Blank,\n", encoding="utf-8")
    loaded = load_domains(f)
    assert loaded.domains == ["acme.com", "foo.io"] and loaded.column == "Company Domain Name"
    headed = tmp_path / "headed.csv"
    headed.write_text("domain\nacme.com\n", encoding="utf-8")
    assert load_domains(headed).domains == ["acme.com"]


def test_load_domains_without_a_domain_column(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("Name,City\nAcme,Paris\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no domain column"):
        load_domains(f)
    with pytest.raises(ExportError):
        load_domains(tmp_path / "missing.csv")


# ----------------------------------------------------------------------------- paging rule


def _drop_has_next_page(method: str, path: str, status: int, doc: Any) -> Any:
    if method == "GET" and path.endswith("/accounts") and isinstance(doc, dict):
        doc.get("data", {}).pop("hasNextPage", None)
        return status, doc, {}
    return None


def test_crm_pull_without_has_next_page_gets_every_account(history: History,
                                                           tmp_path: Path) -> None:
    """Revision A answers carry no hasNextPage: the integer cursor / full page decides."""
    from loopback_kit import Proxy

    with SandboxServer(port=0, accounts=250) as sandbox, Proxy(
        sandbox.root_url, rewrite=_drop_has_next_page
    ) as proxy:
        conn = ConnectionSpec(base_url=proxy.base_url("crm"), edition="crm",
                              api_key=DEMO_API_KEY, profile="work")
        out = tmp_path / "a.csv"
        result = export_accounts(conn, out, history, ExportOptions(mode="full"))
    assert result.state is RunState.FINISHED, result.message
    _, _, rows = read_csv(out)
    assert len(rows) == 250 == result.received
    assert result.sync_saved


def _repeat_cursor(method: str, path: str, status: int, doc: Any) -> Any:
    if method == "GET" and path.endswith("/accounts") and isinstance(doc, dict):
        doc["data"]["nextCursor"] = 100  # the same position on every page: a loop
        doc["data"]["hasNextPage"] = True
        return status, doc, {}
    return None


def test_pull_stopped_by_a_repeated_cursor_stores_no_sync_time(history: History,
                                                               tmp_path: Path) -> None:
    from loopback_kit import Proxy

    with SandboxServer(port=0, accounts=250) as sandbox, Proxy(
        sandbox.root_url, rewrite=_repeat_cursor
    ) as proxy:
        conn = ConnectionSpec(base_url=proxy.base_url("crm"), edition="crm",
                              api_key=DEMO_API_KEY, profile="work")
        result = export_accounts(conn, tmp_path / "a.csv", history, ExportOptions(mode="full"))
    assert result.received < 250
    assert not result.sync_saved and history.last_sync("work") is None
