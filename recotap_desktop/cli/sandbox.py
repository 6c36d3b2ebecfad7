"""``recotap sandbox``: the local sandbox server."""

from __future__ import annotations

from typing import Any

from recotap_desktop.cli.context import (
    Context,
)


def cmd_sandbox(ctx: Context) -> int:
    from recotap_desktop.sandbox.cli import run_sandbox_cli

    return int(run_sandbox_cli(ctx.args) or 0)





def add_parsers(sub: Any) -> None:
    sb = sub.add_parser("sandbox", help="run the local sandbox server (no account needed)")
    from recotap_desktop.sandbox.cli import add_sandbox_arguments

    add_sandbox_arguments(sb)
    sb.set_defaults(func=cmd_sandbox)
