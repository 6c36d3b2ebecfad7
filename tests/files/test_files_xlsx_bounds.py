"""Bounded XLSX files (issue 15, finding 7): a workbook whose shared strings expand to
2 GiB is refused before python-calamine loads it, in bounded memory, with exit 2."""

from __future__ import annotations

import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from recotap_desktop.files import FIELD_SIZE_LIMIT, FileProblem, iter_rows, sniff
from recotap_desktop.files.xlsx_bounds import MAX_PART_BYTES, check_workbook

_SST_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'count="2" uniqueCount="2"><si><t>Record ID</t></si><si><t>')
_SST_TAIL = b"</t></si></sst>"


def _workbook_with_shared_string(path: Path, size: int) -> Path:
    """A valid workbook whose second shared string (cell B1) holds ``size`` letters,
    written as a stream (nothing of that size is ever in memory)."""
    plain = path.with_name("plain-" + path.name)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Record ID", "Company name"])
    ws.append(["ext-1", "Acme"])
    wb.save(plain)
    block = b"A" * (1 << 20)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(
        path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as dst:
        for item in src.infolist():
            if item.filename == "xl/sharedStrings.xml":
                continue
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # B1 -> shared string 1
                data = data.replace(b'<c r="B1" t="inlineStr"><is><t>Company name</t></is></c>',
                                    b'<c r="B1" t="s"><v>1</v></c>')
            dst.writestr(item, data)
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(_SST_HEAD)
            left = size
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
            out.write(_SST_TAIL)
    plain.unlink()
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _workbook_with_shared_string(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 2 << 30)
    assert path.stat().st_size < 4 * 1024 * 1024  # small on disk
    return path


def test_a_shared_strings_bomb_is_refused_before_loading(bomb: Path) -> None:
    with pytest.raises(FileProblem) as info:
        sniff(bomb)
    assert "too big to read safely" in info.value.message
    assert "shared strings" in info.value.message


def test_the_bomb_costs_bounded_memory_and_exit_2(bomb: Path, tmp_path: Path) -> None:
    """Peak RSS of a child process running the CLI on the bomb (address space capped at
    2 GiB as a guard for this machine: without the check, python-calamine would need ~10 GB
    and the child dies instead of exiting 2)."""
    script = (
        "import resource, sys\n"
        # VmHWM is the peak of this process's own memory since its exec; ru_maxrss is
        # not: Linux carries the parent's peak into a child started by fork/vfork + exec,
        # so a child of a large pytest process would report pytest's size.
        "def _peak_kb():\n"
        "    try:\n"
        "        with open('/proc/self/status') as fh:\n"
        "            for line in fh:\n"
        "                if line.startswith('VmHWM:'):\n"
        "                    return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from recotap_desktop.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('maxrss_kb', _peak_kb(), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--data-dir", str(tmp_path / "d"), "--base-url",
         "http://127.0.0.1:9/api/v1/crm/", "import", "accounts", str(bomb), "--yes"],
        capture_output=True, text=True, check=False, timeout=600,
        env={"RECOTAP_API_KEY": "rtp_demo_0000000000000000", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done.stderr
    assert "too big to read safely" in done.stderr and "Traceback" not in done.stderr
    peak_kb = int(done.stderr.split("maxrss_kb", 1)[1].split()[0])
    assert peak_kb < 300 * 1024, peak_kb  # a CLI start-up is ~60 MB; 2 GiB never loaded
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2 * 1024 * 1024
    # Nothing was recorded: no run was left "running" (it never started).
    history = tmp_path / "d" / "data" / "history.sqlite3"
    if history.exists():
        import sqlite3

        with sqlite3.connect(history) as conn:
            assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_a_cell_longer_than_the_csv_field_limit(tmp_path: Path) -> None:
    path = _workbook_with_shared_string(tmp_path / "long.xlsx", FIELD_SIZE_LIMIT + 1)
    with pytest.raises(FileProblem) as info:
        info_ = sniff(path)
        list(iter_rows(info_))
    assert info.value.row == 1 and info.value.column == "B"
    assert f"{FIELD_SIZE_LIMIT + 1:,} characters" in info.value.message
    fits = _workbook_with_shared_string(tmp_path / "fits.xlsx", FIELD_SIZE_LIMIT)
    source = sniff(fits)
    assert len(source.headers[1]) == FIELD_SIZE_LIMIT


def test_declared_sizes_refuse_without_decompressing(tmp_path: Path) -> None:
    path = _workbook_with_shared_string(tmp_path / "mid.xlsx", 4 << 20)
    assert not check_workbook(path).cells_may_exceed
    assert check_workbook(path, cell_limit=1 << 20).cells_may_exceed
    with pytest.raises(FileProblem, match="too big"):
        check_workbook(path, part_limit=1 << 20)
    assert MAX_PART_BYTES >= 256 << 20
