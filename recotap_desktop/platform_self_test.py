"""The Qt-free checks ``recotap-desktop --self-test`` adds for the platform it runs on.

* ``data``: the data folder the app really uses (the per-user one, or ``--data-dir``):
  the history opened; a scratch SQLite database in WAL mode is written, read back and
  removed beside it (a folder on a network or synced drive that breaks SQLite's locking
  fails here, not in the middle of a run); the folders are private (POSIX); a folder
  inside OneDrive is named (see :mod:`recotap_desktop.store.platform_checks`).
* ``reports``: the results of the self-test's import are written the way a user saves
  them (CSV with its failures-only companion, and XLSX) into a folder whose name has
  spaces and accents, then read back: every line of the CSV ends in CRLF, the rows and
  the states are the ones in the history.
* ``gatekeeper`` (macOS app bundle only): what Gatekeeper will say about this copy,
  from its ``com.apple.quarantine`` attribute.

Each function returns the detail of its ``ok`` line or raises with the reason.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from recotap_desktop.store.paths import AppPaths
from recotap_desktop.store.platform_checks import (
    PRIVATE_DIR_MODE,
    XattrReader,
    app_bundle,
    current_platform,
    data_dir_warnings,
    gatekeeper_verdict,
    make_private_file,
)

if TYPE_CHECKING:
    from recotap_desktop.store.history import History

__all__ = ["check_data_dir", "check_gatekeeper", "check_reports"]

#: Folder name of the report check: spaces and accents, as users name folders.
REPORT_FOLDER = "Rapports Société 2026"


def check_data_dir(paths: AppPaths, history_problem: str | None,
                   env: Mapping[str, str] = os.environ) -> str:
    """The data folder works for SQLite and is private; says where it is."""
    if history_problem:
        raise RuntimeError(f"the sync history cannot be opened: {history_problem}")
    probe = paths.data_dir / f".self-test-{uuid.uuid4().hex}.sqlite3"
    make_private_file(probe)
    conn = sqlite3.connect(str(probe), isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES ('Société Générale')")
        conn.execute("COMMIT")
        back = conn.execute("SELECT v FROM t").fetchone()[0]
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{probe}{suffix}").unlink(missing_ok=True)
    if str(mode).lower() != "wal" or back != "Société Générale":
        raise RuntimeError(f"SQLite in {paths.data_dir} gave journal mode {mode!r} and "
                           f"read back {back!r}")
    detail = f"{paths.data_dir}: SQLite (WAL) writes and reads back"
    if os.name == "posix":
        loose = [str(d) for d in (paths.data_dir, paths.config_dir, paths.log_dir)
                 if d.stat().st_mode & 0o777 != PRIVATE_DIR_MODE]
        if loose:
            raise RuntimeError(f"readable by other users: {', '.join(loose)} (expected "
                               f"mode {PRIVATE_DIR_MODE:o})")
        detail += "; folders private to this user (0700)"
    for warning in data_dir_warnings(paths, env):
        detail += f"; WARNING: {warning}"
    return detail


def check_reports(folder: Path, history: History, run_id: int, expected_rows: int) -> str:
    """Write a run's results as a user saves them, and read them back."""
    from recotap_desktop.engine.report import STATE_COLUMN, failures_path, write_report
    from recotap_desktop.files import iter_rows, sniff

    target = folder / REPORT_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    csv_report = target / "self-test results.csv"
    written = write_report(csv_report, history, run_id)
    failures = write_report(failures_path(csv_report), history, run_id,
                            failures_only=True)
    xlsx_report = target / "self-test results.xlsx"
    write_report(xlsx_report, history, run_id)
    if written != expected_rows or failures != 0:
        raise RuntimeError(f"the report has {written} rows (expected {expected_rows}) and "
                           f"{failures} failures")
    data = csv_report.read_bytes()
    if not data.startswith(b"\xef\xbb\xbf") or data.count(b"\n") != data.count(b"\r\n"):
        raise RuntimeError(f"{csv_report.name} is not UTF-8 with a BOM and CRLF line ends")
    for path in (csv_report, xlsx_report):
        info = sniff(path)
        state_at = list(info.headers).index(STATE_COLUMN)
        states = {values[state_at] for _n, values in iter_rows(info)}
        rows = sum(1 for _ in iter_rows(info))
        if rows != expected_rows or states != {"created"}:
            raise RuntimeError(f"{path.name} read back {rows} rows with states {states}")
    return (f"results written as CSV (UTF-8 BOM, CRLF), failures-only CSV and XLSX in "
            f"“{target}”, and read back")


def check_gatekeeper(executable: str | None = None,
                     reader: XattrReader | None = None) -> str | None:
    """macOS app bundle: what Gatekeeper says about this copy; None elsewhere.

    ``reader`` reads the bundle's extended attribute (default: macOS's ``xattr`` tool;
    see :func:`~recotap_desktop.store.platform_checks.gatekeeper_verdict`)."""
    if current_platform() != "darwin":
        return None
    bundle = app_bundle(executable)
    return None if bundle is None else gatekeeper_verdict(bundle, reader)
