"""Sync history and the resume journal, in SQLite (``<data_dir>/history.sqlite3``).

Tables (schema version in ``PRAGMA user_version``; see :data:`MIGRATIONS`):

``runs``          one row per run (push or pull): what file, which mapping/options,
                  which connection (``profile`` name, normalised ``base_url``, ``edition``;
                  ``host`` for display), state, times, final counts, ``parent_run_id``
                  linking a retry/resume to the run it continues. A run recorded before
                  schema 2 has no ``base_url``: its connection is unknown (resume and
                  retry then ask for one explicitly).
``row_outcomes``  per spreadsheet row of a run: state, message, ids returned, whether
                  it was reconciled after an ambiguous answer, and ``reason``: why it
                  ended so, as a code (``engine.states.Reason``; schema 3). Rules that
                  read meaning (what a retry sends) read the code, never the message.
``batches``       the journal: a batch is recorded *before* it is sent
                  (:meth:`History.batch_started`) and marked answered together with
                  its outcomes in one transaction (:meth:`History.write_journal`). A
                  batch without an answer after a crash is exactly what a resume must
                  reconcile (:meth:`History.unanswered_batches`).
``sync_state``    the last complete pull per (profile, resource), for incremental pulls.

Errors, all subclasses of :class:`HistoryError` (``.message`` is for the user)::

    HistoryError            unexpected database error: a bug in recotap-desktop
    ├─ HistoryDiskError     "your disk": full, I/O error, read-only, locked, cannot open,
    │                       damaged file; ``.reason`` says which, ``.path`` where
    └─ NewerSchemaError     the file was written by a newer version of the app

Thread-safety: one connection (``check_same_thread=False``) guarded by a lock; engine
worker threads and the runner's journal writer may call :meth:`History.write_journal`
(or :meth:`History.batch_started`) concurrently. WAL mode
with ``synchronous=FULL``: a committed batch survives a crash or a power cut, and a
crash never leaves half a batch.

The API key is never stored: no column holds it and ``mapping_json``/``options_json``
with secret-looking keys are refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recotap_desktop.errors import UserError
from recotap_desktop.store._guard import find_secret_name
from recotap_desktop.store.platform_checks import make_private_file
from recotap_desktop.store.run_owner import OwnerLock, RunOwner, live_owner

__all__ = [
    "MIGRATIONS",
    "ROW_STATES",
    "RUN_STATES",
    "SCHEMA_VERSION",
    "History",
    "HistoryDiskError",
    "HistoryError",
    "NewerSchemaError",
    "RowOutcome",
    "RunBusy",
    "RunInfo",
    "RunRecord",
]

ROW_STATES = (
    "created", "updated", "upserted", "unchanged", "failed", "skipped", "invalid", "not sent",
    "unknown",
)
RUN_STATES = ("planned", "running", "finished", "cancelled", "interrupted", "aborted")
_ROW_STATES = frozenset(ROW_STATES)
_RUN_STATES = frozenset(RUN_STATES)

#: Ordered forward migrations: ``MIGRATIONS[i]`` takes a database from version i to i+1.
#: Never edit a released step; append a new one.
MIGRATIONS: list[tuple[str, ...]] = [
    (  # 0 -> 1
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            file_name TEXT,
            file_path TEXT,
            file_sha256 TEXT,
            mapping_json TEXT,
            options_json TEXT,
            profile TEXT,
            edition TEXT,
            host TEXT,
            total_rows INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            counts_json TEXT,
            parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            note TEXT NOT NULL DEFAULT '',
            owner TEXT
        )""",
        "CREATE INDEX runs_by_state ON runs(state)",
        "CREATE INDEX runs_by_parent ON runs(parent_run_id)",
        """CREATE TABLE row_outcomes (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            row INTEGER NOT NULL,
            state TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            ids_json TEXT,
            reconciled INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, row)
        ) WITHOUT ROWID""",
        """CREATE TABLE batches (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            batch_no INTEGER NOT NULL,
            rows_json TEXT NOT NULL,
            started_at TEXT NOT NULL,
            answered_at TEXT,
            PRIMARY KEY (run_id, batch_no)
        ) WITHOUT ROWID""",
        """CREATE TABLE sync_state (
            profile TEXT NOT NULL,
            resource TEXT NOT NULL,
            last_sync TEXT NOT NULL,
            host TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (profile, resource)
        ) WITHOUT ROWID""",
    ),
    (  # 1 -> 2: the connection a run belongs to (issue 18). NULL: recorded before, unknown.
        "ALTER TABLE runs ADD COLUMN base_url TEXT",
    ),
    (  # 2 -> 3: why each row ended so, as a code (issue 17; values of engine.states.Reason).
        "ALTER TABLE row_outcomes ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
        # Rows recorded before: the code is derived once, here, from what was known then
        # (the texts earlier versions wrote); nothing reads a message for meaning after this.
        "UPDATE row_outcomes SET reason = 'reconciled' WHERE reconciled = 1",
        "UPDATE row_outcomes SET reason = 'dry run' "
        "WHERE state = 'not sent' AND message LIKE 'Dry run%'",
        "UPDATE row_outcomes SET reason = 'excluded' "
        "WHERE state = 'not sent' AND message LIKE 'Excluded before sending%'",
        "UPDATE row_outcomes SET reason = 'isolated' "
        "WHERE state = 'failed' AND message LIKE 'Rejected by the server: %'",
        "UPDATE row_outcomes SET reason = 'already exists' "
        "WHERE state = 'failed' AND reason = '' "
        "AND (lower(message) LIKE '%already exist%' OR lower(message) LIKE '%duplicate%')",
        "UPDATE row_outcomes SET reason = 'duplicate in file' "
        "WHERE state = 'invalid' AND message LIKE '%is already on row%'",
        "UPDATE row_outcomes SET reason = 'invalid' WHERE state = 'invalid' AND reason = ''",
    ),
]

#: The schema version this code writes and understands.
SCHEMA_VERSION = len(MIGRATIONS)

_CHUNK = 5000  # rows per read in iter_outcomes


# --------------------------------------------------------------------------- errors
class HistoryError(UserError):
    """A sync-history database error; ``message`` is written for the user."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class HistoryDiskError(HistoryError):
    """The disk or the file is the problem, not the app.

    ``reason``: ``"full"``, ``"io"``, ``"readonly"``, ``"locked"``, ``"cannot-open"``
    or ``"corrupt"``.
    """

    def __init__(self, message: str, *, path: Path | None = None, reason: str) -> None:
        super().__init__(message, path=path)
        self.reason = reason


class RunBusy(HistoryError):
    """A run is being sent by a live process (its owner lock is held): it cannot be
    resumed or retried now (see :mod:`~recotap_desktop.store.run_owner`)."""

    def __init__(self, run_id: int, owner: RunOwner, *, path: Path | None = None) -> None:
        where = owner.describe()
        super().__init__(
            f"Run {run_id} is still being sent by {where}, so nothing was sent: two "
            f"processes sending the same rows would create them twice. Wait for it to "
            f"finish (or stop it), then try again.",
            path=path,
        )
        self.run_id = run_id
        self.owner = owner


class NewerSchemaError(HistoryError):
    """The database was written by a newer version of recotap-desktop."""

    def __init__(self, message: str, *, path: Path | None, found: int, supported: int) -> None:
        super().__init__(message, path=path)
        self.found = found
        self.supported = supported


_PRIMARY_CODES = {
    13: "full",  # SQLITE_FULL
    10: "io",  # SQLITE_IOERR
    8: "readonly",  # SQLITE_READONLY
    5: "locked",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    14: "cannot-open",  # SQLITE_CANTOPEN
    11: "corrupt",  # SQLITE_CORRUPT
    26: "corrupt",  # SQLITE_NOTADB
}
_TEXTS = (
    ("database or disk is full", "full"),
    ("disk i/o error", "io"),
    ("attempt to write a readonly database", "readonly"),
    ("readonly", "readonly"),
    ("database is locked", "locked"),
    ("database table is locked", "locked"),
    ("unable to open database file", "cannot-open"),
    ("file is not a database", "corrupt"),
    ("database disk image is malformed", "corrupt"),
)


def _disk_reason(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _PRIMARY_CODES:
        return _PRIMARY_CODES[code & 0xFF]
    text = str(exc).lower()
    for needle, reason in _TEXTS:
        if needle in text:
            return reason
    return None


def _disk_message(reason: str, path: Path) -> str:
    folder = path.parent
    if reason == "full":
        return (
            f"The disk holding the sync history ({path}) is full, so recotap-desktop could "
            f"not record the sync. Free some space on that disk and try again."
        )
    if reason == "io":
        return (
            f"The disk reported an error while reading or writing the sync history "
            f"({path}). Check the disk (or network drive), or start recotap-desktop with "
            "--data-dir pointing to a folder on another disk."
        )
    if reason == "readonly":
        return (
            f"The sync history ({path}) is read-only, so recotap-desktop cannot record "
            f"syncs. Make the file and its folder {folder} writable for your user, or start "
            "with --data-dir pointing to a writable folder."
        )
    if reason == "locked":
        return (
            f"The sync history ({path}) is locked by another program, probably another "
            "recotap-desktop window or command that is still running. Wait for it to "
            "finish or close it, then try again."
        )
    if reason == "corrupt":
        return (
            f"The sync history ({path}) is damaged or is not a recotap-desktop history "
            "file. Move it aside (rename it) and start recotap-desktop again: a new, empty "
            "history is then created."
        )
    return (
        f"recotap-desktop could not open the sync history ({path}). Check that the folder "
        f"{folder} exists and is writable for your user, or start with --data-dir pointing "
        "to a writable folder."
    )


def _translate(exc: sqlite3.Error, path: Path) -> HistoryError:
    reason = _disk_reason(exc)
    if reason is not None:
        return HistoryDiskError(_disk_message(reason, path), path=path, reason=reason)
    return HistoryError(
        f"Unexpected error in the sync history ({path}): {exc}. This is a bug in "
        "recotap-desktop; please report it with this message.",
        path=path,
    )


# --------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run is about, recorded when it starts."""

    kind: str
    file_name: str | None = None
    file_path: str | None = None
    file_sha256: str | None = None
    mapping_json: str | None = None
    options_json: str | None = None
    profile: str | None = None
    edition: str | None = None
    host: str | None = None
    total_rows: int = 0
    #: The run this one retries or resumes.
    parent_run_id: int | None = None
    note: str = ""
    #: The connection's base URL, normalised (with ``profile`` and ``edition``: the
    #: connection the run belongs to). Never the key.
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as stored. ``counts`` is ``{}`` until the run ends."""

    id: int
    kind: str
    file_name: str | None
    file_path: str | None
    file_sha256: str | None
    mapping_json: str | None
    options_json: str | None
    profile: str | None
    edition: str | None
    host: str | None
    total_rows: int
    state: str
    started_at: str
    ended_at: str | None
    counts: dict[str, int]
    parent_run_id: int | None
    note: str
    #: ``None`` for a run recorded before schema 2 (its connection is unknown).
    base_url: str | None = None

    @property
    def info(self) -> RunInfo:
        """The :class:`RunInfo` this run was created with (e.g. to start a retry)."""
        return RunInfo(
            kind=self.kind,
            file_name=self.file_name,
            file_path=self.file_path,
            file_sha256=self.file_sha256,
            mapping_json=self.mapping_json,
            options_json=self.options_json,
            profile=self.profile,
            edition=self.edition,
            host=self.host,
            total_rows=self.total_rows,
            parent_run_id=self.parent_run_id,
            note=self.note,
            base_url=self.base_url,
        )


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What happened to one spreadsheet row (``row`` as in the file: first data row = 2)."""

    row: int
    state: str
    message: str = ""
    ids: dict[str, str] | None = None
    reconciled: bool = False
    #: Why the row ended so, a code (``engine.states.Reason``'s values; "" for none).
    reason: str = ""


_RUN_COLUMNS = (
    "id, kind, file_name, file_path, file_sha256, mapping_json, options_json, profile, "
    "edition, host, total_rows, state, started_at, ended_at, counts_json, parent_run_id, note, "
    "base_url"
)


def _run_from_row(row: Sequence[Any]) -> RunRecord:
    counts = json.loads(row[14]) if row[14] else {}
    return RunRecord(
        id=row[0],
        kind=row[1],
        file_name=row[2],
        file_path=row[3],
        file_sha256=row[4],
        mapping_json=row[5],
        options_json=row[6],
        profile=row[7],
        edition=row[8],
        host=row[9],
        total_rows=row[10],
        state=row[11],
        started_at=row[12],
        ended_at=row[13],
        counts=counts,
        parent_run_id=row[15],
        note=row[16],
        base_url=row[17],
    )


def _outcome_from_row(row: Sequence[Any]) -> RowOutcome:
    return RowOutcome(
        row=row[0],
        state=row[1],
        message=row[2],
        ids=json.loads(row[3]) if row[3] else None,
        reconciled=bool(row[4]),
        reason=row[5],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open the SQLite connection (a seam for tests that simulate read-only files)."""
    return sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )


# --------------------------------------------------------------------------- History
class History:
    """The sync history database. Open with ``History(path)``; close with :meth:`close`.

    Raises :class:`HistoryDiskError`, :class:`NewerSchemaError` or :class:`HistoryError`
    when the file cannot be opened or migrated. A read-only file that is already current
    opens (the history can be browsed); the first write then raises
    :class:`HistoryDiskError` with ``reason == "readonly"``, so create the run before
    sending anything. ``timeout`` is how long a write waits for another process's lock;
    ``chunk`` how many outcomes :meth:`iter_outcomes` reads at a time (tests use a small
    one to cross chunk boundaries). Every method may raise :class:`HistoryDiskError` /
    :class:`HistoryError`.
    """

    def __init__(self, path: Path | str, *, timeout: float = 10.0, chunk: int = _CHUNK) -> None:
        self.path = Path(path)
        self._chunk = chunk
        self._lock = threading.RLock()
        #: Owner locks of the runs this object is sending (see run_owner), by run id.
        self._claims: dict[int, OwnerLock] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryDiskError(
                _disk_message("cannot-open", self.path), path=self.path, reason="cannot-open"
            ) from exc
        # Created 0600 before SQLite opens it (its -wal/-shm files take the same mode); a
        # failure here is left for SQLite to report in its own words.
        with contextlib.suppress(OSError):
            make_private_file(self.path)
        try:
            self._conn = _connect(self.path, timeout)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, paths: Any, **kwargs: Any) -> History:
        """Open ``paths.history_file`` (an :class:`~recotap_desktop.store.paths.AppPaths`)
        as every command and the app do: runs left ``running`` by a process that is gone
        are marked ``interrupted`` (:meth:`mark_stale_running_as_interrupted`; a history
        that cannot be written is still opened, for browsing)."""
        history = cls(paths.history_file, **kwargs)
        try:
            history.mark_stale_running_as_interrupted()
        except HistoryDiskError:
            pass  # read-only or locked: browsing still works; a run's first write says why
        except BaseException:
            history.close()
            raise
        return history

    # ------------------------------------------------------------------ plumbing
    def _open(self) -> None:
        with self._translated():
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            self._refuse_newer(version)
            self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        if version < len(MIGRATIONS):
            self._migrate()

    def _refuse_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise NewerSchemaError(
                f"This history database was written by a newer version of recotap-desktop "
                f"(schema {version}, this version understands {len(MIGRATIONS)}). Update "
                f"recotap-desktop, or start it with --data-dir pointing to another folder "
                f"to keep this history untouched ({self.path}).",
                path=self.path,
                found=version,
                supported=len(MIGRATIONS),
            )

    def _migrate(self) -> None:
        with self._write() as conn:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            self._refuse_newer(version)
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT) under the lock."""
        with self._lock, self._translated():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, self._translated():
            return self._conn.execute(sql, params).fetchall()

    @property
    def _owners_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".owners")

    @contextlib.contextmanager
    def _owning(self, run_id: Callable[[], int]) -> Iterator[str | None]:
        """A new owner lock (its token, or None when locks cannot be made: the run then
        looks ownerless) kept for the run ``run_id()`` names once the body succeeds, and
        released when it fails."""
        try:
            lock: OwnerLock | None = OwnerLock(self._owners_dir)
        except OSError:
            lock = None
        try:
            yield lock.token if lock is not None else None
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        if lock is not None:
            with self._lock:
                self._claims[run_id()] = lock

    def run_owner(self, run_id: int) -> RunOwner | None:
        """The live process sending ``run_id`` (this object included), or None."""
        if run_id in self._claims:
            return RunOwner(os.getpid(), "", here=True)
        rows = self._read("SELECT owner, state FROM runs WHERE id = ?", (run_id,))
        if not rows or rows[0][0] is None:
            return None
        return live_owner(self._owners_dir / f"{rows[0][0]}.lock")

    def claim_run(self, run_id: int) -> None:
        """Become the one owner of ``run_id`` (before a resume or retry sends anything).

        Raises :class:`RunBusy`, naming the process, while a live process (or this
        object) holds the run; ``KeyError`` when there is no such run. The claim lasts
        until :meth:`finish_run` or :meth:`release_run`.
        """
        owner = self.run_owner(run_id)
        if owner is not None:
            raise RunBusy(run_id, owner, path=self.path)
        with self._owning(lambda: run_id) as token, self._write() as conn:
            row = conn.execute("SELECT owner FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise KeyError(run_id)
            # Checked again inside the write lock: two claimers are serialised here.
            if row[0] is not None:
                owner = live_owner(self._owners_dir / f"{row[0]}.lock")
                if owner is not None:
                    raise RunBusy(run_id, owner, path=self.path)
            conn.execute("UPDATE runs SET owner = ? WHERE id = ?", (token, run_id))

    def release_run(self, run_id: int) -> None:
        """Let go of ``run_id`` (idempotent); :meth:`finish_run` does it too."""
        with self._lock:
            lock = self._claims.pop(run_id, None)
        if lock is not None:
            lock.release()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self._read("PRAGMA user_version")[0][0])

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            for lock in self._claims.values():
                lock.release()
            self._claims.clear()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ runs
    def create_run(self, info: RunInfo, *, state: str = "running") -> int:
        """Record a new run and return its id. ``started_at`` is now (UTC)."""
        _check_run_state(state)
        for name in ("mapping_json", "options_json"):
            _refuse_secret_json(getattr(info, name), name)
        created: list[int] = []
        # The lock is held before the run exists: the run is never seen ownerless.
        with self._owning(lambda: created[0]) as token:
            created.append(self._insert_run(info, state, token))
        return created[0]

    def _insert_run(self, info: RunInfo, state: str, owner: str | None) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (kind, file_name, file_path, file_sha256, mapping_json, "
                "options_json, profile, edition, host, total_rows, state, started_at, "
                "parent_run_id, note, owner, base_url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    info.kind,
                    info.file_name,
                    info.file_path,
                    info.file_sha256,
                    info.mapping_json,
                    info.options_json,
                    info.profile,
                    info.edition,
                    info.host,
                    info.total_rows,
                    state,
                    _now(),
                    info.parent_run_id,
                    info.note,
                    owner,
                    info.base_url,
                ),
            )
            run_id = cur.lastrowid
        assert run_id is not None
        return int(run_id)

    def set_run_state(self, run_id: int, state: str) -> None:
        """Change the state of a run that has not ended (e.g. planned -> running)."""
        _check_run_state(state)
        with self._write() as conn:
            self._require_run(conn, run_id)
            conn.execute("UPDATE runs SET state = ? WHERE id = ?", (state, run_id))

    def set_note(self, run_id: int, note: str) -> None:
        """Set the free-text note of a run."""
        with self._write() as conn:
            self._require_run(conn, run_id)
            conn.execute("UPDATE runs SET note = ? WHERE id = ?", (note, run_id))

    def finish_run(self, run_id: int, state: str, counts: Mapping[str, int]) -> None:
        """End a run: final ``state`` (finished, cancelled, aborted ...), counts per row state.

        This object's claim on the run ends with it (another process may resume it now)."""
        _check_run_state(state)
        with self._write() as conn:
            self._require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET state = ?, ended_at = ?, counts_json = ? WHERE id = ?",
                (state, _now(), json.dumps(dict(counts), sort_keys=True), run_id),
            )
        self.release_run(run_id)

    @staticmethod
    def _require_run(conn: sqlite3.Connection, run_id: int) -> None:
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise KeyError(run_id)

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id; ``KeyError`` when there is none."""
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise KeyError(run_id)
        return _run_from_row(rows[0])

    def list_runs(
        self, limit: int = 200, *, profile: str | None = None, kind: str | None = None
    ) -> list[RunRecord]:
        """The most recent runs first, optionally only of one profile and/or kind."""
        where, params = _filters(profile=profile, kind=kind)
        rows = self._read(
            f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_run_from_row(r) for r in rows]

    def runs_of_file(
        self, file_sha256: str, *, kind: str, profile: str | None = None, limit: int = 20
    ) -> list[RunRecord]:
        """Runs of this kind made from a file with exactly this content, most recent first
        (optionally only those to one connection profile)."""
        where, params = _filters(file_sha256=file_sha256, kind=kind, profile=profile)
        rows = self._read(
            f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_run_from_row(r) for r in rows]

    def run_chain(self, run_id: int) -> list[RunRecord]:
        """The run and the runs it retries/resumes, oldest first."""
        rows = self._read(
            f"WITH RECURSIVE chain(id, depth) AS (SELECT ?, 0 UNION ALL "
            f"SELECT runs.parent_run_id, chain.depth + 1 FROM runs JOIN chain ON "
            f"runs.id = chain.id WHERE runs.parent_run_id IS NOT NULL AND chain.depth < 10000) "
            f"SELECT {', '.join('runs.' + c.strip() for c in _RUN_COLUMNS.split(','))} "
            f"FROM chain JOIN runs ON runs.id = chain.id ORDER BY chain.depth DESC",
            (run_id,),
        )
        if not rows:
            raise KeyError(run_id)
        return [_run_from_row(r) for r in rows]

    def interrupted_runs(self) -> list[RunRecord]:
        """Runs in state ``interrupted`` (candidates for resume), most recent first."""
        rows = self._read(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE state = 'interrupted' ORDER BY id DESC"
        )
        return [_run_from_row(r) for r in rows]

    def mark_stale_running_as_interrupted(self) -> list[int]:
        """Mark runs left ``running`` by a process that died as ``interrupted``.

        Call once at start-up. Runs of a live process (this one, or another window or
        command holding its owner lock) are left alone. ``ended_at`` becomes the time of
        the run's last journal activity; ``counts`` the outcomes recorded so far.
        Returns the ids of the runs marked.
        """
        owners_dir = self._owners_dir
        candidates = self._read("SELECT id, owner FROM runs WHERE state = 'running'")
        stale: list[int] = []
        dead_owners: set[str] = set()
        for run_id, owner in candidates:
            if run_id in self._claims:
                continue
            if owner is not None and OwnerLock.is_held(owners_dir / f"{owner}.lock"):
                continue
            stale.append(run_id)
            if owner is not None:
                dead_owners.add(owner)
        if stale:
            with self._write() as conn:
                for run_id in stale:
                    counts = dict(
                        conn.execute(
                            "SELECT state, COUNT(*) FROM row_outcomes WHERE run_id = ? "
                            "GROUP BY state",
                            (run_id,),
                        ).fetchall()
                    )
                    conn.execute(
                        "UPDATE runs SET state = 'interrupted', counts_json = ?, ended_at = "
                        "COALESCE((SELECT MAX(COALESCE(answered_at, started_at)) FROM batches "
                        "WHERE run_id = runs.id), started_at) "
                        "WHERE id = ? AND state = 'running'",
                        (json.dumps(counts, sort_keys=True), run_id),
                    )
        for owner in dead_owners:
            with contextlib.suppress(OSError):
                os.unlink(owners_dir / f"{owner}.lock")
        return stale

    # ------------------------------------------------------------------ journal
    def batch_started(self, run_id: int, batch_no: int, rows: Sequence[int]) -> None:
        """Journal a batch *before* sending it: ``rows`` are its spreadsheet rows.

        One statement in autocommit (its own transaction, synced like every commit): the
        import waits for this in front of every request, and each statement gives the GIL
        back and waits for it again, up to a switch interval when the workers are busy.
        """
        with self._lock, self._translated():
            if self._conn.in_transaction:  # a failed COMMIT whose ROLLBACK failed too
                raise HistoryError(
                    "The sync history is in an unfinished write, so the batch cannot be "
                    "journaled before it is sent. Close the app and open it again; the run "
                    "can be resumed.",
                    path=self.path,
                )
            self._conn.execute(_OPEN_BATCH, (run_id, batch_no, json.dumps(list(rows)), _now()))

    def write_journal(
        self,
        run_id: int,
        *,
        started: Sequence[tuple[int, Sequence[int]]] = (),
        answered: Sequence[tuple[int, Sequence[RowOutcome]]] = (),
        outcomes: Sequence[RowOutcome] = (),
    ) -> None:
        """Several journal writes in ONE transaction (one disk sync: a group commit).

        ``started``: ``(batch_no, rows)`` of batches about to be sent; ``answered``:
        ``(batch_no, outcomes)`` of answered batches (a batch not journaled first is recorded
        as started and answered); ``outcomes``: row outcomes outside any closed batch (for
        example, the answered rows of a batch that stays open for reconciliation).
        All or nothing: an invalid outcome or a database error writes none of them.
        """
        # Each kind of write is ONE statement over a JSON array (json_each): executemany gives
        # the GIL back and waits for it again once per row, and under the import's busy
        # workers each wait can last a switch interval, all while this holds the lock that
        # the next "about to send" entry waits for (bench/bench_import.py).
        values = list(_outcome_values(outcomes))
        for _no, batch_outcomes in answered:
            values.extend(_outcome_values(batch_outcomes))
        # A batch answered without being journaled first is recorded as started and answered.
        closed = [[no, json.dumps([o.row for o in batch_outcomes])]
                  for no, batch_outcomes in answered]
        now = _now()
        with self._write() as conn:
            if started:
                conn.executemany(
                    _OPEN_BATCH, [(run_id, no, json.dumps(list(rows)), now) for no, rows in started]
                )
            if values:
                conn.execute(_UPSERT_OUTCOMES_JSON, (run_id, json.dumps(values)))
            if closed:
                conn.execute(_CLOSE_BATCHES_JSON, (run_id, now, now, json.dumps(closed)))

    def unanswered_batches(self, run_id: int) -> list[tuple[int, list[int]]]:
        """Batches journaled as started but never answered: ``(batch_no, rows)``."""
        rows = self._read(
            "SELECT batch_no, rows_json FROM batches WHERE run_id = ? AND answered_at IS NULL "
            "ORDER BY batch_no",
            (run_id,),
        )
        return [(int(no), list(json.loads(rows_json))) for no, rows_json in rows]

    def mark_answered(self, run_id: int, batch_nos: Sequence[int]) -> None:
        """Close journal entries whose rows were answered by a later (resumed) batch."""
        now = _now()
        with self._write() as conn:
            conn.executemany(
                "UPDATE batches SET answered_at = ? WHERE run_id = ? AND batch_no = ? "
                "AND answered_at IS NULL",
                [(now, run_id, no) for no in batch_nos],
            )

    def max_batch_no(self, run_id: int) -> int:
        """The highest batch number journaled for a run (0 when none); resume goes on from it."""
        rows = self._read("SELECT MAX(batch_no) FROM batches WHERE run_id = ?", (run_id,))
        value = rows[0][0] if rows else None
        return int(value) if value is not None else 0

    # ------------------------------------------------------------------ outcomes
    def set_outcomes(self, run_id: int, outcomes: Iterable[RowOutcome]) -> None:
        """Record (or replace) outcomes, e.g. for invalid or not-sent rows; one transaction.

        ``outcomes`` may be a generator: it is consumed while writing.
        """
        with self._write() as conn:
            conn.executemany(_UPSERT_OUTCOME, _outcome_params(run_id, outcomes))

    def outcomes(self, run_id: int) -> dict[int, RowOutcome]:
        """All outcomes of a run by row number."""
        return {o.row: o for o in self.iter_outcomes(run_id)}

    def iter_outcomes(self, run_id: int) -> Iterator[RowOutcome]:
        """The outcomes of a run in row order, read in chunks (no lock held between them)."""
        last = -(2**62)
        while True:
            rows = self._read(
                "SELECT row, state, message, ids_json, reconciled, reason FROM row_outcomes "
                "WHERE run_id = ? AND row > ? ORDER BY row LIMIT ?",
                (run_id, last, self._chunk),
            )
            for row in rows:
                yield _outcome_from_row(row)
            if len(rows) < self._chunk:
                return
            last = rows[-1][0]

    def settle_outcomes(self, run_id: int, outcomes: Sequence[RowOutcome]) -> None:
        """Replace outcomes of a run that has ended (rows a later look at Recotap settled)
        and its counts with them, in one transaction; its state stays."""
        with self._write() as conn:
            self._require_run(conn, run_id)
            conn.executemany(_UPSERT_OUTCOME, _outcome_params(run_id, outcomes))
            counts = {state: int(n) for state, n in conn.execute(
                "SELECT state, COUNT(*) FROM row_outcomes WHERE run_id = ? GROUP BY state",
                (run_id,))}
            conn.execute("UPDATE runs SET counts_json = ? WHERE id = ?",
                         (json.dumps(counts, sort_keys=True), run_id))

    def counts(self, run_id: int) -> dict[str, int]:
        """Number of recorded outcomes per row state."""
        rows = self._read(
            "SELECT state, COUNT(*) FROM row_outcomes WHERE run_id = ? GROUP BY state",
            (run_id,),
        )
        return {state: int(n) for state, n in rows}

    # ------------------------------------------------------------------ sync state
    def last_sync(
        self, profile: str, resource: str = "accounts", *, host: str | None = None
    ) -> str | None:
        """When the last *complete* pull of ``resource`` on ``profile`` started.

        With ``host``, a timestamp recorded against another server is ignored.
        """
        rows = self._read(
            "SELECT last_sync, host FROM sync_state WHERE profile = ? AND resource = ?",
            (profile, resource),
        )
        if not rows:
            return None
        last, stored_host = rows[0]
        if host is not None and stored_host is not None and stored_host != host:
            return None
        return str(last)

    def set_last_sync(
        self, profile: str, ts: str, resource: str = "accounts", *, host: str | None = None
    ) -> None:
        """Remember ``ts`` for the next incremental pull.

        Call only after the whole pull finished: a partial pull must leave the previous
        value so the next pull fetches what was missed.
        """
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sync_state (profile, resource, last_sync, host, "
                "updated_at) VALUES (?, ?, ?, ?, ?)",
                (profile, resource, ts, host, _now()),
            )

    def clear_last_sync(self, profile: str, resource: str | None = None) -> None:
        """Forget the last sync (all resources when ``resource`` is None): next pull is full."""
        with self._write() as conn:
            if resource is None:
                conn.execute("DELETE FROM sync_state WHERE profile = ?", (profile,))
            else:
                conn.execute(
                    "DELETE FROM sync_state WHERE profile = ? AND resource = ?",
                    (profile, resource),
                )


_UPSERT_OUTCOME = (
    "INSERT OR REPLACE INTO row_outcomes "
    "(run_id, row, state, message, ids_json, reconciled, reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
#: :data:`_UPSERT_OUTCOME` for many rows: ``(run_id, json)``, ``json`` an array of
#: ``[row, state, message, ids, reconciled, reason]`` (``ids`` an object or null). SQLite's JSON
#: functions are built in since 3.38 (Debian 12 has 3.40; Python's Windows and macOS
#: builds bring their own).
_UPSERT_OUTCOMES_JSON = (
    "INSERT OR REPLACE INTO row_outcomes "
    "(run_id, row, state, message, ids_json, reconciled, reason) "
    "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), "
    "json_extract(value, '$[5]') FROM json_each(?)"
)
#: Open a journal entry: ``(run_id, batch_no, rows_json, started_at)``.
_OPEN_BATCH = (
    "INSERT OR REPLACE INTO batches (run_id, batch_no, rows_json, started_at, answered_at) "
    "VALUES (?, ?, ?, ?, NULL)"
)
#: Close journal entries: ``(run_id, started_at, answered_at, json)``, ``json`` an array of
#: ``[batch_no, rows_json]``; an entry that was never opened is created closed.
_CLOSE_BATCHES_JSON = (
    "INSERT INTO batches (run_id, batch_no, rows_json, started_at, answered_at) "
    "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, ? "
    "FROM json_each(?) WHERE true "
    "ON CONFLICT (run_id, batch_no) DO UPDATE SET answered_at = excluded.answered_at"
)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    """``text`` as SQLite keeps it: a NUL or a lone surrogate (a server message cut in the
    middle of an emoji, which ``json.loads`` accepts) becomes U+FFFD, instead of cutting
    the text short or leaving bytes that are not UTF-8 and make the run unreadable."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub("\ufffd", text)


def _storable_ids(ids: Mapping[str, str] | None) -> dict[str, str] | None:
    if not ids:
        return None
    return {_storable(str(k)): _storable(str(v)) for k, v in ids.items()}


def _outcome_values(outcomes: Iterable[RowOutcome]) -> Iterator[list[Any]]:
    """``[row, state, message, ids, reconciled, reason]`` per outcome for
    :data:`_UPSERT_OUTCOMES_JSON`
    (``ids`` as an object, stored as its JSON text, so no ``json.dumps`` per row)."""
    for o in outcomes:
        if o.state not in _ROW_STATES:
            raise ValueError(f"unknown row state {o.state!r} (row {o.row})")
        yield [o.row, o.state, _storable(o.message), _storable_ids(o.ids), int(o.reconciled),
               o.reason]


def _outcome_params(
    run_id: int, outcomes: Iterable[RowOutcome]
) -> Iterator[tuple[int, int, str, str, str | None, int, str]]:
    dumps = json.dumps
    for row, state, message, ids, reconciled, reason in _outcome_values(outcomes):
        yield run_id, row, state, message, dumps(ids) if ids else None, reconciled, reason


def _check_run_state(state: str) -> None:
    if state not in _RUN_STATES:
        raise ValueError(f"unknown run state {state!r}; expected one of {', '.join(RUN_STATES)}")


def _refuse_secret_json(text: str | None, name: str) -> None:
    if not text:
        return
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{name} is not valid JSON") from exc
    found = find_secret_name(value)
    if found is not None:
        raise ValueError(f"{name} contains {found!r}: secrets are never stored in the history")


def _filters(**conditions: str | None) -> tuple[str, tuple[Any, ...]]:
    parts = [f"{column} = ?" for column, value in conditions.items() if value is not None]
    params = tuple(value for value in conditions.values() if value is not None)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params
