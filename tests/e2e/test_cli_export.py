"""``recotap export accounts`` end to end: the CLI against the sandbox over real sockets."""

from __future__ import annotations

import csv
import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from recotap_desktop.cli import EXIT_API, EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, main
from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer
from recotap_desktop.store.history import History

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    s = SandboxServer(port=0, accounts=1200, faults=Faults(seed=77)).start()
    try:
        yield s
    finally:
        s.stop()


def run(server: SandboxServer | str, data_dir: Path, *args: str, edition: str = "crm",
        env: dict[str, str] | None = None, stderr: io.StringIO | None = None
        ) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    base_url = server if isinstance(server, str) else server.base_url(edition)
    code = main(["--data-dir", str(data_dir), "--base-url", base_url,
                 "--edition", edition, *args], stdin=io.StringIO(), stdout=out, stderr=err,
                env=ENV if env is None else env)
    return code, out.getvalue(), err.getvalue()


def rows_of(path: Path, *, label_row: bool = False) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    body = rows[2:] if label_row else rows[1:]
    return [dict(zip(rows[0], r, strict=True)) for r in body]


def history_runs(data_dir: Path) -> list[tuple[str, str, str | None]]:
    with History(data_dir / "data" / "history.sqlite3") as h:
        return [(r.kind, r.state, r.file_name) for r in h.list_runs()]


def test_full_then_delta_by_default(server: SandboxServer, data_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "all.csv"
    code, _, err = run(server, data_dir, "export", "accounts", str(first))
    assert code == EXIT_OK, err
    assert "Mode: full" in err and "no earlier complete pull" in err
    assert "File: " in err and "Account score of the exported accounts" in err
    rows = rows_of(first)
    assert {r["rtp_aid"] for r in rows} == {a["rtp_aid"] for a in server.state.all_accounts()}
    # one header row by default: csv.DictReader gives one dict per account, nothing else
    with first.open(encoding="utf-8-sig", newline="") as fh:
        read = list(csv.DictReader(fh))
    assert sorted(r["rtp_aid"] for r in read) == sorted(
        a["rtp_aid"] for a in server.state.all_accounts()
    )
    assert read[0]["domain"] and "." in read[0]["domain"]

    changed = set(server.state.rescore(42))
    second = tmp_path / "changed.csv"
    code, _, err = run(server, data_dir, "export", "accounts", str(second))
    assert code == EXIT_OK, err
    assert "Mode: delta" in err
    assert {r["rtp_aid"] for r in rows_of(second)} == changed

    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "again.csv"),
                       "--full")
    assert code == EXIT_OK and "Mode: full - every account." in err
    assert len(rows_of(tmp_path / "again.csv")) == 1200
    assert [r[:2] for r in history_runs(data_dir)] == [("export-accounts", "finished")] * 3


def test_since_filters_and_xlsx_without_label_row(server: SandboxServer, data_dir: Path,
                                                 tmp_path: Path) -> None:
    domains = tmp_path / "targets.csv"
    wanted = [a["domain"] for a in server.state.all_accounts()[:150]]
    domains.write_text("Company,Website\n" + "".join(f"Co {i},https://www.{d}/\n"
                                                     for i, d in enumerate(wanted)),
                       encoding="utf-8")
    out = tmp_path / "targets.xlsx"
    code, _, err = run(server, data_dir, "export", "accounts", str(out), "--since", "2000-01-01",
                       "--domains", str(domains), "--min-score", "40", "--stage", "Opportunity",
                       "customer", "--no-label-row", edition="external")
    assert code == EXIT_OK, err
    assert "Mode: since" in err and "150 domains from column 'Website'" in err
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    expected = {a["rtp_aid"] for a in server.state.all_accounts()[:150]
                if a["rtp_account_score"] >= 40
                and a["rtp_journey_stage"] in ("Opportunity", "Customer")}
    assert rows[0][:4] == ("externalId", "domain", "name", "rtp_aid")
    assert {r[3] for r in rows[1:]} == expected and len(rows) - 1 == len(expected)
    assert "A filtered pull leaves the last sync time unchanged" in err
    # a filtered pull did not create a sync point: the next default is still full
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "x.csv"),
                       edition="external")
    assert code == EXIT_OK and "Mode: full" in err


def test_crm_domain_filter_says_it_filtered_locally(server: SandboxServer, data_dir: Path,
                                                   tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    wanted = [a["domain"] for a in server.state.all_accounts()[10:13]]
    listing.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "a.csv"),
                       "--domains", str(listing))
    assert code == EXIT_OK, err
    assert "cannot filter by domain" in err
    assert sorted(r["domain"] for r in rows_of(tmp_path / "a.csv")) == sorted(wanted)


def test_unreachable_api_or_rejected_key_exits_3(server: SandboxServer, data_dir: Path,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    code, _, err = run(server, data_dir, "export", "accounts", str(out),
                       env={"RECOTAP_API_KEY": "not-the-key"})
    assert code == EXIT_API
    assert "aborted" in err and not out.exists()
    assert "not-the-key" not in err

    dead = SandboxServer(port=0, accounts=1).start()
    dead_url = dead.base_url("crm")
    dead.stop()  # nothing listens there any more: connection refused, retried, given up
    dead_out = tmp_path / "dead.csv"
    code, _, err = run(dead_url, data_dir, "export", "accounts", str(dead_out))
    assert code == EXIT_API and not dead_out.exists()
    states = [r[1] for r in history_runs(data_dir)]
    assert states == ["aborted", "aborted"]


def test_bad_usage_exits_2(server: SandboxServer, data_dir: Path, tmp_path: Path) -> None:
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "a.json"))
    assert code == EXIT_USAGE and "ending in .csv, .tsv, .txt or .xlsx" in err
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "a.csv"),
                       "--since", "last tuesday")
    assert code == EXIT_USAGE and "ISO 8601" in err
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "a.csv"),
                       "--since", "2026-01-01", "--full")
    assert code == EXIT_USAGE  # argparse: not allowed together
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "a.csv"),
                       "--domains", str(tmp_path / "missing.csv"))
    assert code == EXIT_USAGE
    assert history_runs(data_dir) == []


class _CtrlCOnFirstProgress(io.StringIO):
    """stderr that presses Ctrl-C (SIGINT to this process) at the first progress line."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def write(self, text: str) -> int:
        n = super().write(text)
        if not self.pressed and "[pull]" in text:
            handler = signal.getsignal(signal.SIGINT)
            assert handler is not signal.default_int_handler  # the CLI's own handler
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)
        return n


@pytest.mark.posix_only(reason='os.kill(pid, SIGINT) on Windows terminates '
                        'the process instead of raising KeyboardInterrupt')
def test_ctrl_c_exits_130_and_keeps_the_sync_time(server: SandboxServer, data_dir: Path,
                                                  tmp_path: Path) -> None:
    code, _, err = run(server, data_dir, "export", "accounts", str(tmp_path / "all.csv"))
    assert code == EXIT_OK, err
    with History(data_dir / "data" / "history.sqlite3") as h:
        before = h.last_sync("default")
    assert before
    server.state.rescore(300)
    out = tmp_path / "changed.csv"
    stream = _CtrlCOnFirstProgress()
    code, _, err = run(server, data_dir, "export", "accounts", str(out), stderr=stream)
    assert stream.pressed
    assert code == EXIT_CANCELLED, err
    assert "Cancelling" in err and "no file was written" in err
    assert not out.exists()
    with History(data_dir / "data" / "history.sqlite3") as h:
        assert h.last_sync("default") == before
    assert history_runs(data_dir)[0][:2] == ("export-accounts", "cancelled")
