"""The import wizard reads a file on a network share once into a local copy (issue 19)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.wizard import WAIT, open_wizard

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "accounts.csv"


@pytest.mark.posix_only(reason="'//path' names a readable local file only "
                        "on POSIX (how a share is simulated here)")
def test_a_shared_file_is_previewed_and_run_from_its_local_copy(qtbot, services, tmp_path):
    share = tmp_path / "fileserver" / "Marketing"
    share.mkdir(parents=True)
    source = Path(shutil.copy(SAMPLE, share / "accounts.csv"))
    unc = Path("/" + str(source))  # "//…": UNC-style, still readable on this machine
    wizard = open_wizard(qtbot, services, "accounts", unc)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT)
    info = wizard.file_page.info
    assert info is not None
    local = Path(info.path)
    assert local.is_relative_to(services.paths.cache_dir / "network-inputs")
    assert local.name == "accounts.csv" and local.read_bytes() == source.read_bytes()
    assert wizard.file_page.path_edit.text() == str(unc)  # the user still sees their path
