"""Input files on a network share (recotap_desktop/files/network.py): the path logic of
every platform, and a share that drops while the file is read (simulated)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from recotap_desktop.files import FileProblem, sniff
from recotap_desktop.files import network as net


@pytest.mark.parametrize(("path", "share"), [
    (r"\\fileserver\Marketing\CRM exports\accounts.csv", r"\\fileserver\Marketing"),
    (r"\\?\UNC\fileserver\Marketing\accounts.csv", r"\\fileserver\Marketing"),
    ("//fileserver/Marketing/accounts.csv", r"\\fileserver\Marketing"),
    (r"C:\Users\Ana\Documents\accounts.csv", None),
    (r"\\?\C:\Users\Ana\accounts.csv", None),
    (r"\\.\pipe\x", None),
])
def test_windows_paths_on_a_share(path, share):
    assert net.network_share(path, platform="win32", drive_type=lambda root: 3) == share


def test_a_mapped_drive_letter_is_a_share_on_windows():
    asked: list[str] = []

    def drive_type(root: str) -> int:
        asked.append(root)
        return net.DRIVE_REMOTE if root == "Z:\\" else 3

    assert net.network_share(r"Z:\exports\a.csv", platform="win32", drive_type=drive_type) == "Z:"
    assert net.network_share(r"C:\exports\a.csv", platform="win32", drive_type=drive_type) is None
    assert asked == ["Z:\\", "C:\\"]


def test_posix_paths():
    assert net.network_share("/mnt/share/a.csv", platform="linux") is None
    assert net.network_share("/Volumes/Marketing/a.csv", platform="darwin") is None
    assert net.network_share("//nas/Marketing/a.csv", platform="darwin") == r"\\nas\Marketing"


def _source(tmp_path: Path) -> Path:
    folder = tmp_path / "share" / "CRM exports"
    folder.mkdir(parents=True)
    path = folder / "accounts.csv"
    path.write_bytes(b"Record ID,Company name,Company Domain Name\r\n"
                     + b"".join(b"r%d,Co %d,co%d.example.org\r\n" % (i, i, i) for i in range(500)))
    return path


@pytest.mark.posix_only(reason="'//path' names a readable local file only "
                        "on POSIX (how a share is simulated here)")
def test_a_file_on_a_share_is_read_once_into_the_cache(tmp_path):
    # On Linux and macOS "//x" names the same file as "/x": a share path that can be read.
    source = _source(tmp_path)
    remote = Path("/" + str(source))
    cache = tmp_path / "cache"
    local = net.local_copy_if_remote(remote, cache, platform="linux")
    assert local != remote and local.is_relative_to(cache)
    assert local.name == "accounts.csv"
    assert local.read_bytes() == source.read_bytes()
    assert sniff(local).headers == ["Record ID", "Company name", "Company Domain Name"]
    assert net.local_copy_if_remote(remote, cache, platform="linux") == local  # once
    source.write_bytes(source.read_bytes() + b"r9,Co 9,co9.example.org\r\n")
    changed = net.local_copy_if_remote(remote, cache, platform="linux")
    assert changed != local and changed.read_bytes() == source.read_bytes()
    local_file = tmp_path / "here.csv"
    assert net.local_copy_if_remote(local_file, cache, platform="linux") == local_file


@pytest.mark.posix_only(reason="'//path' names a readable local file only "
                        "on POSIX (how a share is simulated here)")
def test_a_share_that_drops_while_reading_says_so_and_leaves_nothing(tmp_path, monkeypatch):
    source = _source(tmp_path)
    remote = Path("/" + str(source))
    real_copy = shutil.copyfileobj

    def dropping(src, dst, length=0):
        dst.write(src.read(100))
        raise OSError(errno.EHOSTDOWN, "Host is down")

    monkeypatch.setattr(net.shutil, "copyfileobj", dropping)
    with pytest.raises(FileProblem) as info:
        net.local_copy_if_remote(remote, tmp_path / "cache", platform="linux")
    message = info.value.message
    assert str(remote) in message and "network share" in message
    assert "Host is down" in message and "Nothing was sent" in message
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    monkeypatch.setattr(net.shutil, "copyfileobj", real_copy)
    with pytest.raises(FileProblem, match="not on the network share"):
        net.local_copy_if_remote(Path("/" + str(tmp_path / "gone.csv")), tmp_path / "cache",
                                 platform="linux")
