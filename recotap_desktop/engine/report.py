"""Results files: every input column, then the row number, final state, message and ids.

The failures-only file keeps the input columns first, with their original headers,
so it can be fixed in a spreadsheet and imported again as it is (the extra
``recotap_*`` columns are ignored by the column mapping).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recotap_desktop.engine.states import SUCCESS_STATES
from recotap_desktop.files import FileProblem, SourceInfo, iter_rows, sniff
from recotap_desktop.files.writers import TableWriter
from recotap_desktop.store.history import History

ROW_COLUMN = "recotap_row"
STATE_COLUMN = "recotap_state"
MESSAGE_COLUMN = "recotap_message"
ID_PREFIX = "recotap_"
_SUCCESS = {s.value for s in SUCCESS_STATES}


def open_run_source(history: History, run_id: int) -> SourceInfo | None:
    """Re-open the file a run was made from, or None when it is gone or changed."""
    run = history.get_run(run_id)
    if not run.file_path:
        return None
    path = Path(run.file_path)
    if not path.is_file():
        return None
    if run.file_sha256 and _sha256(path) != run.file_sha256:
        return None  # the file changed: its rows would no longer match the outcomes
    options: dict[str, Any] = json.loads(run.options_json or "{}")
    try:
        info = sniff(
            path,
            encoding=options.get("encoding"),
            delimiter=options.get("delimiter"),
            sheet=options.get("sheet"),
        )
    except FileProblem:
        return None
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: A run's outcomes by row, as tuples of strings: (state, message, ids as key/value
#: pairs). The garbage collector stops tracking tuples that hold only strings, so a
#: run of 100 000 rows costs its collections nothing while a results grid loads on a
#: worker thread; RowOutcome objects and their ids dicts would be traversed by every
#: collection, holding the GIL (and the window) for a tenth of a second each.
_Compact = dict[int, tuple[str, str, tuple[tuple[str, Any], ...]]]


def _compact_outcomes(history: History, run_id: int) -> _Compact:
    return {
        o.row: (o.state, o.message, tuple(o.ids.items()) if o.ids else ())
        for o in history.iter_outcomes(run_id)
    }


def _id_keys(outcomes: _Compact) -> list[str]:
    keys: dict[str, None] = {}
    has_payload = False
    for _state, _message, ids in outcomes.values():
        for k, _v in ids:
            if k == "payload":
                has_payload = True
            else:
                keys.setdefault(k, None)
    if has_payload:
        keys.setdefault("payload", None)
    return list(keys)


def iter_report_rows(
    history: History, run_id: int, *, failures_only: bool = False
) -> tuple[list[str], Iterator[list[Any]]]:
    """Headers and rows of a run's results (input columns when the file is still there)."""
    outcomes = _compact_outcomes(history, run_id)
    id_keys = _id_keys(outcomes)
    source = open_run_source(history, run_id)
    input_headers = list(source.headers) if source is not None else []
    headers = [
        *input_headers,
        ROW_COLUMN,
        STATE_COLUMN,
        MESSAGE_COLUMN,
        *(ID_PREFIX + k for k in id_keys),
    ]
    skip = _SUCCESS if failures_only else frozenset()

    def tail(row: int, outcome: tuple[str, str, tuple[tuple[str, Any], ...]]) -> list[Any]:
        state, message, pairs = outcome
        if not pairs:
            return [row, state, message, *("" for _ in id_keys)]
        ids = dict(pairs)
        return [row, state, message, *(ids.get(k, "") for k in id_keys)]

    def rows() -> Iterator[list[Any]]:
        if source is not None:
            seen: set[int] = set()
            for row_no, values in iter_rows(source):
                o = outcomes.get(row_no)
                if o is None:
                    continue
                seen.add(row_no)
                if o[0] not in skip:
                    yield [*values, *tail(row_no, o)]
            for row_no in sorted(set(outcomes) - seen):
                o = outcomes[row_no]
                if o[0] not in skip:
                    yield ["" for _ in input_headers] + tail(row_no, o)
        else:
            for row_no in sorted(outcomes):
                o = outcomes[row_no]
                if o[0] not in skip:
                    yield tail(row_no, o)

    return headers, rows()


def write_report(path: Path, history: History, run_id: int, *, failures_only: bool = False) -> int:
    """Write a run's results to CSV or XLSX (by suffix); returns the number of data rows."""
    return write_report_file(path, history, run_id, failures_only=failures_only)[1]


def write_report_file(
    path: Path, history: History, run_id: int, *, failures_only: bool = False
) -> tuple[Path, int]:
    """:func:`write_report`, returning where the file really went (a sibling name when the
    target was locked at the end, e.g. open in Excel) and the number of data rows."""
    headers, rows = iter_report_rows(history, run_id, failures_only=failures_only)
    n = 0
    with TableWriter.open(path, headers) as writer:
        for row in rows:
            writer.write_row([str(v) if not isinstance(v, (int, float)) else v for v in row])
            n += 1
    return writer.path, n


def failures_path(report: Path) -> Path:
    """``results.csv`` -> ``results.failures.csv``."""
    return report.with_name(f"{report.stem}.failures{report.suffix}")
