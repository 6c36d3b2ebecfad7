"""The CLI end to end where the platforms put things (issue 19): a data folder with spaces
(macOS's ~/Library/Application Support), input and report folders with spaces and
accents, and every text file written for the user ending its lines in CRLF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err, env=dict(ENV))
    return code, out.getvalue(), err.getvalue()


def _crlf_only(path: Path) -> bool:
    data = path.read_bytes()
    return data.count(b"\n") > 1 and data.count(b"\n") == data.count(b"\r\n")


def test_data_folder_with_spaces_and_crlf_in_every_file_for_the_user(tmp_path, small_sandbox):
    data = tmp_path / "Library" / "Application Support" / "recotap desktop"
    inbox = tmp_path / "Shared Drive" / "Comptes clients"
    inbox.mkdir(parents=True)
    rows = account_rows(12, prefix="sp")
    rows[3][2] = "not a domain"  # a failure, so the failures-only file is written too
    source = write_csv(inbox / "export HubSpot (mai).csv", ACCOUNT_HEADERS, rows)
    reports = tmp_path / "Rapports Société"
    reports.mkdir()
    report = reports / "résultats import.csv"
    base = ["--data-dir", str(data), "--base-url", small_sandbox.base_url("crm")]

    code, _out, err = _run([*base, "import", "accounts", str(source), "--yes",
                            "--report", str(report)])
    assert code == 1, err  # finished, one row failed
    failures = reports / "résultats import.failures.csv"
    code, out, err = _run([*base, "history"])
    assert code == 0, err
    assert "export HubSpot (mai).csv" in out
    again = reports / "résultats again.csv"
    code, _out, err = _run([*base, "history", "1", "--report", str(again)])
    assert code == 0, err
    export = reports / "comptes exportés.csv"
    code, _out, err = _run([*base, "export", "accounts", str(export), "--full"])
    assert code == 0, err

    written = [report, failures, again, export]
    for path in written:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path
        assert _crlf_only(path), f"{path.name} has line ends other than CRLF"
    # Nothing of the app's own landed beside the reports or the input.
    assert sorted(p.name for p in inbox.iterdir()) == ["export HubSpot (mai).csv"]
    assert (data / "data" / "history.sqlite3").is_file()



@pytest.mark.posix_only(reason="'//path' names a readable local file only "
                        "on POSIX (how a share is simulated here)")
def test_a_file_on_a_network_share_is_imported_from_its_local_copy(tmp_path, small_sandbox):
    from recotap_desktop.store.history import History

    share = tmp_path / "fileserver" / "Marketing"
    share.mkdir(parents=True)
    source = write_csv(share / "accounts.csv", ACCOUNT_HEADERS, account_rows(8, prefix="unc"))
    unc = "/" + str(source)  # "//…": a UNC-style path this machine can still read
    data = tmp_path / "data dir"
    code, _out, err = _run(["--data-dir", str(data), "--base-url",
                            small_sandbox.base_url("crm"), "import", "accounts", unc, "--yes"])
    assert code == 0, err
    assert f"note: {unc} is on a network share; it was read once into" in err
    with History(data / "data" / "history.sqlite3") as history:
        run = history.get_run(1)
    copy = Path(run.file_path or "")
    assert copy.is_relative_to(data / "cache" / "network-inputs")
    assert copy.read_bytes() == source.read_bytes()
    source.unlink()  # the share is gone: the run's file is still there for reports/resume
    code, _out, err = _run(["--data-dir", str(data), "history", "1", "--report",
                            str(tmp_path / "after.csv")])
    assert code == 0, err
    assert (tmp_path / "after.csv").read_bytes().splitlines()[0].startswith(
        b"\xef\xbb\xbf" + b",".join(h.encode() for h in ACCOUNT_HEADERS[:1]))
