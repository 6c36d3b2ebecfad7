from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.domain.editions import CRM, EXTERNAL
from recotap_desktop.records import (
    ACCOUNTS,
    ColumnMapping,
    ConvertContext,
    DuplicateTracker,
    FieldType,
    Problem,
)
from recotap_desktop.records.base import DUPLICATE_IN_FILE
from tests.helpers.custom_fields import CUSTOM_FIELDS

HEADERS = ["Record ID", "Company name", "Website URL", "LinkedIn Company Page", "Tags",
           "Contract Value", "Deal Source", "Regions", "Renewal Date"]


def test_fields_per_edition(crm: ConvertContext, external: ConvertContext) -> None:
    crm_fields = {f.name: f for f in ACCOUNTS.fields(crm)}
    ext_fields = {f.name: f for f in ACCOUNTS.fields(external)}
    assert crm_fields["externalId"].required is True
    assert ext_fields["externalId"].required is False
    for fields in (crm_fields, ext_fields):
        assert fields["domain"].required and fields["name"].required
        assert fields["domain"].type is FieldType.DOMAIN
        assert fields["tags"].type is FieldType.LIST
        assert fields["linkedinUrl"].type is FieldType.URL
        assert all(f.help for f in fields.values())
        cv = fields["customFields.CONTRACT_VALUE_C"]
        assert (cv.label, cv.type, cv.custom_key, cv.required) == (
            "Contract Value", FieldType.NUMBER, "CONTRACT_VALUE_C", False)
        assert fields["customFields.DEAL_SOURCE_C"].choices == ("inbound", "outbound", "partner")
        assert fields["customFields.REGIONS_C"].type is FieldType.MULTI_CHOICE
        assert fields["customFields.RENEWAL_DATE_C"].type is FieldType.DATE
        assert fields["customFields.NOTES_C"].type is FieldType.TEXT


def test_full_row(ctx: ConvertContext) -> None:
    mapping = ACCOUNTS.automap(HEADERS, ctx)
    to_item = ACCOUNTS.compile(ctx, mapping, HEADERS)
    item, problems = to_item(2, [
        " crm-001 ", "Acme Corp", "https://www.Acme.com/about", "linkedin.com/company/acme-corp",
        "enterprise; q2-target", "75,000.00", "Partner", "emea, Americas", "2026-06-30",
    ])
    assert problems == []
    assert item == {
        "externalId": "crm-001",
        "domain": "acme.com",
        "name": "Acme Corp",
        "linkedinUrl": "https://linkedin.com/company/acme-corp",
        "tags": ["enterprise", "q2-target"],
        "customFields": {
            "CONTRACT_VALUE_C": 75000,
            "DEAL_SOURCE_C": "partner",
            "REGIONS_C": ["EMEA", "Americas"],
            "RENEWAL_DATE_C": "2026-06-30T00:00:00Z",
        },
    }


def test_empty_optionals_are_omitted(external: ConvertContext) -> None:
    item, problems = ACCOUNTS.convert(
        5, {"domain": "acme.com", "name": "Acme", "externalId": " ", "shortName": "",
            "tags": " ; ", "customFields.CONTRACT_VALUE_C": ""}, external)
    assert problems == []
    assert item == {"domain": "acme.com", "name": "Acme"}


def test_external_id_required_only_in_crm() -> None:
    values = {"domain": "acme.com", "name": "Acme", "externalId": ""}
    item, problems = ACCOUNTS.convert(7, values, ConvertContext(EXTERNAL))
    assert item == {"domain": "acme.com", "name": "Acme"} and problems == []
    item, problems = ACCOUNTS.convert(7, values, ConvertContext(CRM))
    assert item is None
    assert problems == [Problem(7, "externalId", "", "External ID is required but this cell is "
                                "empty. Fill it in.", "externalId")]


def test_problems_name_row_column_value(ctx: ConvertContext) -> None:
    to_item = ACCOUNTS.compile(ctx, ACCOUNTS.automap(HEADERS, ctx), HEADERS)
    item, problems = to_item(9, [
        "crm-9", "", "acme", "https://acme.com/x", "", "lots", "web", "EMEA;Mars", "soon",
    ])
    assert item is None
    by_column = {p.column: p for p in problems}
    assert set(by_column) == {"Company name", "Website URL", "LinkedIn Company Page",
                              "Contract Value", "Deal Source", "Regions", "Renewal Date"}
    assert all(p.row == 9 and p.is_error for p in problems)
    assert by_column["Website URL"] == Problem(
        9, "Website URL", "acme",
        "“acme” is not a company domain: it has no dot. Use the web address, e.g. acme.com.",
        "domain")
    assert by_column["Company name"].value == ""
    assert by_column["Company name"].reason == (
        "Company name is required but this cell is empty. Fill it in.")
    assert by_column["Contract Value"].value == "lots"
    assert by_column["Contract Value"].field == "customFields.CONTRACT_VALUE_C"
    assert "not one of the options of “Deal Source”: inbound, outbound, partner" in (
        by_column["Deal Source"].reason)
    assert "“Mars”" in by_column["Regions"].reason


def test_constants_fill_and_default(external: ConvertContext) -> None:
    headers = ["Domain", "Name", "Tags"]
    mapping = ColumnMapping(
        columns={"domain": "Domain", "name": "Name", "tags": "Tags"},
        constants={"tags": "imported", "customFields.DEAL_SOURCE_C": "INBOUND"},
    )
    assert ACCOUNTS.check_mapping(external, mapping, headers) == []
    to_item = ACCOUNTS.compile(external, mapping, headers)
    a, _ = to_item(2, ["a.com", "A", ""])
    b, _ = to_item(3, ["b.com", "B", "vip"])
    assert a == {"domain": "a.com", "name": "A", "tags": ["imported"],
                 "customFields": {"DEAL_SOURCE_C": "inbound"}}
    assert b is not None and b["tags"] == ["vip"]
    assert a["tags"] is not to_item(4, ["c.com", "C", ""])[0]["tags"]  # type: ignore[index]


def test_bad_constant_is_reported_with_label(external: ConvertContext) -> None:
    mapping = ColumnMapping(columns={"domain": "D", "name": "N"},
                            constants={"customFields.CONTRACT_VALUE_C": "many"})
    problems = ACCOUNTS.check_mapping(external, mapping, ["D", "N"])
    assert problems == [Problem(0, "Contract Value", "many",
                                "“many” is not a number: expected digits such as 75000 or "
                                "75,000.50, optionally with a sign and a currency (€, $, USD), and "
                                "nothing else in the cell. Fix the cell or clear it.",
                                "customFields.CONTRACT_VALUE_C")]
    item, row_problems = ACCOUNTS.compile(external, mapping, ["D", "N"])(4, ["a.com", "A"])
    assert item is None
    assert row_problems == [Problem(4, "Contract Value", "many", problems[0].reason,
                                    "customFields.CONTRACT_VALUE_C")]


def test_check_mapping_reports_missing_required(crm: ConvertContext) -> None:
    mapping = ColumnMapping(columns={"domain": "Website", "nope": "X", "name": "Gone"})
    problems = ACCOUNTS.check_mapping(crm, mapping, ["Website", "X"])
    reasons = [(p.field, p.reason) for p in problems]
    assert ("nope", "“nope” is not a field of Accounts; choose another field for this "
            "column.") in reasons
    assert ("name", "The file has no column “Gone” for Company name; pick a column of "
            "this file.") in reasons
    assert ("externalId", "External ID is required: map a column to it or set a fixed "
            "value.") in reasons
    # rows say the same, per row
    _, row_problems = ACCOUNTS.compile(crm, mapping, ["Website", "X"])(3, ["acme.com", "x"])
    assert {p.column for p in row_problems} == {"Company name", "External ID"}


def test_short_rows_are_padded(external: ConvertContext) -> None:
    to_item = ACCOUNTS.compile(external, ColumnMapping({"domain": "D", "name": "N"}), ["D", "N"])
    item, problems = to_item(2, ["acme.com"])
    assert item is None and [p.field for p in problems] == ["name"]


def test_duplicates_crm_flag_external_id_and_domain(crm: ConvertContext) -> None:
    mapping = ColumnMapping({"externalId": "ID", "domain": "Website", "name": "Name"})
    tracker = DuplicateTracker(ACCOUNTS, crm, mapping)
    assert tracker.check(2, {"externalId": "c1", "domain": "a.com", "name": "A"}) == []
    assert tracker.check(3, {"externalId": "c2", "domain": "b.com", "name": "B"}) == []
    problems = tracker.check(7, {"externalId": "c1", "domain": "b.com", "name": "A2"})
    assert problems == [
        Problem(7, "ID", "c1", "External ID “c1” is already on row 2; rows 2 and 7 describe "
                "the same record. Keep one of them (row 7 is not sent).", "externalId",
                code=DUPLICATE_IN_FILE),
        Problem(7, "Website", "b.com", "Domain “b.com” is already on row 3; rows 3 and 7 "
                "describe the same record. Keep one of them (row 7 is not sent).", "domain",
                code=DUPLICATE_IN_FILE),
    ]
    assert tracker.first_row("domain", "b.com") == 3


def test_duplicates_external_only_domain(external: ConvertContext) -> None:
    tracker = DuplicateTracker(ACCOUNTS, external)
    assert tracker.check(2, {"externalId": "c1", "domain": "a.com"}) == []
    assert tracker.check(3, {"externalId": "c1", "domain": "b.com"}) == []
    (problem,) = tracker.check(4, {"domain": "a.com"})
    assert (problem.row, problem.column, problem.value) == (4, "Domain", "a.com")
    assert "row 2" in problem.reason


def test_item_key_follows_identity(crm: ConvertContext, external: ConvertContext) -> None:
    item = {"externalId": "c1", "domain": "a.com"}
    assert ACCOUNTS.item_key(item, crm) == "c1"
    assert ACCOUNTS.item_key(item, external) == "a.com"


@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,15}[a-z0-9]\.(com|io|co\.uk|de)", fullmatch=True),
    st.sampled_from(["", "http://", "https://", "HTTPS://"]),
    st.sampled_from(["", "www.", "WWW."]),
    st.sampled_from(["", "/", "/about/team?x=1", ":443/", "."]),
    st.booleans(),
)
def test_domain_invariants_through_accounts(
    host: str, scheme: str, www: str, tail: str, upper: bool
) -> None:
    assume(not host.startswith("www."))  # "www.co.uk" is "co.uk" once www. is stripped
    raw = f"  {scheme}{www}{host.upper() if upper else host}{tail} "
    item, problems = ACCOUNTS.convert(2, {"domain": raw, "name": "X"}, ConvertContext(EXTERNAL))
    assert problems == []
    assert item is not None
    assert item["domain"] == normalise_domain(raw) == host
    assert normalise_domain(item["domain"]) == item["domain"]


@pytest.mark.parametrize("cf", CUSTOM_FIELDS, ids=lambda cf: cf.key)
def test_every_custom_field_is_a_target(cf: object, ctx: ConvertContext) -> None:
    names = {f.name for f in ACCOUNTS.fields(ctx)}
    assert f"customFields.{cf.key}" in names  # type: ignore[attr-defined]


def test_real_custom_field_model_fits() -> None:
    from recotap_desktop.api.models import CustomField

    cf = CustomField.from_json({
        "key": "DEAL_SOURCE_C", "label": "Deal Source", "labelType": "singleSelection",
        "description": None, "options": ["inbound", "outbound", "partner"],
        "objectType": "accounts", "status": "active",
    })
    context = ConvertContext.build(EXTERNAL, [cf])
    item, problems = ACCOUNTS.convert(
        2, {"domain": "acme.com", "name": "Acme", "customFields.DEAL_SOURCE_C": "PARTNER"},
        context)
    assert problems == []
    assert item == {"domain": "acme.com", "name": "Acme",
                    "customFields": {"DEAL_SOURCE_C": "partner"}}
