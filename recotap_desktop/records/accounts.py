"""Accounts for ``POST /accounts`` (§9.2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import (
    Compiled,
    ConvertContext,
    FieldType,
    Problem,
    RecordKind,
    TargetField,
    custom_field_targets,
)

__all__ = ["ACCOUNTS", "DOMAIN_FIELD", "AccountsKind", "domain_field", "external_id_field"]

CUSTOM_PREFIX = "customFields."

DOMAIN_ALIASES = (
    "Company Domain Name", "Company Domain", "Domain", "Domain Name", "Website",
    "Website URL", "Company Website", "Web Site", "Web Address", "Primary Domain",
    "Account Website", "Organization Website", "URL", "Homepage",
)
EXTERNAL_ID_ALIASES = (
    "Record ID", "Account ID", "Company ID", "External ID", "CRM ID", "Organization ID",
    "Organisation ID", "Record ID - Company", "Account Number", "ID",
)


def domain_field(help_extra: str = "", *, required: bool = True) -> TargetField:
    """The account domain field, shared by several kinds."""
    return TargetField(
        "domain", "Domain", FieldType.DOMAIN, required,
        "The company's web domain, e.g. acme.com. Web addresses are cleaned "
        "(https://, www. and paths removed)." + help_extra,
        aliases=DOMAIN_ALIASES,
    )


DOMAIN_FIELD = domain_field()


def external_id_field(required: bool, help_text: str) -> TargetField:
    """Your system's account id."""
    return TargetField(
        "externalId", "External ID", FieldType.TEXT, required, help_text,
        aliases=EXTERNAL_ID_ALIASES,
    )


def add_custom_fields(flat: Mapping[str, Any], item: dict[str, Any], cx: Compiled) -> None:
    """Collect the custom-field values of ``flat`` into ``item["customFields"]``."""
    if not cx.custom:
        return
    custom = {key: flat[name] for name, key in cx.custom if name in flat and flat[name] != []}
    if custom:
        item["customFields"] = custom


class AccountsKind(RecordKind):
    """Companies pushed with ``POST /accounts``."""

    name = "accounts"
    needs_custom_fields = True
    title = "Accounts"
    batch_size = 100
    header_prefixes = ("company", "account", "organization", "organisation")
    plain_payload = ("externalId", "domain", "name", "shortName", "linkedinUrl", "tags")

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        rules = ctx.rules
        if rules.requires_external_id:
            ext_help = "Your CRM's id for the account. Required; it identifies the account."
        else:
            ext_help = "Your CRM's id for the account, stored for reference."
        return [
            DOMAIN_FIELD,
            TargetField(
                "name", "Company name", FieldType.TEXT, True, "The company's display name.",
                aliases=("Company name", "Company", "Account Name", "Account",
                         "Organization Name", "Organization", "Organisation Name",
                         "Organisation", "Company Name (Legal)", "Legal Name", "Name"),
            ),
            external_id_field(rules.requires_external_id, ext_help),
            TargetField(
                "shortName", "Short name", FieldType.TEXT, False,
                "A shorter name, e.g. Acme.",
                aliases=("Short Name", "Abbreviation", "Alias", "Brand Name", "Nickname"),
            ),
            TargetField(
                "linkedinUrl", "LinkedIn URL", FieldType.URL, False,
                "The LinkedIn company page, e.g. https://www.linkedin.com/company/acme.",
                aliases=("LinkedIn Company Page", "LinkedIn Company URL", "LinkedIn URL",
                         "Company LinkedIn URL", "LinkedIn Page", "LinkedIn",
                         "LinkedIn Company Profile", "LinkedIn Profile"),
            ),
            TargetField(
                "tags", "Tags", FieldType.LIST, False,
                "Free-form labels, separated by ; or , (e.g. enterprise; q2-target).",
                aliases=("Tag", "Labels", "Label", "Keywords"),
            ),
            *custom_field_targets(ctx),
        ]

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        item: dict[str, Any] = {}
        for key in ("externalId", "domain", "name", "shortName", "linkedinUrl"):
            value = flat.get(key)
            if value is not None:
                item[key] = value
        tags = flat.get("tags")
        if tags:
            item["tags"] = tags
        add_custom_fields(flat, item, cx)
        return item

    def item_key(self, item: Mapping[str, Any], ctx: ConvertContext | None = None) -> str | None:
        field = ctx.rules.account_identity_field if ctx is not None else "domain"
        value = item.get(field)
        return value if isinstance(value, str) and value else None

    def duplicate_fields(self, ctx: ConvertContext | None) -> tuple[str, ...]:
        """``domain`` always; ``externalId`` too where it is the account identity."""
        if ctx is None or ctx.rules.account_identity_field == "externalId":
            return ("externalId", "domain")
        return ("domain",)


ACCOUNTS = AccountsKind()
