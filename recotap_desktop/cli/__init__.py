"""``recotap``: the headless face of recotap-desktop (scripts, CI, support).

The contract below is fixed; scripts rely on it::

    recotap [--profile NAME] [--base-url URL] [--edition crm|external] [--data-dir DIR] COMMAND
      auth set | auth test | auth clear
      segments
      fields list | fields create LABEL --type TYPE [--option O ...] [--description D]
      import KIND FILE [--mapping FILE.json] [--sheet NAME] [--segment ID] [--upsert]
             [--dry-run] [--send-unchanged] [--concurrency N] [--report OUT.csv|OUT.xlsx]
             [--yes]
      history [RUN_ID]
      retry RUN_ID [--to-profile NAME] [--yes]
      revert RUN_ID [--dry-run] [--report OUT] [--created-list OUT] [--yes]
      resume RUN_ID [--to-profile NAME] [--yes]
      sandbox [--port P] [fault knobs]
      export accounts OUT.csv|OUT.xlsx [--delta | --since ISO8601 | --full] [--domains FILE]
      unmapped [--out FILE]
      backfill CRM_FILE [--mapping FILE.json] [--dry-run] [--report OUT] [--include-name-matches]

Exit codes: 0 every row ended created/updated/upserted/unchanged; 1 the run finished but some
rows failed, were invalid or skipped; 2 bad usage or unreadable input (nothing sent);
3 the API could not be reached or refused the key, or the run aborted; 130 cancelled
with Ctrl-C (the journal is consistent and ``resume`` continues).
"""


from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from recotap_desktop import __version__
from recotap_desktop.cli import auth, backfill, export, fields, imports, sandbox
from recotap_desktop.cli.context import CliError, Context
from recotap_desktop.cli.context import _write_reports as _write_reports  # tests use it
from recotap_desktop.domain.editions import Edition, rules_for
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
    UserError,
)

__all__ = [
    "EXIT_API",
    "EXIT_CANCELLED",
    "EXIT_OK",
    "EXIT_ROWS_FAILED",
    "EXIT_USAGE",
    "CliError",
    "Context",
    "build_parser",
    "main",
]


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recotap",
        description="Move CRM files in and out of Recotap from the command line.",
        epilog="The API key comes from RECOTAP_API_KEY if set, else from the OS keychain "
        "(`recotap auth set`). RECOTAP_BASE_URL overrides the base URL.",
    )
    parser.add_argument("--version", action="version", version=f"recotap-desktop {__version__}")
    parser.add_argument("--profile", help="connection profile name (default: the active one)")
    parser.add_argument(
        "--base-url",
        help="API base URL (the whole prefix, e.g. https://eapi.recotap.com/api/v1/crm/)",
    )
    parser.add_argument(
        "--edition", choices=[e.value for e in Edition], help="API edition (default crm)"
    )
    parser.add_argument("--data-dir", type=Path, help="keep history, settings and logs under DIR")
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain-http base URL that is not loopback (the key travels unencrypted)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for group in (auth, fields, imports, export, backfill, sandbox):
        group.add_parsers(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: dict[str, str] | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> int:
    """Run ``recotap ARGV`` (default: ``sys.argv[1:]``); returns the exit code.

    For tests and embedding: ``stdin``/``stdout``/``stderr`` replace the process's
    streams, ``env`` its environment, and ``client_kwargs`` are extra keyword
    arguments of :class:`~recotap_desktop.api.client.RecotapClient` (e.g. a short
    ``deadline``, a ``retry`` policy or a ``transport``) given to every API client the
    commands open for their work, as the app's wizards and dialogs take them. The
    commands set ``on_retry`` and ``cancel_event`` themselves.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    ctx = Context(args, stdin, stdout, stderr, dict(os.environ if env is None else env),
                  client_kwargs=client_kwargs)
    try:
        if args.edition:
            rules_for(args.edition)
        return int(args.func(ctx))
    except UserError as exc:  # every error written for the user, whatever its layer
        ctx.err(f"error: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.err("Cancelled.")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # `recotap history | head`: the reader went away; not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    finally:
        ctx.close()
