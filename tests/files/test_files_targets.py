"""The one rule for every path a run writes (recotap_desktop/files/targets.py)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from recotap_desktop.files import TableWriter
from recotap_desktop.files.targets import (
    TargetProblem,
    check_data_dir,
    check_target,
    journal_bytes,
    name_problem,
    native_path,
    same_file,
    sibling_name,
)
from tests.tmpfs import tmpfs

PLATFORMS = ("linux", "darwin", "win32")


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(
    "name", ["CON.csv", "nul.csv", "Com1.xlsx", "LPT9.csv", "aux.report.csv", "prn .csv",
             "report.csv.", "report.csv ", "report. "])
def test_unportable_names_are_refused_on_every_platform(
    tmp_path: Path, name: str, platform: str
) -> None:
    assert name_problem(name, platform) is not None
    with pytest.raises(TargetProblem) as info:
        check_target(tmp_path / name, platform=platform)
    assert "Choose another name" in info.value.message
    assert not any(tmp_path.iterdir())  # nothing was created


@pytest.mark.parametrize("name", ["console.csv", "nullable.csv", "com10.csv", "report.csv",
                                  "con-tacts.xlsx"])
def test_ordinary_names_pass(tmp_path: Path, name: str) -> None:
    assert name_problem(name, "win32") is None
    assert check_target(tmp_path / name) == tmp_path / name


def test_windows_forbidden_characters_only_on_windows() -> None:
    assert name_problem("a:b.csv", "win32") is not None
    assert name_problem("a:b.csv", "linux") is None


def test_long_windows_paths_get_the_extended_prefix() -> None:
    long_dir = "C:\\Users\\someone\\" + "\\".join(["a-rather-long-folder-name"] * 10)
    path = long_dir + "\\report.csv"
    assert len(path) >= 260
    assert native_path(path, "win32") == "\\\\?\\" + path
    unc = "\\\\server\\share\\" + "\\".join(["folder-name-of-some-length"] * 10) + "\\r.csv"
    rest = unc[len("\\\\server\\share\\"):]
    assert native_path(unc, "win32") == "\\\\?\\UNC\\server\\share\\" + rest
    assert native_path("C:\\short\\report.csv", "win32") == "C:\\short\\report.csv"
    assert native_path("\\\\?\\" + path, "win32") == "\\\\?\\" + path  # never twice
    posix = "/home/u/" + "/".join(["a-rather-long-folder-name"] * 12) + "/r.csv"
    assert native_path(posix, "linux") == posix


def test_the_input_file_is_never_a_target(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"PK\x03\x04 workbook")
    hard = tmp_path / "hard.xlsx"
    os.link(book, hard)
    soft = tmp_path / "soft.xlsx"
    soft.symlink_to(book)
    for target in (book, hard, soft, tmp_path / "sub" / ".." / "book.xlsx"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(TargetProblem) as info:
            check_target(target, inputs=[book])
        assert "input file book.xlsx" in info.value.message
    assert book.read_bytes() == b"PK\x03\x04 workbook"
    # Case differences: one file on a case-insensitive platform's disk.
    assert same_file(tmp_path / "BOOK.xlsx", book, "win32")
    assert same_file(tmp_path / "Book.XLSX", book, "darwin")
    assert not same_file(tmp_path / "other.xlsx", book, "linux")
    assert check_target(tmp_path / "other.xlsx", inputs=[book, None]) == tmp_path / "other.xlsx"


def test_a_folder_that_is_a_file_or_missing(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    for target, words in ((plain / "r.csv", "is a file"), (tmp_path / "no" / "r.csv",
                                                            "does not exist")):
        with pytest.raises(TargetProblem) as info:
            check_target(target)
        assert words in info.value.message
    (tmp_path / "adir.csv").mkdir()
    with pytest.raises(TargetProblem, match="is a folder"):
        check_target(tmp_path / "adir.csv")


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only file system: root cannot write it either."""
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        yield folder


def test_a_read_only_folder_is_probed_not_guessed(read_only_folder: Path) -> None:
    with pytest.raises(TargetProblem) as info:
        check_target(read_only_folder / "report.csv")
    assert "read-only disk" in info.value.message
    with pytest.raises(TargetProblem, match="data folder"):
        check_data_dir(read_only_folder)


def test_an_existing_target_that_cannot_be_replaced(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old")

    def locked(path: Path) -> None:  # Windows: the file is open in Excel
        raise PermissionError(errno.EACCES, "The process cannot access the file", str(path))

    with pytest.raises(TargetProblem) as info:
        check_target(target, probe_replace=locked)
    assert "open in Excel" in info.value.message
    assert "report (2).csv" in info.value.message
    assert target.read_text() == "old"
    assert check_target(target) == target  # an ordinary existing file may be replaced


def test_sibling_names(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    assert sibling_name(target) == tmp_path / "report (2).csv"
    (tmp_path / "report (2).csv").write_text("")
    assert sibling_name(target) == tmp_path / "report (3).csv"


def test_a_locked_target_at_the_end_goes_to_a_sibling(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("kept")
    calls: list[str] = []

    def replace(src: str, dst: str) -> None:
        calls.append(dst)
        if dst == str(target):
            raise PermissionError(errno.EACCES, "sharing violation", dst)
        os.replace(src, dst)

    with TableWriter.open(target, ["a"], replace=replace) as writer:
        writer.write_row(["1"])
    assert writer.diverted_from == target
    assert writer.path == tmp_path / "report (2).csv"
    assert target.read_text() == "kept"
    assert writer.path.read_bytes() == b"\xef\xbb\xbfa\r\n1\r\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_data_dir_free_space_and_kind(tmp_path: Path) -> None:
    def usage(free: int):  # type: ignore[no-untyped-def]
        return lambda _path: (10**12, 10**12 - free, free)

    check_data_dir(tmp_path, rows=1000, disk_usage=usage(journal_bytes(1000)))
    with pytest.raises(TargetProblem) as info:
        check_data_dir(tmp_path, rows=1000, disk_usage=usage(journal_bytes(1000) - 1))
    assert "Nothing was sent" in info.value.message and "1,000 rows" in info.value.message

    def unknown(_path: str) -> tuple[int, int, int]:
        raise OSError(errno.ENOSYS, "not supported")

    check_data_dir(tmp_path, rows=10**9, disk_usage=unknown)  # the OS cannot say: no check
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(TargetProblem, match="not a folder"):
        check_data_dir(plain)
