"""One owner per run (store/run_owner.py, History.claim_run): the rule both faces use."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from recotap_desktop.store.history import History, RunBusy, RunInfo


def test_a_run_has_one_owner_until_it_ends_or_its_owner_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    first = History(path)
    run_id = first.create_run(RunInfo(kind="accounts", file_name="a.csv"))
    second = History(path)  # another window or command (its own file locks)
    with pytest.raises(RunBusy) as info:
        second.claim_run(run_id)
    assert info.value.owner.pid == os.getpid() and "process" in info.value.message
    with pytest.raises(RunBusy, match="this window"):
        first.claim_run(run_id)
    assert second.mark_stale_running_as_interrupted() == []  # its owner is alive
    first.close()  # the owner is gone (the OS frees the locks of a dead process the same way)
    assert second.mark_stale_running_as_interrupted() == [run_id]
    assert second.get_run(run_id).state == "interrupted"
    second.claim_run(run_id)  # a resume takes it over
    third = History(path)
    with pytest.raises(RunBusy):
        third.claim_run(run_id)
    second.finish_run(run_id, "finished", {})  # the claim ends with the run
    third.claim_run(run_id)
    third.release_run(run_id)
    with pytest.raises(KeyError):
        third.claim_run(999)
    second.close()
    third.close()


def test_opening_the_history_marks_runs_whose_owner_is_gone(tmp_path: Path) -> None:
    paths = SimpleNamespace(history_file=tmp_path / "history.sqlite3")
    dead = History(paths.history_file)
    run_id = dead.create_run(RunInfo(kind="deals"))
    dead.close()
    with History.open(paths) as history:  # what every CLI command and the app do
        assert history.get_run(run_id).state == "interrupted"
