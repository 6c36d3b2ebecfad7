"""Import benchmarks (issue: sync engine). Ratios against baselines measured in the same run.

1. Plan throughput (read + map + validate + build payloads) of a 100 000-row accounts CSV
   and the same data as XLSX, against a bare ``csv.reader`` pass over the CSV.
   Target: at least 0.35 of the bare pass (throughput ratio = bare time / plan time).
2. Import of 20 000 accounts into the sandbox at 50 ms latency per request, concurrency
   1, 4 and 8: wall time against the floor ceil(N/100) x latency / concurrency, and against
   a plain serial httpx loop over the same payloads.
   Targets: within 1.25x of the floor; at least 3x faster than the serial loop at 4.
3. Peak memory of planning a 1 000 000-row file (separate process, its peak RSS): <= 300 MB.

Run: ``.venv/bin/python bench/bench_import.py [--quick]``
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADERS = ["Record ID", "Company name", "Company Domain Name", "Tags", "LinkedIn Company Page"]


def make_csv(path: Path, n: int, prefix: str = "b") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for i in range(n):
            w.writerow(
                [
                    f"{prefix}-{i:07d}",
                    f"Bench Company {i} Ltd",
                    f"https://www.{prefix}{i}.bench-example.org/",
                    "enterprise;q2",
                    f"https://www.linkedin.com/company/{prefix}{i}",
                ]
            )
    return path


def make_xlsx(csv_path: Path, path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Accounts")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    wb.save(path)
    return path


def bare_pass(path: Path) -> float:
    t = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        for _row in csv.reader(fh):
            pass
    return time.perf_counter() - t


def plan_time(path: Path) -> tuple[float, int]:
    from recotap_desktop.domain.editions import rules_for
    from recotap_desktop.engine.plan import ImportJob, build_plan
    from recotap_desktop.files import sniff
    from recotap_desktop.records import ConvertContext, get_kind

    rules = rules_for("crm")
    kind = get_kind("accounts")
    t = time.perf_counter()
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(rules, []))
    plan = build_plan(ImportJob(kind="accounts", path=path, mapping=mapping, rules=rules))
    return time.perf_counter() - t, plan.valid_rows


def minimal_plan_time(path: Path) -> float:
    """A reference, not the product: the least work any planner must do for this file,
    with none of the engine's duties (no encoding or delimiter detection, no row numbers,
    no Problems, no fallbacks; the file is known to be clean). Read, strip, normalise
    domains and LinkedIn URLs (one regex pass per column per block of 512, the engine's
    own patterns), split tags (memoised), require cells, check two keys for duplicates
    (dict.fromkeys + isdisjoint), build the payload dicts."""
    import itertools

    from recotap_desktop.records.convert import DOMAIN_LINES, LINKEDIN_LINES

    t = time.perf_counter()
    seen_ext: dict[str, int] = {}
    seen_dom: dict[str, int] = {}
    memo: dict[str, tuple[str, ...]] = {}
    strip = str.strip
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        while block := list(itertools.islice(reader, 512)):
            cols = list(zip(*block, strict=True))
            ext = list(map(strip, cols[0]))
            name = list(map(strip, cols[1]))
            dom = DOMAIN_LINES.findall("\n".join(map(strip, cols[2])).lower())
            tags = []
            for cell in cols[3]:
                value = memo.get(cell)
                if value is None:
                    value = memo[cell] = tuple(p.strip() for p in cell.split(";") if p.strip())
                tags.append(list(value))
            li = list(map(strip, cols[4]))
            assert len(LINKEDIN_LINES.findall("\n".join(li))) == len(li)
            assert all(ext) and all(name) and all(dom)
            new_ext, new_dom = dict.fromkeys(ext, 1), dict.fromkeys(dom, 1)
            assert len(new_ext) == len(ext) and seen_ext.keys().isdisjoint(new_ext)
            assert len(new_dom) == len(dom) and seen_dom.keys().isdisjoint(new_dom)
            seen_ext.update(new_ext)
            seen_dom.update(new_dom)
            items = [
                {"externalId": a, "name": b, "domain": c, "tags": d, "linkedinUrl": e}
                for a, b, c, d, e in zip(ext, name, dom, tags, li, strict=True)
            ]
            rows += len(items)
    assert rows == sum(1 for _ in path.open(encoding="utf-8")) - 1
    return time.perf_counter() - t


def bench_plan(tmp: Path, n: int) -> list[tuple[str, float, float, str]]:
    csv_path = make_csv(tmp / "accounts.csv", n)
    xlsx_path = make_xlsx(csv_path, tmp / "accounts.xlsx")
    bare = min(bare_pass(csv_path) for _ in range(3))
    t_csv, valid = min(plan_time(csv_path) for _ in range(2))
    assert valid == n, valid
    t_min = min(minimal_plan_time(csv_path) for _ in range(2))
    t_xlsx, valid = plan_time(xlsx_path)
    assert valid == n, valid
    return [
        ("bare csv.reader pass (baseline)", bare, 1.0, ""),
        ("minimal planner, no checks (reference)", t_min, bare / t_min,
         "the least work any planner does for this file"),
        ("plan CSV (read+map+validate+payloads)", t_csv, bare / t_csv, "target >= 0.35"),
        ("plan XLSX", t_xlsx, bare / t_xlsx, "target >= 0.35"),
    ]


def _payloads(n: int, prefix: str) -> list[list[dict[str, str]]]:
    items = [
        {
            "externalId": f"{prefix}-{i}",
            "name": f"Co {i}",
            "domain": f"{prefix}{i}.bench-example.org",
        }
        for i in range(n)
    ]
    return [items[i : i + 100] for i in range(0, n, 100)]


def serial_loop(base_url: str, key: str, n: int, prefix: str) -> float:
    import httpx

    batches = _payloads(n, prefix)
    t = time.perf_counter()
    with httpx.Client(base_url=base_url, headers={"X-Api-Key": key}) as client:
        for batch in batches:
            r = client.post("accounts", json={"accounts": batch})
            r.raise_for_status()
    return time.perf_counter() - t


def threaded_loop(base_url: str, key: str, n: int, prefix: str, threads: int) -> float:
    """The same payloads from ``threads`` plain httpx loops: what the machine allows before
    any engine work (no file, no journal, no per-row results)."""
    import queue
    import threading

    import httpx

    todo: queue.SimpleQueue[list[dict[str, str]]] = queue.SimpleQueue()
    for batch in _payloads(n, prefix):
        todo.put(batch)

    def work() -> None:
        with httpx.Client(base_url=base_url, headers={"X-Api-Key": key}) as client:
            while True:
                try:
                    batch = todo.get_nowait()
                except queue.Empty:
                    return
                client.post("accounts", json={"accounts": batch}).raise_for_status()

    t = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - t


def engine_import(
    tmp: Path, base_url: str, key: str, n: int, concurrency: int, prefix: str
) -> float:
    from recotap_desktop.domain.editions import rules_for
    from recotap_desktop.engine.connection import ConnectionSpec
    from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
    from recotap_desktop.engine.runner import ImportRunner
    from recotap_desktop.files import sniff
    from recotap_desktop.records import ConvertContext, get_kind
    from recotap_desktop.store.history import History

    path = make_csv(tmp / f"imp-{prefix}.csv", n, prefix)
    rules = rules_for("crm")
    kind = get_kind("accounts")
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(rules, []))
    job = ImportJob(
        kind="accounts",
        path=path,
        mapping=mapping,
        rules=rules,
        options=ImportOptions(concurrency=concurrency),
    )
    plan = build_plan(job)
    history = History(tmp / f"h-{prefix}.sqlite3")
    conn = ConnectionSpec(base_url=base_url, edition="crm", api_key=key, profile="bench")
    t = time.perf_counter()
    result = ImportRunner(plan, conn, history).run()
    elapsed = time.perf_counter() - t
    history.close()
    assert result.counts.get("created") == n, result.counts
    return elapsed


def _start_sandbox(latency: float) -> tuple[subprocess.Popen[str], str]:
    """The sandbox in its own process, as a real server would be (no shared GIL)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recotap_desktop.sandbox",
            "--port",
            "0",
            "--accounts",
            "0",
            "--latency",
            str(latency),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1).rstrip("/") + "/api/v1/crm/"
    proc.kill()
    raise SystemExit("the sandbox did not start: " + (proc.stderr.read() if proc.stderr else ""))


def bench_import(tmp: Path, n: int, latency: float) -> list[tuple[str, float, float, str]]:
    from recotap_desktop.sandbox import DEMO_API_KEY

    proc, base = _start_sandbox(latency)
    try:
        serial = serial_loop(base, DEMO_API_KEY, n, "serial")
        rows = [("plain serial httpx loop (baseline)", serial, 1.0, "")]
        batches = math.ceil(n / 100)
        threaded = threaded_loop(base, DEMO_API_KEY, n, "threaded", 4)
        rows.append(
            (
                "4 plain httpx loops in threads (reference)",
                threaded,
                threaded / (batches * latency / 4),
                "x floor: what is left for the engine's own work",
            )
        )
        for c in (1, 4, 8):
            t = engine_import(tmp, base, DEMO_API_KEY, n, c, f"c{c}")
            floor = batches * latency / c
            target = "; targets <=1.25x floor, >=3x serial" if c == 4 else "; target <=1.25x floor"
            rows.append(
                (
                    f"engine import, concurrency {c}",
                    t,
                    t / floor,
                    f"x floor ({floor:.2f}s); {serial / t:.2f}x faster than serial{target}",
                )
            )
        return rows
    finally:
        proc.terminate()
        proc.wait(30)


def peak_rss_mb() -> float:
    from peak_rss import peak_rss_bytes  # bench/peak_rss.py

    return peak_rss_bytes() / (1024 * 1024)


def child_peak_plan(path: str) -> None:
    if path == "-":  # the baseline: interpreter and the modules planning imports
        import recotap_desktop.engine.plan
        import recotap_desktop.files
        import recotap_desktop.records  # noqa: F401

        print(json.dumps({"peak_mb": peak_rss_mb()}))
        return
    t, valid = plan_time(Path(path))
    print(json.dumps({"seconds": t, "valid": valid, "peak_mb": peak_rss_mb()}))


def bench_memory(tmp: Path, n: int) -> list[tuple[str, float, float, str]]:
    path = make_csv(tmp / "million.csv", n, "m")
    out = subprocess.run(
        [sys.executable, __file__, "--child-plan", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    base = subprocess.run(
        [sys.executable, __file__, "--child-plan", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    base_mb = json.loads(base.stdout.strip().splitlines()[-1])["peak_mb"]
    return [
        ("interpreter + imports only (baseline)", 0.0, base_mb, "MB peak RSS"),
        (f"plan {n:,} rows: peak RSS", data["seconds"], data["peak_mb"], "MB; target <= 300 MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--child-plan")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if args.child_plan:
        child_peak_plan(args.child_plan)
        return
    n_plan, n_import, n_mem = (
        (10_000, 2_000, 50_000) if args.quick else (100_000, 20_000, 1_000_000)
    )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = bench_plan(tmp, n_plan)
        rows += bench_import(tmp, n_import, 0.05)
        if not args.skip_memory:
            rows += bench_memory(tmp, n_mem)
    print(f"{'benchmark':<42} {'seconds':>9} {'ratio':>9}  note")
    for name, secs, ratio, note in rows:
        print(f"{name:<42} {secs:>9.2f} {ratio:>9.2f}  {note}")


if __name__ == "__main__":
    main()
