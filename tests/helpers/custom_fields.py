"""Custom fields as the API describes them, for the record conversion tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakeCustomField:
    key: str
    label: str
    label_type: str
    options: tuple[str, ...] = ()


CUSTOM_FIELDS = (
    FakeCustomField("CONTRACT_VALUE_C", "Contract Value", "number"),
    FakeCustomField("DEAL_SOURCE_C", "Deal Source", "singleSelection",
                    ("inbound", "outbound", "partner")),
    FakeCustomField("REGIONS_C", "Regions", "multiSelection", ("EMEA", "APAC", "Americas")),
    FakeCustomField("RENEWAL_DATE_C", "Renewal Date", "date"),
    FakeCustomField("NOTES_C", "Notes", "multiLineText"),
    FakeCustomField("CRM_STAGE_C", "CRM Stage", "singleLineText"),
)

