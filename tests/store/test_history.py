from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from recotap_desktop.store import history as history_mod
from recotap_desktop.store.history import (
    SCHEMA_VERSION,
    History,
    HistoryDiskError,
    HistoryError,
    NewerSchemaError,
    RowOutcome,
    RunInfo,
)
from recotap_desktop.store.paths import AppPaths
from recotap_desktop.store.secrets import KeyStore
from tests.helpers.history import answer_batch, run_info
from tests.helpers.memory_keyring import MemoryKeyring


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def history(db_path: Path):
    h = History(db_path)
    yield h
    h.close()


@pytest.fixture
def history_in_chunks_of_7(db_path: Path):
    """A history that reads outcomes 7 at a time (several chunks in a small run)."""
    h = History(db_path, chunk=7)
    yield h
    h.close()


def _reopen_ro(path: Path, timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(
        f"file:{path}?mode=ro",
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
    )


# ------------------------------------------------------------------ basics
def test_new_database_is_wal_and_current_schema(db_path: Path) -> None:
    with History(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"runs", "row_outcomes", "batches", "sync_state"} <= tables
    finally:
        conn.close()


def test_open_via_app_paths(paths: AppPaths) -> None:
    with History.open(paths) as h:
        h.create_run(run_info())
    assert paths.history_file.is_file()


def test_create_list_finish_runs(history: History) -> None:
    first = history.create_run(run_info())
    second = history.create_run(run_info(kind="deals", parent_run_id=first, note="retry"))

    run = history.get_run(first)
    assert run.state == "running" and run.ended_at is None and run.counts == {}
    assert run.kind == "accounts" and run.file_name == "accounts.csv" and run.total_rows == 10
    assert run.profile == "Production" and run.edition == "crm" and run.host == "eapi.recotap.com"
    assert run.info == run_info()

    history.finish_run(first, "finished", {"created": 8, "failed": 2})
    run = history.get_run(first)
    assert run.state == "finished" and run.ended_at is not None
    assert run.counts == {"created": 8, "failed": 2}

    assert [r.id for r in history.list_runs()] == [second, first]
    assert [r.id for r in history.list_runs(limit=1)] == [second]
    assert [r.id for r in history.list_runs(kind="accounts")] == [first]
    assert [r.id for r in history.list_runs(profile="Other")] == []
    assert [r.id for r in history.run_chain(second)] == [first, second]
    assert history.get_run(second).note == "retry"

    with pytest.raises(KeyError):
        history.get_run(999)
    with pytest.raises(KeyError):
        history.finish_run(999, "finished", {})
    with pytest.raises(ValueError):
        history.finish_run(first, "done", {})
    with pytest.raises(ValueError):
        history.create_run(run_info(), state="started")


def test_planned_then_running(history: History) -> None:
    run_id = history.create_run(run_info(), state="planned")
    history.set_run_state(run_id, "running")
    history.set_note(run_id, "first try")
    run = history.get_run(run_id)
    assert (run.state, run.note) == ("running", "first try")


def test_history_survives_reopen(db_path: Path) -> None:
    with History(db_path) as h:
        run_id = h.create_run(run_info())
        h.set_outcomes(run_id, [RowOutcome(2, "created", ids={"externalId": "A1"})])
    with History(db_path) as h:
        assert h.outcomes(run_id) == {2: RowOutcome(2, "created", ids={"externalId": "A1"})}


# ------------------------------------------------------------------ outcomes
def test_outcomes_counts_and_order(history_in_chunks_of_7: History) -> None:
    history = history_in_chunks_of_7
    run_id = history.create_run(run_info())
    other = history.create_run(run_info())
    rows = list(range(50, 1, -1))  # written in reverse order
    history.set_outcomes(
        run_id,
        (RowOutcome(r, "invalid" if r % 5 == 0 else "not sent", message=f"row {r}") for r in rows),
    )
    history.set_outcomes(other, [RowOutcome(2, "failed")])
    history.set_outcomes(run_id, [RowOutcome(10, "created", reconciled=True, ids={"rtp_aid": "x"})])

    streamed = list(history.iter_outcomes(run_id))
    assert [o.row for o in streamed] == list(range(2, 51))
    assert streamed[8] == RowOutcome(10, "created", "", {"rtp_aid": "x"}, True)
    assert history.counts(run_id) == {"invalid": 9, "not sent": 39, "created": 1}
    assert history.counts(other) == {"failed": 1}
    assert len(history.outcomes(run_id)) == 49
    with pytest.raises(ValueError):
        history.set_outcomes(run_id, [RowOutcome(3, "done")])


@pytest.mark.slow
def test_a_million_outcomes_in_one_call(history: History) -> None:
    run_id = history.create_run(run_info(total_rows=1_000_000))
    history.set_outcomes(
        run_id,
        (
            RowOutcome(r, "created" if r % 3 else "failed", ids={"rtp_aid": f"a{r}"})
            for r in range(2, 1_000_002)
        ),
    )
    assert sum(history.counts(run_id).values()) == 1_000_000
    assert history.counts(run_id)["failed"] == 333_333
    *_, last = history.iter_outcomes(run_id)
    assert last == RowOutcome(1_000_001, "created", ids={"rtp_aid": "a1000001"})


# ------------------------------------------------------------------ journal
def test_journal_unanswered_batches(history: History) -> None:
    run_id = history.create_run(run_info())
    history.batch_started(run_id, 1, [2, 3, 4])
    history.batch_started(run_id, 2, [5, 6])
    history.batch_started(run_id, 3, [7])
    answer_batch(history, run_id, 2, [RowOutcome(5, "created"), RowOutcome(6, "failed", "bad")])

    assert history.unanswered_batches(run_id) == [(1, [2, 3, 4]), (3, [7])]
    assert sorted(history.outcomes(run_id)) == [5, 6]
    answer_batch(history, run_id, 1, [RowOutcome(r, "updated") for r in (2, 3, 4)])
    answer_batch(history, run_id, 3, [RowOutcome(7, "skipped")])
    assert history.unanswered_batches(run_id) == []
    assert history.counts(run_id) == {"updated": 3, "created": 1, "failed": 1, "skipped": 1}


def test_an_answered_batch_is_all_or_nothing(history: History) -> None:
    run_id = history.create_run(run_info())
    history.batch_started(run_id, 1, [2, 3, 4])
    bad = [RowOutcome(2, "created"), RowOutcome(3, "created"), RowOutcome(4, "exploded")]
    with pytest.raises(ValueError):
        answer_batch(history, run_id, 1, bad)
    assert history.outcomes(run_id) == {}  # no half batch
    assert history.unanswered_batches(run_id) == [(1, [2, 3, 4])]


def test_write_journal_groups_several_entries_in_one_all_or_nothing_commit(
    history: History,
) -> None:
    run_id = history.create_run(run_info())
    history.batch_started(run_id, 1, [2, 3])
    history.write_journal(
        run_id,
        started=[(2, [4, 5]), (3, [6])],
        answered=[(1, [RowOutcome(2, "created"), RowOutcome(3, "failed", "bad")])],
        outcomes=[RowOutcome(7, "invalid", "no name")],
    )
    assert history.unanswered_batches(run_id) == [(2, [4, 5]), (3, [6])]
    assert history.counts(run_id) == {"created": 1, "failed": 1, "invalid": 1}
    with pytest.raises(ValueError):
        history.write_journal(
            run_id,
            started=[(4, [8])],
            answered=[(2, [RowOutcome(4, "created"), RowOutcome(5, "created")])],
            outcomes=[RowOutcome(6, "exploded")],
        )
    assert history.unanswered_batches(run_id) == [(2, [4, 5]), (3, [6])]  # none of it
    assert history.counts(run_id) == {"created": 1, "failed": 1, "invalid": 1}


def test_journal_keeps_every_outcome_field_exactly(history: History) -> None:
    # The journal writes outcomes and closes entries as JSON arrays in one statement each:
    # every value must come back as it went in.
    run_id = history.create_run(run_info())
    history.batch_started(run_id, 1, [2, 3, 4])
    history.set_outcomes(run_id, [RowOutcome(3, "not sent", "cancelled")])
    sent = [
        RowOutcome(2, "created", "", {"accountId": "acc-1", "externalId": "Ü-7"}),
        RowOutcome(3, "failed", "name \"ACME\" is 'quoted', \\ and ✓ \n twice"),
        RowOutcome(4, "created", "Already there: treated as delivered.", {"id": "9"},
                   reconciled=True),
    ]
    history.write_journal(run_id, answered=[(1, sent), (5, [RowOutcome(6, "skipped")])])
    assert history.outcomes(run_id) == {o.row: o for o in [*sent, RowOutcome(6, "skipped")]}
    assert history.unanswered_batches(run_id) == []
    assert history._read("SELECT batch_no, rows_json FROM batches WHERE run_id = ? "
                         "ORDER BY batch_no", (run_id,)) == [(1, "[2, 3, 4]"), (5, "[6]")]


def test_text_sqlite_cannot_keep_is_stored_readable(history: History) -> None:
    # json.loads accepts a lone surrogate (a server message cut in the middle of an emoji);
    # stored as it is, the row could never be read again. A NUL would cut the text short.
    run_id = history.create_run(run_info())
    history.batch_started(run_id, 1, [2, 3])
    answer_batch(history, run_id, 1, [
        RowOutcome(2, "failed", "Name too long: \ud83d", {"externalId": "x\udc00"}),
        RowOutcome(3, "failed", "nul\x00inside 😀"),
    ])
    history.set_outcomes(run_id, [RowOutcome(4, "failed", "cut \ud83d\x00")])
    assert {r: (o.message, o.ids) for r, o in history.outcomes(run_id).items()} == {
        2: ("Name too long: \ufffd", {"externalId": "x\ufffd"}),
        3: ("nul\ufffdinside 😀", None),
        4: ("cut \ufffd\ufffd", None),
    }


def test_no_journal_entry_joins_an_unfinished_write(history: History) -> None:
    run_id = history.create_run(run_info())
    history._conn.execute("BEGIN")  # as a failed COMMIT whose ROLLBACK failed would leave it
    try:
        with pytest.raises(HistoryError, match="unfinished write"):
            history.batch_started(run_id, 1, [2])
    finally:
        history._conn.execute("ROLLBACK")
    assert history.unanswered_batches(run_id) == []


def test_an_answered_batch_rolls_back_on_a_database_error(db_path: Path, monkeypatch) -> None:
    with History(db_path) as h:
        run_id = h.create_run(run_info())
        h.batch_started(run_id, 1, [2, 3])
        # Make the "answered" update fail after the outcomes were inserted.
        h._conn.execute(
            "CREATE TRIGGER no_answer BEFORE UPDATE OF answered_at ON batches "
            "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
        )
        with pytest.raises(HistoryError) as info:
            answer_batch(h, run_id, 1, [RowOutcome(2, "created"), RowOutcome(3, "created")])
        assert not isinstance(info.value, HistoryDiskError)
        assert "bug" in info.value.message
        assert h.outcomes(run_id) == {}
        assert h.unanswered_batches(run_id) == [(1, [2, 3])]


def test_an_answer_without_batch_started_is_recorded(history: History) -> None:
    run_id = history.create_run(run_info())
    answer_batch(history, run_id, 4, [RowOutcome(9, "created")])
    assert history.unanswered_batches(run_id) == []
    assert history.counts(run_id) == {"created": 1}


def test_concurrent_workers(history: History) -> None:
    run_id = history.create_run(run_info(total_rows=4000))
    errors: list[BaseException] = []

    def worker(first_batch: int) -> None:
        try:
            for batch_no in range(first_batch, 200, 8):
                rows = [batch_no * 20 + i for i in range(20)]
                history.batch_started(run_id, batch_no, rows)
                answer_batch(history, run_id, batch_no, [RowOutcome(r, "created") for r in rows])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert history.counts(run_id) == {"created": 4000}
    assert history.unanswered_batches(run_id) == []


# ------------------------------------------------------------------ stale runs
def test_runs_of_a_dead_process_become_interrupted(db_path: Path) -> None:
    crashed = History(db_path)
    run_id = crashed.create_run(run_info())
    crashed.batch_started(run_id, 1, [2, 3])
    answer_batch(crashed, run_id, 1, [RowOutcome(2, "created"), RowOutcome(3, "failed")])
    crashed.batch_started(run_id, 2, [4])
    crashed.close()  # like a crash: the run stays "running", the owner lock is gone

    alive = History(db_path)
    live_run = alive.create_run(run_info())
    done = alive.create_run(run_info())
    alive.finish_run(done, "finished", {})

    with History(db_path) as starting_app:
        assert starting_app.mark_stale_running_as_interrupted() == [run_id]
        run = starting_app.get_run(run_id)
        assert run.state == "interrupted"
        assert run.counts == {"created": 1, "failed": 1}
        assert run.ended_at is not None and run.ended_at >= run.started_at
        assert starting_app.get_run(live_run).state == "running"  # its process is alive
        assert starting_app.get_run(done).state == "finished"
        assert [r.id for r in starting_app.interrupted_runs()] == [run_id]
        assert starting_app.unanswered_batches(run_id) == [(2, [4])]
        assert starting_app.mark_stale_running_as_interrupted() == []
    # its own runs are never touched
    assert alive.mark_stale_running_as_interrupted() == []
    alive.close()
    with History(db_path) as later:
        assert later.mark_stale_running_as_interrupted() == [live_run]


def test_ownerless_running_runs_are_interrupted(db_path: Path) -> None:
    with History(db_path) as h:
        run_id = h.create_run(run_info())
        h._conn.execute("UPDATE runs SET owner = NULL")
    with History(db_path) as h:
        assert h.mark_stale_running_as_interrupted() == [run_id]


# ------------------------------------------------------------------ sync state
def test_last_sync_per_profile_and_resource(history: History) -> None:
    assert history.last_sync("Prod") is None
    history.set_last_sync("Prod", "2024-05-01T00:00:00Z", host="eapi.recotap.com")
    history.set_last_sync("Prod", "2024-04-01T00:00:00Z", "segments")
    assert history.last_sync("Prod") == "2024-05-01T00:00:00Z"
    assert history.last_sync("Prod", host="eapi.recotap.com") == "2024-05-01T00:00:00Z"
    assert history.last_sync("Prod", host="127.0.0.1") is None  # another server
    assert history.last_sync("Prod", "segments") == "2024-04-01T00:00:00Z"
    assert history.last_sync("Test") is None
    history.set_last_sync("Prod", "2024-06-01T00:00:00Z")
    assert history.last_sync("Prod") == "2024-06-01T00:00:00Z"
    history.clear_last_sync("Prod", "accounts")
    assert history.last_sync("Prod") is None
    assert history.last_sync("Prod", "segments") is not None
    history.clear_last_sync("Prod")
    assert history.last_sync("Prod", "segments") is None


# ------------------------------------------------------------------ migrations
def test_version_0_database_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE leftover (x)")  # an empty, unversioned database
    conn.commit()
    conn.close()
    with History(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION
        assert h.create_run(run_info()) == 1


def test_older_database_is_migrated_forward_keeping_data(db_path: Path, monkeypatch) -> None:
    # Build a version-1 database by hand, with data in it.
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    for statement in history_mod.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO runs (kind, state, started_at) VALUES ('deals', 'finished', '2024-01-01')"
    )
    conn.execute("INSERT INTO row_outcomes (run_id, row, state) VALUES (1, 2, 'created')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    extra1 = ("ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0",)
    extra2 = ("CREATE INDEX runs_by_profile ON runs(profile)",)
    monkeypatch.setattr(history_mod, "MIGRATIONS", [*history_mod.MIGRATIONS, extra1, extra2])
    with History(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION + 2
        assert h.get_run(1).kind == "deals"
        assert h.outcomes(1) == {2: RowOutcome(2, "created")}
        assert h._conn.execute("SELECT dry_run FROM runs WHERE id = 1").fetchone() == (0,)


def test_failing_migration_changes_nothing(db_path: Path, monkeypatch) -> None:
    History(db_path).close()
    broken = ("ALTER TABLE runs ADD COLUMN half_done TEXT", "THIS IS NOT SQL")
    monkeypatch.setattr(history_mod, "MIGRATIONS", [*history_mod.MIGRATIONS, broken])
    with pytest.raises(HistoryError):
        History(db_path)
    monkeypatch.undo()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
        assert "half_done" not in columns
    finally:
        conn.close()


def test_newer_schema_is_refused(db_path: Path) -> None:
    History(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 4}")
    conn.commit()
    conn.close()
    with pytest.raises(NewerSchemaError) as info:
        History(db_path)
    assert info.value.message.startswith(
        "This history database was written by a newer version of recotap-desktop "
        f"(schema {SCHEMA_VERSION + 4}, this version understands {SCHEMA_VERSION})."
    )
    assert str(db_path) in info.value.message
    conn = sqlite3.connect(db_path)  # and it was left alone
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 4
    finally:
        conn.close()


# ------------------------------------------------------------------ disk errors
@pytest.mark.posix_only(reason="chmod 0444 and os.geteuid; Windows has no POSIX file modes")
def test_read_only_database(db_path: Path, monkeypatch) -> None:
    History(db_path).close()
    os.chmod(db_path, 0o444)
    try:
        if os.geteuid() == 0:  # root ignores file modes: open read-only like SQLite would
            monkeypatch.setattr(history_mod, "_connect", _reopen_ro)
        with pytest.raises(HistoryDiskError) as info, History(db_path) as h:
            h.create_run(run_info())
    finally:
        os.chmod(db_path, 0o644)
    err = info.value
    assert err.reason == "readonly"
    assert str(db_path) in err.message  # where
    assert "read-only" in err.message  # what
    assert "writable" in err.message and "--data-dir" in err.message  # what to do
    assert "bug" not in err.message


def test_locked_database(db_path: Path) -> None:
    with History(db_path, timeout=0.05) as h:
        run_id = h.create_run(run_info())
        blocker = sqlite3.connect(db_path, isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")
            with pytest.raises(HistoryDiskError) as info:
                h.batch_started(run_id, 1, [2])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert info.value.reason == "locked"
        assert "another" in info.value.message and str(db_path) in info.value.message
        h.batch_started(run_id, 1, [2])  # works again once the other program is done
        assert h.unanswered_batches(run_id) == [(1, [2])]


def test_disk_full(db_path: Path, monkeypatch) -> None:
    History(db_path).close()
    real_connect = history_mod._connect

    def tiny_disk(path: Path, timeout: float) -> sqlite3.Connection:
        conn = real_connect(path, timeout)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(history_mod, "_connect", tiny_disk)
    with History(db_path) as h:
        run_id = h.create_run(run_info())
        with pytest.raises(HistoryDiskError) as info:
            h.set_outcomes(run_id, (RowOutcome(r, "invalid", "x" * 200) for r in range(2, 5000)))
        assert info.value.reason == "full"
        assert "full" in info.value.message and "Free some space" in info.value.message
        assert h.counts(run_id) == {}  # nothing half-written


def test_cannot_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(HistoryDiskError) as info:
        History(blocker / "history.sqlite3")
    assert info.value.reason == "cannot-open"
    assert "--data-dir" in info.value.message


def test_not_a_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryDiskError) as info:
        History(db_path)
    assert info.value.reason == "corrupt"
    assert "Move it aside" in info.value.message


def test_errors_that_are_our_bugs_are_not_disk_errors(history: History) -> None:
    with pytest.raises(HistoryError) as info:
        history.batch_started(12345, 1, [2])  # no such run: foreign key
    assert not isinstance(info.value, HistoryDiskError)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("database or disk is full", "full"),
        ("disk I/O error", "io"),
        ("attempt to write a readonly database", "readonly"),
        ("database is locked", "locked"),
        ("unable to open database file", "cannot-open"),
    ],
)
def test_error_texts_map_to_disk_errors(message: str, reason: str, tmp_path: Path) -> None:
    err = history_mod._translate(sqlite3.OperationalError(message), tmp_path / "h.sqlite3")
    assert isinstance(err, HistoryDiskError) and err.reason == reason
    assert str(tmp_path) in err.message


# ------------------------------------------------------------------ the key
def test_api_key_is_never_written_to_the_database(
    db_path: Path, memory_keyring: MemoryKeyring
) -> None:
    key = "rtp_live_9d8c7b6a5f4e3d2c1b0a"
    store = KeyStore(memory_keyring)
    store.set("Production", key)
    with History(db_path) as h:
        run_id = h.create_run(run_info())
        h.batch_started(run_id, 1, [2])
        answer_batch(h, run_id, 1, [RowOutcome(2, "created", ids={"externalId": "A"})])
        h.finish_run(run_id, "finished", h.counts(run_id))
        h.set_last_sync("Production", "2024-05-01T00:00:00Z")
        with pytest.raises(ValueError) as info:
            h.create_run(run_info(options_json=json.dumps({"auth": {"apiKey": key}})))
        assert key not in str(info.value)
        with pytest.raises(ValueError):
            h.create_run(run_info(mapping_json=json.dumps({"api_key": key})))
        written = b"".join(p.read_bytes() for p in db_path.parent.rglob("*") if p.is_file())
        assert key.encode() not in written
    written = b"".join(p.read_bytes() for p in db_path.parent.rglob("*") if p.is_file())
    assert key.encode() not in written
    assert store.get("Production") == key


def test_runs_of_file_by_content_kind_and_profile(history: History) -> None:
    def run(kind: str, sha: str, profile: str) -> int:
        return history.create_run(
            RunInfo(kind=kind, file_name="a.csv", file_sha256=sha, profile=profile)
        )

    a1 = run("accounts", "aaa", "Main")
    run("deals", "aaa", "Main")
    run("accounts", "bbb", "Main")
    a2 = run("accounts", "aaa", "Main")
    other = run("accounts", "aaa", "Agency")
    assert [r.id for r in history.runs_of_file("aaa", kind="accounts")] == [other, a2, a1]
    found = history.runs_of_file("aaa", kind="accounts", profile="Main")
    assert [r.id for r in found] == [a2, a1]
    assert history.runs_of_file("zzz", kind="accounts") == []


def test_schema_1_runs_are_migrated_with_their_connection_unknown(db_path: Path) -> None:
    # A history written before runs kept their base URL (schema 1), with a run in it.
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    for statement in history_mod.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO runs (kind, profile, edition, host, state, started_at) "
        "VALUES ('accounts', 'B', 'crm', 'b.example', 'interrupted', '2026-01-01')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with History(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION >= 2
        old = h.get_run(1)
        assert (old.profile, old.edition, old.host, old.state) == (
            "B", "crm", "b.example", "interrupted")
        assert old.base_url is None  # unknown: resume/retry ask for a connection explicitly
        new = h.create_run(RunInfo(kind="accounts", profile="B", edition="crm",
                                   host="b.example", base_url="https://b.example/api/v1/crm/"))
        assert h.get_run(new).base_url == "https://b.example/api/v1/crm/"
        assert h.get_run(new).info.base_url == "https://b.example/api/v1/crm/"
