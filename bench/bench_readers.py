"""Benchmark: which XLSX reader should iter_rows use, and what our CSV layer costs.

Generates an accounts-like table (default 100 000 rows x 8 columns: text, domains,
whole numbers, decimals, dates) as XLSX (openpyxl write-only) and CSV in a temporary
directory, then times one full pass over every row with each reader. Each measurement
runs in a fresh child process so that peak memory (max RSS growth over the process
after imports) is its own. Ratios are against the baseline measured in the same run:

* XLSX: python-calamine (raw ``iter_rows``) is the baseline; openpyxl ``read_only``
  (``values_only``) is the alternative; ``recotap iter_rows`` is our reader (calamine
  plus conversion to strings, checks and row numbers).
* CSV: the bare ``csv.reader`` is the baseline; ``recotap iter_rows`` adds encoding
  handling, row numbering, quote checks and padding; ``recotap sniff`` is detection
  (sample + whole-file encoding check + header and first 1 000 rows).

Run: ``python bench/bench_readers.py [--rows N]`` (about 30 s for 100 000 rows).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ["Name", "Domain", "Country", "Industry", "Employees", "Revenue", "Created", "Score"]
COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "SE"]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Finance", "Health", "Energy"]


def _rows(n: int):
    rng = random.Random(42)
    start = dt.date(2015, 1, 1)
    for i in range(n):
        yield [
            f"Company {i} {rng.choice(['GmbH', 'Inc', 'SARL', 'Ltd'])}",
            f"company{i}.example.com",
            rng.choice(COUNTRIES),
            rng.choice(INDUSTRIES),
            rng.randint(1, 50_000),
            round(rng.uniform(1e4, 1e8), 2),
            start + dt.timedelta(days=rng.randint(0, 4000)),
            rng.randint(0, 100),
        ]


def generate(folder: Path, n: int) -> tuple[Path, Path]:
    from openpyxl import Workbook

    xlsx = folder / "accounts.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Accounts")
    ws.append(HEADERS)
    for row in _rows(n):
        ws.append(row)
    wb.save(xlsx)
    path_csv = folder / "accounts.csv"
    with path_csv.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for row in _rows(n):
            writer.writerow([v.isoformat() if isinstance(v, dt.date) else v for v in row])
    return xlsx, path_csv


# --------------------------------------------------------------- single measurements


def _calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    n = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())
    wb.close()
    return n


def _openpyxl(path: str) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    n = sum(1 for _ in ws.iter_rows(values_only=True))
    wb.close()
    return n


def _recotap_rows(path: str) -> int:
    from recotap_desktop.files import iter_rows, sniff

    return 1 + sum(1 for _ in iter_rows(sniff(path)))


def _recotap_sniff(path: str) -> int:
    from recotap_desktop.files import sniff

    return len(sniff(path).headers)


def _csv_reader(path: str) -> int:
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh))


READERS = {
    "calamine": _calamine,
    "openpyxl": _openpyxl,
    "recotap_rows": _recotap_rows,
    "recotap_sniff": _recotap_sniff,
    "csv_reader": _csv_reader,
}


def _child(name: str, path: str) -> None:
    sys.path.insert(0, str(ROOT))
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401  (imports outside the measurement)

    import recotap_desktop.files  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    count = READERS[name](path)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    print(
        json.dumps({"seconds": seconds, "rows": count, "rss_mb": (after - before) * scale / 2**20})
    )


def measure(name: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        t0 = time.perf_counter()
        xlsx, path_csv = generate(Path(tmp), args.rows)
        print(
            f"generated {args.rows:,} rows x {len(HEADERS)} columns in "
            f"{time.perf_counter() - t0:.1f}s: xlsx {xlsx.stat().st_size / 2**20:.1f} MiB, "
            f"csv {path_csv.stat().st_size / 2**20:.1f} MiB\n"
        )
        plan = [
            ("xlsx", "calamine", xlsx, "python-calamine iter_rows (baseline)"),
            ("xlsx", "openpyxl", xlsx, "openpyxl read_only values_only"),
            ("xlsx", "recotap_rows", xlsx, "recotap sniff + iter_rows"),
            ("csv", "csv_reader", path_csv, "csv.reader (baseline)"),
            ("csv", "recotap_rows", path_csv, "recotap sniff + iter_rows"),
            ("csv", "recotap_sniff", path_csv, "recotap sniff only"),
        ]
        print(
            f"{'file':<5} {'reader':<38} {'seconds':>8} {'ratio':>7} {'rows/s':>10} {'peak MiB':>9}"
        )
        print("-" * 82)
        baseline: dict[str, float] = {}
        for kind, name, path, label in plan:
            result = measure(name, path)
            seconds = result["seconds"]
            baseline.setdefault(kind, seconds)
            ratio = seconds / baseline[kind]
            rate = args.rows / seconds if name != "recotap_sniff" else float("nan")
            rate_text = f"{rate:,.0f}" if rate == rate else "-"
            print(
                f"{kind:<5} {label:<38} {seconds:8.2f} {ratio:6.2f}x {rate_text:>10} "
                f"{result['rss_mb']:9.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
