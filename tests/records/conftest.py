from __future__ import annotations

import pytest

from recotap_desktop.domain.editions import CRM, EXTERNAL
from recotap_desktop.records import ConvertContext
from tests.helpers.custom_fields import CUSTOM_FIELDS


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
