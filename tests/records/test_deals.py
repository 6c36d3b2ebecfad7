from __future__ import annotations

from recotap_desktop.records import DEALS, ColumnMapping, ConvertContext, DuplicateTracker, Problem
from recotap_desktop.records.base import DUPLICATE_IN_FILE

HUBSPOT = ["Record ID", "Deal Name", "Deal Stage", "Close Date", "Deal owner", "Amount",
           "Pipeline", "Create Date", "Currency", "Owner Email", "Associated Company",
           "Company Domain"]


def test_documented_example(ctx: ConvertContext) -> None:
    item, problems = DEALS.convert(2, {
        "externalDealId": "deal-001", "name": "Acme Corp - Enterprise Plan", "amount": "75000",
        "stageId": "stage-3", "stageLabel": "Proposal Sent", "pipelineId": "smb-pipeline",
        "pipelineLabel": "SMB Sales", "startDate": "2026-01-15", "closedDate": "2026-06-30",
        "ownerName": "Jane Smith", "ownerEmail": "jane@yourcompany.com", "ownerId": "rep-123",
        "dealCurrencyCode": "USD", "associatedAccounts.externalId": "crm-001",
        "associatedAccounts.domain": "www.acme.com", "associatedAccounts.name": "Acme Corp",
    }, ctx)
    assert problems == []
    assert item == {
        "externalDealId": "deal-001",
        "name": "Acme Corp - Enterprise Plan",
        "amount": 75000,
        "stageId": "stage-3",
        "stageLabel": "Proposal Sent",
        "pipelineId": "smb-pipeline",
        "pipelineLabel": "SMB Sales",
        "startDate": "2026-01-15T00:00:00Z",
        "closedDate": "2026-06-30T00:00:00Z",
        "ownerName": "Jane Smith",
        "ownerEmail": "jane@yourcompany.com",
        "ownerId": "rep-123",
        "dealCurrencyCode": "USD",
        "associatedAccounts": [{"domain": "acme.com", "externalId": "crm-001",
                                "name": "Acme Corp"}],
    }


def test_hubspot_export_row(ctx: ConvertContext) -> None:
    mapping = DEALS.automap(HUBSPOT, ctx)
    assert mapping.columns == {
        "externalDealId": "Record ID", "name": "Deal Name", "amount": "Amount",
        "stageLabel": "Deal Stage", "pipelineLabel": "Pipeline", "startDate": "Create Date",
        "closedDate": "Close Date", "ownerName": "Deal owner", "ownerEmail": "Owner Email",
        "dealCurrencyCode": "Currency", "associatedAccounts.domain": "Company Domain",
        "associatedAccounts.name": "Associated Company",
    }
    to_item = DEALS.compile(ctx, mapping, HUBSPOT)
    item, problems = to_item(2, ["1234", "Big deal", "Closed Won", "2026-03-31 17:00",
                                 "Jane Smith", "12500.50", "Sales Pipeline",
                                 "2026-01-15T09:00:00+01:00", "eur", "", "Acme", ""])
    assert problems == []
    assert item == {
        "externalDealId": "1234", "name": "Big deal", "amount": 12500.5,
        "stageLabel": "Closed Won", "pipelineLabel": "Sales Pipeline",
        "startDate": "2026-01-15T08:00:00Z", "closedDate": "2026-03-31T17:00:00Z",
        "ownerName": "Jane Smith", "dealCurrencyCode": "eur",
        "associatedAccounts": [{"name": "Acme"}],
    }


def test_deal_validation(ctx: ConvertContext) -> None:
    item, problems = DEALS.convert(4, {"externalDealId": "", "name": "X", "amount": "lots",
                                       "ownerEmail": "jane at acme", "startDate": "yesterday",
                                       "associatedAccounts.domain": "acme"}, ctx)
    assert item is None
    assert [(p.row, p.column, p.value) for p in problems] == [
        (4, "amount", "lots"), (4, "ownerEmail", "jane at acme"), (4, "startDate", "yesterday"),
        (4, "associatedAccounts.domain", "acme"), (4, "externalDealId", ""),
    ]
    assert problems[1].reason == ("“jane at acme” is not a valid e-mail address. Write it like "
                                  "name@company.com.")


def test_deal_duplicates(ctx: ConvertContext) -> None:
    tracker = DuplicateTracker(DEALS, ctx, ColumnMapping({"externalDealId": "Record ID"}))
    assert tracker.check(2, {"externalDealId": "d1", "name": "a"}) == []
    assert tracker.check(3, {"externalDealId": "d2", "name": "a"}) == []
    assert tracker.check(9, {"externalDealId": "d1", "name": "b"}) == [
        Problem(9, "Record ID", "d1", "Deal ID “d1” is already on row 2; rows 2 and 9 describe "
                "the same record. Keep one of them (row 9 is not sent).", "externalDealId",
                code=DUPLICATE_IN_FILE)
    ]
    assert DEALS.item_key({"externalDealId": "d1"}) == "d1"
