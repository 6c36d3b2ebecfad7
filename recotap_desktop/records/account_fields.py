"""Custom-field updates for ``PUT /accounts/:key`` (§9.3), one account per row.

The account is named by ``rules.account_update_key``: the Recotap id ``rtp_aid``
(edition ``external``) or your ``externalId`` (edition ``crm``). Payload item::

    {"key": "<rtp_aid or externalId>", "customFields": {"CONTRACT_VALUE_C": 95000}}

Empty cells are left out, so they leave the stored value unchanged (the server
merges per key); a row with no custom-field value at all is an error, because an
empty update must never be sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .accounts import CUSTOM_PREFIX, EXTERNAL_ID_ALIASES, add_custom_fields
from .base import (
    Compiled,
    ConvertContext,
    FieldType,
    Problem,
    RecordKind,
    TargetField,
    custom_field_key,
    custom_field_targets,
)
from .mapping import ColumnMapping

__all__ = ["ACCOUNT_FIELDS", "AccountFieldsKind", "custom_field_key"]

_RTP_AID = TargetField(
    "rtp_aid", "Recotap account ID", FieldType.TEXT, True,
    "Recotap's id of the account (rtp_aid), as found in an accounts export.",
    aliases=("rtp_aid", "Recotap ID", "Recotap Account ID", "RTP AID", "RTP ID",
             "Recotap AID", "Account rtp_aid"),
)
_EXTERNAL_ID = TargetField(
    "externalId", "External ID", FieldType.TEXT, True,
    "Your CRM's id of the account, as pushed with the accounts.",
    aliases=EXTERNAL_ID_ALIASES,
)


class AccountFieldsKind(RecordKind):
    """Custom-field values of existing accounts (one request per row)."""

    name = "account-fields"
    needs_custom_fields = True
    title = "Account custom fields"
    batch_size = 1
    key_field = "key"
    header_prefixes = ("company", "account", "organization")

    def key_target(self, ctx: ConvertContext) -> TargetField:
        """The identifier field for the edition in ``ctx``."""
        return _RTP_AID if ctx.rules.account_update_key == "rtp_aid" else _EXTERNAL_ID

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        return [self.key_target(ctx), *custom_field_targets(ctx)]

    def check_mapping(
        self, ctx: ConvertContext, mapping: ColumnMapping, headers: Sequence[str]
    ) -> list[Problem]:
        problems = super().check_mapping(ctx, mapping, headers)
        present = set(headers)
        if not any(
            (name.startswith(CUSTOM_PREFIX) and header in present)
            for name, header in mapping.columns.items()
        ) and not any(n.startswith(CUSTOM_PREFIX) for n in mapping.constants):
            problems.append(
                Problem(0, "Custom fields", "", "Map at least one column to a custom field; "
                        "otherwise there is nothing to update.", "customFields")
            )
        return problems

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        key_name = self.key_target(cx.ctx).name
        item: dict[str, Any] = {}
        add_custom_fields(flat, item, cx)
        if "customFields" not in item:
            custom_columns = [
                c for n, c in cx.columns.items()
                if n.startswith(CUSTOM_PREFIX) and (n in cx.index or n in cx.constants)
            ]
            if not any(p.field.startswith(CUSTOM_PREFIX) for p in problems):
                problems.append(
                    Problem(
                        row, ", ".join(custom_columns) or "Custom fields", "",
                        "No custom-field value on this row, so there is nothing to update. "
                        "Fill in at least one, or remove the row.",
                        "customFields",
                    )
                )
            return None
        if key_name not in flat:
            return None
        return {"key": flat[key_name], "customFields": item["customFields"]}

    def source_field(self, item_field: str, ctx: ConvertContext | None) -> str:
        if item_field != "key":
            return item_field
        return self.key_target(ctx).name if ctx is not None else "key"

    def item_key(self, item: Mapping[str, Any], ctx: ConvertContext | None = None) -> str | None:
        value = item.get("key")
        return value if isinstance(value, str) and value else None


ACCOUNT_FIELDS = AccountFieldsKind()
