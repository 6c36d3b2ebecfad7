from __future__ import annotations

from dataclasses import dataclass

import pytest

from recotap_desktop.domain.editions import CRM, EXTERNAL
from recotap_desktop.records import ConvertContext


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


@pytest.fixture(params=["crm", "external"])
def ctx(request: pytest.FixtureRequest) -> ConvertContext:
    rules = CRM if request.param == "crm" else EXTERNAL
    return ConvertContext.build(rules, CUSTOM_FIELDS)


@pytest.fixture
def crm() -> ConvertContext:
    return ConvertContext.build(CRM, CUSTOM_FIELDS)


@pytest.fixture
def external() -> ConvertContext:
    return ConvertContext.build(EXTERNAL, CUSTOM_FIELDS)
