"""``recotap auth set | test | clear``: the API key of a connection."""

from __future__ import annotations

import getpass
from dataclasses import replace
from typing import Any

from recotap_desktop.cli.context import (
    CliError,
    Context,
)
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_OK,
)
from recotap_desktop.store.secrets import KeychainUnavailable


def cmd_auth(ctx: Context) -> int:
    action = ctx.args.auth_action
    name = ctx.profile_name
    if action == "set":
        if ctx.stdin.isatty():
            key = getpass.getpass(f"API key for {name!r} (input hidden): ")
        else:
            key = ctx.stdin.readline()
        key = key.strip()
        if not key:
            raise CliError("No API key given; nothing was stored.")
        try:
            ctx.keystore.set(name, key)
        except KeychainUnavailable as exc:
            raise CliError(exc.message, EXIT_API) from exc
        settings = ctx.settings
        if settings.get_profile(name) is None:
            from recotap_desktop.store.settings import Profile

            settings.upsert_profile(
                Profile(name=name, edition=ctx.args.edition or "crm", base_url=ctx.args.base_url)
            )
            if settings.active_profile is None:
                settings.active_profile = name
            settings.save()
        ctx.out(f"API key for {name!r} stored in {ctx.keystore.backend_name()}.")
        return EXIT_OK
    if action == "clear":
        try:
            ctx.keystore.delete(name)
        except KeychainUnavailable as exc:
            raise CliError(exc.message, EXIT_API) from exc
        ctx.out(f"API key for {name!r} removed from {ctx.keystore.backend_name()}.")
        return EXIT_OK
    return _auth_test(ctx, name)


def _auth_test(ctx: Context, name: str) -> int:
    """Probe both editions' paths with the key and keep the one that answers (issue 18: 8)."""
    from datetime import UTC, datetime

    from recotap_desktop.api.detect import detect_edition

    conn = ctx.connection()
    found = detect_edition(conn.api_key, base_url=conn.base_url, preferred=conn.edition,
                           allow_insecure_http=conn.allow_insecure_http, timeout=conn.timeout)
    if found.chosen is None:
        raise CliError(found.message[:1].upper() + found.message[1:], EXIT_API)
    rules = found.chosen.rules
    ctx.out(f"OK: {conn.host} accepted the key. Detected edition: {rules.name} ({rules.title}).")
    if found.both_answered:
        ctx.out(f"Both editions answer; kept {rules.name} (choose with --edition).")
    settings = ctx.settings
    profile = settings.get_profile(name)
    if profile is not None:
        base = found.chosen.base_url if profile.base_url else profile.base_url
        settings.upsert_profile(replace(profile, edition=rules.name, base_url=base,
                                        last_verified=datetime.now(UTC).isoformat()))
        settings.save()
        if profile.edition != rules.name:
            ctx.out(f"Connection {name!r} now uses the {rules.title}.")
    return EXIT_OK





def add_parsers(sub: Any) -> None:
    auth = sub.add_parser("auth", help="store, test or clear the API key")
    auth.add_argument("auth_action", choices=["set", "test", "clear"])
    auth.set_defaults(func=cmd_auth)
