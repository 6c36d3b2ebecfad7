"""Pull of many accounts from the sandbox: wall time against the latency floor, and memory.

A sandbox with ``--accounts`` accounts (default 100 000) runs in its own process, so
the numbers below are the client's alone. Each measurement runs in a fresh child
process (its own peak RSS):

* ``client only``   ``RecotapClient.iter_account_pages`` to the end, rows discarded:
                    the baseline measured in the same run;
* ``export csv``    :func:`export_accounts` to a CSV file (with the label row);
* ``export xlsx``   the same to an XLSX file.

Timed runs use the sandbox's per-request ``--latency`` (default 50 ms) and no
tracemalloc (it slows Python code down). The floor is ``ceil(N / 100) * latency``: one
page of 100 per round trip, nothing else (the target is at most 1.2x the floor).
Memory runs set the latency to 0 (it does not change what is held) and record the
tracemalloc peak (Python objects) and the growth of the peak RSS (VmHWM on Linux) over
the child's baseline after imports; the target is under 200 MB.

    .venv/bin/python bench/bench_pull.py [--accounts 100000] [--latency 0.05]
        [--edition external|crm] [--skip-xlsx]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout

from recotap_desktop.sandbox import DEMO_API_KEY  # noqa: E402

MB = 1024 * 1024


def _maxrss_bytes() -> int:
    from peak_rss import peak_rss_bytes  # bench/peak_rss.py

    return peak_rss_bytes()


# ------------------------------------------------------------------------------ child


def child(variant: str, base_url: str, edition: str, traced: bool) -> dict[str, float]:
    """One measurement in this (fresh) process; returns the numbers as a dict."""
    from recotap_desktop.api import RecotapClient
    from recotap_desktop.engine.connection import ConnectionSpec
    from recotap_desktop.engine.export import ExportOptions, export_accounts
    from recotap_desktop.engine.states import RunState
    from recotap_desktop.store.history import History

    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    history = History(work / "history.sqlite3")
    conn = ConnectionSpec(base_url=base_url, edition=edition, api_key=DEMO_API_KEY,
                          profile="bench")
    rss0 = _maxrss_bytes()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    rows = 0
    if variant == "client":
        with RecotapClient(DEMO_API_KEY, base_url=base_url, edition=edition) as client:
            for page in client.iter_account_pages(limit=100):
                rows += len(page.accounts)
    else:
        out = work / f"accounts.{variant}"
        result = export_accounts(conn, out, history, ExportOptions(mode="full"))
        if result.state is not RunState.FINISHED:
            raise SystemExit(f"export {variant} ended {result.state}: {result.message}")
        rows = result.exported
    wall = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    history.close()
    size = sum(p.stat().st_size for p in work.glob("accounts.*"))
    return {"rows": rows, "wall": wall, "tracemalloc_peak": peak,
            "rss_delta": _maxrss_bytes() - rss0, "file_size": size}


def _run_child(variant: str, base_url: str, edition: str, traced: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", variant, "--base-url", base_url,
           "--edition", edition] + (["--traced"] if traced else [])
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------------------ parent


def _set_latency(root: str, latency: float) -> None:
    req = urllib.request.Request(f"{root}/_sandbox/faults", method="POST",
                                 data=json.dumps({"latency": latency}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as answer:  # loopback only
        answer.read()


def _start_sandbox(accounts: int) -> tuple[subprocess.Popen[str], str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop.sandbox", "--port", "0", "--accounts",
         str(accounts)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1), time.perf_counter() - start
    proc.kill()
    raise SystemExit("the sandbox did not start: " + (proc.stderr.read() if proc.stderr else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--edition", choices=["external", "crm"], default="external")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.base_url, args.edition, args.traced)))
        return 0

    n, latency = args.accounts, args.latency
    proc, root, seeded = _start_sandbox(n)
    try:
        prefix = "/api/v1/crm/" if args.edition == "crm" else "/api/v1/"
        base_url = root + prefix
        variants = ["client", "csv"] + ([] if args.skip_xlsx else ["xlsx"])
        timed: dict[str, dict[str, float]] = {}
        traced: dict[str, dict[str, float]] = {}
        _set_latency(root, latency)
        for v in variants:
            timed[v] = _run_child(v, base_url, args.edition, traced=False)
        _set_latency(root, 0.0)
        for v in variants:
            traced[v] = _run_child(v, base_url, args.edition, traced=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    pages = math.ceil(n / 100)
    floor = pages * latency
    print(f"Pull of {n:,} accounts ({args.edition} edition, {pages:,} pages of 100) from a "
          f"sandbox in another process (seeded in {seeded:.1f} s), {latency * 1000:.0f} ms "
          f"latency per request; floor = {pages:,} x {latency * 1000:.0f} ms = {floor:.1f} s")
    print()
    head = (f"{'variant':<13} {'rows':>8} {'wall s':>8} {'x floor':>8} {'x client':>9} "
            f"{'tracemalloc MB':>15} {'RSS delta MB':>13} {'file MB':>8}")
    print(head)
    print("-" * len(head))
    base = timed["client"]["wall"]
    for v in variants:
        t, m = timed[v], traced[v]
        label = "client only" if v == "client" else f"export {v}"
        print(f"{label:<13} {int(t['rows']):>8,} {t['wall']:>8.1f} {t['wall'] / floor:>8.3f} "
              f"{t['wall'] / base:>9.3f} {m['tracemalloc_peak'] / MB:>15.1f} "
              f"{max(t['rss_delta'], m['rss_delta']) / MB:>13.1f} {t['file_size'] / MB:>8.1f}")
    print()
    print("wall: timed run without tracemalloc; tracemalloc: peak of the Python heap in a run "
          "at 0 ms latency; RSS delta: growth of the peak RSS over the child's own baseline "
          "after imports (larger of the two runs). Targets: wall <= 1.2 x floor, memory "
          "< 200 MB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
