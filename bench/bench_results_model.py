"""Results grid benchmark: 1 000 000 rows in the results model.

Baseline: building the same rows as a list of Python tuples (``[tuple(r) for r in src]``).
Measured: loading them into :class:`ResultsData` + :class:`ResultsModel` (column-wise
storage), a state filter, a free-text filter, a sort, and — for comparison — the same
state filter through a ``QSortFilterProxyModel`` subclass with a fast-path
``filterAcceptsRow`` (the design the grid does not use; see ui/results/model.py).

Targets: load within 3x of the tuple build; state filter under 300 ms.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_results_model.py [--rows N]``
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from recotap_desktop.engine.report import MESSAGE_COLUMN, ROW_COLUMN, STATE_COLUMN  # noqa: E402
from recotap_desktop.ui.results.data import ResultsData, prepare_search  # noqa: E402
from recotap_desktop.ui.results.model import ResultsModel  # noqa: E402

HEADERS = ["Record ID", "Company name", "Company Domain Name", "Tags", ROW_COLUMN,
           STATE_COLUMN, MESSAGE_COLUMN, "recotap_rtp_aid", "recotap_externalId"]
STATES = ["created"] * 17 + ["failed", "invalid", "not sent"]


def source_rows(n: int) -> list[list[Any]]:
    """Rows shaped like engine.report.iter_report_rows: inputs, row, state, message, ids."""
    out = []
    for i in range(n):
        state = STATES[i % len(STATES)]
        message = "" if state == "created" else f"{state}: reason {i % 13}"
        out.append([f"b-crm-{i:07d}", f"Benchco {i}", f"b{i}.bench-example.org",
                    "enterprise;q2", i + 2, state, message, f"{i:024x}", f"b-crm-{i:07d}"])
    return out


def best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


class MaskProxy(QSortFilterProxyModel):
    """The alternative: a proxy whose filterAcceptsRow reads a precomputed byte mask."""

    def __init__(self) -> None:
        super().__init__()
        self.mask: bytes | None = None

    def set_mask(self, mask: bytes | None) -> None:
        self.beginFilterChange()
        self.mask = mask
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        return self.mask is None or bool(self.mask[source_row])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--proxy-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    n = args.rows
    src = source_rows(n)
    results: list[tuple[str, float, str]] = []

    t_tuples, tuples = best(lambda: [tuple(r) for r in src])
    del tuples
    results.append(("baseline: list of tuples", t_tuples, "1.00x"))

    model = ResultsModel()

    def load() -> ResultsData:
        data = ResultsData.from_report(HEADERS, src)
        model.set_results(data)
        return data

    t_load, data = best(load)
    results.append(("load into ResultsData + model", t_load, f"{t_load / t_tuples:.2f}x "
                    f"(target <= 3x)"))

    t_filter, _ = best(lambda: model.set_state_filter({"failed"}))
    visible = model.rowCount()
    results.append((f"state filter 'failed' ({visible:,} rows)", t_filter, "target < 0.300 s"))
    t_filter2, _ = best(lambda: model.set_state_filter({"failed", "invalid", "not sent"}))
    results.append((f"state filter 3 states ({model.rowCount():,})", t_filter2, ""))
    model.set_state_filter(None)

    t_prep, _ = best(lambda: (data._search_cache.clear(), prepare_search(data)), repeat=1)
    results.append(("prepare search text (loader worker)", t_prep, "off the GUI thread"))
    t_text, _ = best(lambda: model.set_text_filter("b4242"))
    results.append((f"text filter 'b4242' ({model.rowCount():,} rows)", t_text, ""))
    t_text2, _ = best(lambda: model.set_text_filter("reason 7"))
    results.append((f"text filter 'reason 7' ({model.rowCount():,})", t_text2, ""))
    t_both, _ = best(lambda: model.set_filter({"failed"}, "reason 7"))
    results.append((f"state + text ({model.rowCount():,})", t_both, ""))
    model.set_filter(None, "")
    t_sort, _ = best(lambda: model.sort(4), repeat=1)
    results.append(("sort by Company name", t_sort, "GUI thread"))
    t_sort_state, _ = best(lambda: model.sort(1), repeat=1)
    results.append(("sort by state", t_sort_state, ""))
    model.sort(0)

    tracemalloc.start()
    data2 = ResultsData.from_report(HEADERS, src)
    cur, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del data2
    results.append(("storage size (tracemalloc, MB)", cur / 1e6, "cells are shared with src"))

    pn = min(args.proxy_rows, n)
    proxy_model = model if pn == n else ResultsModel()
    if pn != n:
        proxy_model.set_results(ResultsData.from_report(HEADERS, src[:pn]))
    proxy = MaskProxy()
    start = time.perf_counter()
    proxy.setSourceModel(proxy_model)
    proxy.rowCount()
    t_proxy_attach = time.perf_counter() - start
    mask = proxy_model.results.state_mask({"failed"})
    start = time.perf_counter()
    proxy.set_mask(mask)
    proxy_rows = proxy.rowCount()
    t_proxy = time.perf_counter() - start
    results.append((f"proxy attach ({pn:,} rows, no filter)", t_proxy_attach, "alternative"))
    results.append((f"proxy state filter ({proxy_rows:,} rows)", t_proxy,
                    f"{t_proxy / t_filter:.0f}x the index-list filter"))

    print(f"\nResults model, {n:,} rows (Python {sys.version.split()[0]}, "
          f"Qt platform {app.platformName()})")
    print(f"{'measurement':<44} {'seconds':>9}  note")
    print("-" * 90)
    for name, secs, note in results:
        print(f"{name:<44} {secs:>9.3f}  {note}")
    ok_load = t_load <= 3 * t_tuples
    ok_filter = t_filter < 0.3
    print(f"\nload within 3x: {'yes' if ok_load else 'NO'}; "
          f"state filter < 300 ms: {'yes' if ok_filter else 'NO'}")


if __name__ == "__main__":
    main()
