"""Deals for ``POST /deals`` (§9.9).

The three ``associatedAccounts.*`` columns (account domain, id, name) build one
associated account per deal. The currency code is sent as written: the client
does not check it against ISO 4217 (the server decides).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .accounts import DOMAIN_ALIASES
from .base import Compiled, ConvertContext, FieldType, Problem, RecordKind, TargetField

__all__ = ["DEALS", "DealsKind"]

_UTC = " Without a time zone the time is taken as UTC."

_FIELDS = [
    TargetField(
        "externalDealId", "Deal ID", FieldType.TEXT, True,
        "Your CRM's id for the deal. A known id updates that deal.",
        aliases=("Deal ID", "Opportunity ID", "Record ID", "Deal Record ID", "External Deal ID",
                 "Deal - ID", "ID"),
    ),
    TargetField(
        "name", "Deal name", FieldType.TEXT, True, "The deal's title.",
        aliases=("Deal Name", "Opportunity Name", "Deal Title", "Deal - Title", "Title",
                 "Opportunity", "Deal", "Name"),
    ),
    TargetField(
        "amount", "Amount", FieldType.NUMBER, False,
        "The deal value as a number, e.g. 75000 or 75,000.50.",
        aliases=("Amount", "Deal Amount", "Deal Value", "Deal - Value", "Value",
                 "Opportunity Amount", "Total Amount", "Amount in company currency",
                 "Expected Revenue"),
    ),
    TargetField(
        "stageId", "Stage ID", FieldType.TEXT, False,
        "Your CRM's id for the deal's stage (as pushed with the pipelines).",
        aliases=("Stage ID", "Deal Stage ID", "Stage Id", "Opportunity Stage ID"),
    ),
    TargetField(
        "stageLabel", "Stage", FieldType.TEXT, False, "The stage's display name.",
        aliases=("Deal Stage", "Stage", "Stage Name", "Stage Label", "Deal - Stage",
                 "Opportunity Stage", "Sales Stage", "Status"),
    ),
    TargetField(
        "pipelineId", "Pipeline ID", FieldType.TEXT, False,
        "Your CRM's id for the deal's pipeline.",
        aliases=("Pipeline ID", "Deal Pipeline ID", "Pipeline Id"),
    ),
    TargetField(
        "pipelineLabel", "Pipeline", FieldType.TEXT, False, "The pipeline's display name.",
        aliases=("Pipeline", "Pipeline Name", "Deal Pipeline", "Deal - Pipeline",
                 "Pipeline Label", "Sales Pipeline"),
    ),
    TargetField(
        "startDate", "Start date", FieldType.DATETIME, False,
        "When the deal started, e.g. 2026-01-15." + _UTC,
        aliases=("Create Date", "Created Date", "Start Date", "Deal Created", "Created On",
                 "Created Time", "Deal - Deal created", "Deal created on", "Date Created",
                 "Opportunity Created Date", "Created"),
    ),
    TargetField(
        "closedDate", "Close date", FieldType.DATETIME, False,
        "Expected or actual close date, e.g. 2026-06-30." + _UTC,
        aliases=("Close Date", "Closed Date", "Expected Close Date", "Closing Date",
                 "Deal - Expected close date", "Estimated Close Date", "Est. Close Date",
                 "Actual Close Date", "Close"),
    ),
    TargetField(
        "ownerName", "Owner name", FieldType.TEXT, False, "The owning sales rep's name.",
        aliases=("Deal Owner", "Owner", "Owner Name", "Opportunity Owner", "Deal - Owner",
                 "Deal Owner Name", "Sales Rep", "Assigned To", "Owner Full Name"),
    ),
    TargetField(
        "ownerEmail", "Owner email", FieldType.EMAIL, False,
        "The owning sales rep's e-mail address.",
        aliases=("Owner Email", "Deal Owner Email", "Opportunity Owner Email", "Owner E-mail",
                 "Deal Owner E-mail", "Sales Rep Email", "Owner Email Address"),
    ),
    TargetField(
        "ownerId", "Owner ID", FieldType.TEXT, False, "The owning rep's id in your CRM.",
        aliases=("Owner ID", "Deal Owner ID", "Opportunity Owner ID", "HubSpot Owner ID",
                 "Owner Id", "User ID"),
    ),
    TargetField(
        "dealCurrencyCode", "Currency", FieldType.TEXT, False,
        "Currency code such as USD, EUR or GBP.",
        aliases=("Currency", "Currency Code", "Deal Currency", "Deal Currency Code",
                 "Deal - Currency", "Opportunity Currency", "Amount Currency", "Currency ISO Code"),
    ),
    TargetField(
        "associatedAccounts.domain", "Account domain", FieldType.DOMAIN, False,
        "Domain of the company this deal belongs to, e.g. acme.com; links the deal to "
        "the Recotap account.",
        aliases=("Account Domain", "Associated Company Domain", "Company Domain",
                 "Account Website", "Organization Domain", *DOMAIN_ALIASES),
    ),
    TargetField(
        "associatedAccounts.externalId", "Account ID", FieldType.TEXT, False,
        "Your CRM's id for that company.",
        aliases=("Account ID", "Associated Company ID", "Associated Company IDs",
                 "Company ID", "Account External ID", "Organization ID", "Organisation ID",
                 "Associated Company ID (Primary)"),
    ),
    TargetField(
        "associatedAccounts.name", "Account name", FieldType.TEXT, False,
        "That company's name.",
        aliases=("Account Name", "Associated Company", "Company Name", "Company",
                 "Organization Name", "Organization - Name", "Organization", "Organisation",
                 "Associated Company (Primary)", "Account"),
    ),
]

_TOP = tuple(f.name for f in _FIELDS if "." not in f.name)
_ASSOC = (("domain", "associatedAccounts.domain"),
          ("externalId", "associatedAccounts.externalId"),
          ("name", "associatedAccounts.name"))


class DealsKind(RecordKind):
    """Deals pushed with ``POST /deals`` (upsert by ``externalDealId``)."""

    name = "deals"
    title = "Deals"
    batch_size = 100
    key_field = "externalDealId"
    header_prefixes = ("deal", "opportunity")

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        return list(_FIELDS)

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        item = {key: flat[key] for key in _TOP if key in flat}
        account = {key: flat[name] for key, name in _ASSOC if name in flat}
        if account:
            item["associatedAccounts"] = [account]
        return item


DEALS = DealsKind()
