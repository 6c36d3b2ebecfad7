"""``recotap segments`` and ``recotap fields list | create``."""

from __future__ import annotations

from typing import Any

from recotap_desktop.cli.context import (
    CliError,
    Context,
)
from recotap_desktop.errors import (
    EXIT_OK,
)


def cmd_segments(ctx: Context) -> int:
    conn = ctx.connection()
    with conn.open(**ctx.client_kwargs) as client:
        segments = client.list_segments()
    if not segments:
        ctx.out("No static segments (active or draft) in this workspace.")
        return EXIT_OK
    width = max(len(s.segment_id) for s in segments)
    for s in segments:
        ctx.out(f"{s.segment_id:<{width}}  {s.status:<7}  {s.name}")
    return EXIT_OK


def cmd_fields(ctx: Context) -> int:
    from recotap_desktop.api import Conflict, RequestRejected
    from recotap_desktop.records import custom_field_key

    creating = ctx.args.fields_action == "create"
    if creating:
        label = ctx.args.label.strip()
        if not label:
            raise CliError("The label is empty; Recotap derives the field's key from it.")
        options = [o.strip() for o in ctx.args.option or [] if o.strip()]
        if ctx.args.type in ("singleSelection", "multiSelection") and not options:
            raise CliError(
                f"A {ctx.args.type} field needs its choices: add --option CHOICE for each."
            )
        if options and ctx.args.type not in ("singleSelection", "multiSelection"):
            raise CliError("--option only applies to singleSelection and multiSelection fields.")
    conn = ctx.connection()
    with conn.open(**ctx.client_kwargs) as client:
        if creating:
            key = custom_field_key(label)
            try:
                created = client.create_custom_field(
                    label, ctx.args.type, description=ctx.args.description, options=options or None
                )
            except Conflict as exc:
                raise CliError(
                    f"A field with key {key} already exists ({exc.server_message})."
                ) from exc
            except RequestRejected as exc:
                raise CliError(f"Recotap refused the field: {exc.server_message}") from exc
            ctx.out(f"Created {created.key} ({created.label_type}).")
            return EXIT_OK
        fields = client.list_custom_fields()
    if not fields:
        ctx.out("No active account custom fields.")
    for f in fields:
        choices = f" [{', '.join(f.options)}]" if f.options else ""
        ctx.out(f"{f.key}\t{f.label_type}\t{f.label}{choices}")
    return EXIT_OK





def add_parsers(sub: Any) -> None:
    seg = sub.add_parser("segments", help="list static segments (active or draft)")
    seg.set_defaults(func=cmd_segments)

    fields = sub.add_parser("fields", help="list or create account custom fields")
    fsub = fields.add_subparsers(dest="fields_action", required=True)
    fsub.add_parser("list", help="list active account custom fields")
    fcreate = fsub.add_parser("create", help="create an account custom field")
    fcreate.add_argument("label")
    fcreate.add_argument(
        "--type",
        required=True,
        choices=[
            "singleLineText",
            "multiLineText",
            "singleSelection",
            "multiSelection",
            "number",
            "date",
        ],
    )
    fcreate.add_argument("--option", action="append", help="a choice (selection types; repeat)")
    fcreate.add_argument("--description")
    fields.set_defaults(func=cmd_fields)
