"""``recotap sandbox``: run the local sandbox server until Ctrl-C.

The main CLI wires this in with :func:`add_sandbox_arguments` and
:func:`run_sandbox_cli`; :func:`main` runs it standalone
(``python -m recotap_desktop.sandbox``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from recotap_desktop.domain.editions import Edition
from recotap_desktop.sandbox.faults import Faults
from recotap_desktop.sandbox.server import DEMO_API_KEY, SandboxServer


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``recotap sandbox`` options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765,
                        help="port to listen on; 0 picks a free one (default: 8765)")
    parser.add_argument("--latency", type=_seconds, default=0.0, metavar="S",
                        help="added delay per API request, in seconds")
    parser.add_argument("--rate-429", type=_rate, default=0.0, metavar="R",
                        help="share of API requests answered 429 (0..1)")
    parser.add_argument("--retry-after", type=_seconds, default=1.0, metavar="S",
                        help="Retry-After sent with injected 429s (default: 1)")
    parser.add_argument("--rate-5xx", type=_rate, default=0.0, metavar="R",
                        help="share of API requests answered 500/503 before processing")
    parser.add_argument("--drop-before", type=_rate, default=0.0, metavar="R",
                        help="share of API requests whose connection is closed unprocessed")
    parser.add_argument("--drop-after", type=_rate, default=0.0, metavar="R",
                        help="share of API requests processed, then closed without answer")
    parser.add_argument("--shuffle-results", action="store_true",
                        help="answer the per-item results of bulk writes in shuffled order")
    parser.add_argument("--seed", type=int, default=7,
                        help="seed of the data set and of the fault draws (default: 7)")
    parser.add_argument("--accounts", type=int, default=3000,
                        help="number of seeded accounts (default: 3000)")
    parser.add_argument("--rescore-every", type=_seconds, default=None, metavar="S",
                        help="re-score some accounts every S seconds (demo mode)")


def build_server(args: argparse.Namespace) -> SandboxServer:
    """A (not yet started) server configured from parsed arguments."""
    faults = Faults(latency=args.latency, rate_429=args.rate_429,
                    retry_after=getattr(args, "retry_after", 1.0), rate_5xx=args.rate_5xx,
                    rate_drop_before=args.drop_before, rate_drop_after=args.drop_after,
                    shuffle_results=getattr(args, "shuffle_results", False), seed=args.seed)
    return SandboxServer(host=getattr(args, "host", "127.0.0.1"), port=args.port,
                         faults=faults, accounts=args.accounts, seed=args.seed,
                         rescore_every=getattr(args, "rescore_every", None))


def run_sandbox_cli(args: argparse.Namespace, *, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Serve until Ctrl-C; prints the base URLs of both editions and the demo key.

    Returns the process exit code (0 after Ctrl-C, 2 when the port cannot be bound).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    server = build_server(args)
    try:
        server._bind()
    except OSError as exc:
        print(f"recotap sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=err)
        return 2
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        # Started in the background of a shell (which ignores Ctrl-C for such jobs):
        # Ctrl-C / SIGINT must still stop it, as the line below says.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(f"Recotap sandbox listening on {server.root_url}", file=out)
        print(f"  CRM API (Revision A):      {server.base_url(Edition.CRM)}", file=out)
        print(f"  External API (Revision B): {server.base_url(Edition.EXTERNAL)}", file=out)
        print(f"  API key (sandbox only):    {DEMO_API_KEY}", file=out)
        print(f"  Inspection:                {server.inspect_url('state')}", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping the sandbox.", file=out, flush=True)
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry: ``python -m recotap_desktop.sandbox [options]``."""
    parser = argparse.ArgumentParser(prog="recotap sandbox",
                                     description="Run a local Recotap API sandbox.")
    add_sandbox_arguments(parser)
    return run_sandbox_cli(parser.parse_args(argv))
