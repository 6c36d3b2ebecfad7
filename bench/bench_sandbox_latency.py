"""Does the sandbox add delay of its own? Serial keep-alive requests at a set latency.

Runs N serial requests over one keep-alive connection (httpx) against the sandbox
with ``Faults.latency`` set, and prints the ratio of the measured time to the ideal
``N * latency``. A ratio near 1.0 means the server adds nothing; a server that wrote
headers and body separately without TCP_NODELAY would show ~1.8 at 50 ms (Nagle +
delayed ACK add ~40 ms per request). The zero-latency run of the same loop is the
baseline overhead measured in the same run.

    .venv/bin/python bench/bench_sandbox_latency.py [--requests 200] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer


def _loop(server: SandboxServer, n: int, path: str, body: dict[str, object] | None) -> float:
    with httpx.Client(headers={"X-Api-Key": DEMO_API_KEY}, timeout=30) as client:
        url = server.base_url("external") + path
        client.get(server.base_url("external") + "segments")  # open the connection first
        start = time.perf_counter()
        for i in range(n):
            if body is None:
                response = client.get(url, params={"limit": 100})
            else:
                response = client.post(url, json={"deals": [{"externalDealId": f"b-{i}",
                                                             "name": "Bench"}]})
            response.raise_for_status()
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args(argv)
    n, latency = args.requests, args.latency
    faults = Faults()
    with SandboxServer(accounts=3000, faults=faults) as server:
        for label, path, body in (("GET /accounts?limit=100", "accounts", None),
                                  ("POST /deals", "deals", {})):
            faults.latency = 0.0
            base = _loop(server, n, path, body)
            faults.latency = latency
            elapsed = _loop(server, n, path, body)
            ideal = n * latency
            print(f"{label}: {n} serial requests at {latency * 1000:.0f} ms latency: "
                  f"{elapsed:.2f} s (ideal {ideal:.2f} s), ratio {elapsed / ideal:.3f}; "
                  f"zero-latency baseline {base / n * 1000:.2f} ms/request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
