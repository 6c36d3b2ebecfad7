from __future__ import annotations

from recotap_desktop.records import (
    ACCOUNT_FIELDS,
    ACCOUNTS,
    ACTIVITIES,
    DEALS,
    PIPELINES,
    ConvertContext,
    FieldType,
    TargetField,
    automap,
    normalise_header,
)

HUBSPOT_COMPANIES = [
    "Record ID", "Company name", "Company owner", "Create Date", "Phone Number",
    "Last Activity Date", "City", "Country/Region", "Industry", "Company Domain Name",
    "Website URL", "LinkedIn Company Page", "Number of Employees", "Annual Revenue",
    "Contract Value", "Lead Status",
]
SALESFORCE_ACCOUNTS = [
    "Account ID", "Account Name", "Account Owner", "Type", "Website", "Billing City",
    "Industry", "Phone", "Contract_Value__c", "Deal_Source__c", "Created Date",
]
SALESFORCE_OPPORTUNITIES = [
    "Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period",
    "Amount", "Probability (%)", "Age", "Close Date", "Created Date", "Next Step",
    "Lead Source", "Type", "Opportunity ID", "Account ID", "Opportunity Currency",
    "Owner Email",
]
PIPEDRIVE_DEALS = [
    "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage",
    "Deal - Pipeline", "Deal - Owner", "Deal - Expected close date", "Deal - Deal created",
    "Organization - Name",
]
ZOHO_DEALS = ["Deal Name", "Account Name", "Amount", "Closing Date", "Stage", "Deal Owner",
              "Created Time", "Record Id", "Pipeline", "Currency"]
HUBSPOT_CALLS = [
    "Record ID", "Activity date", "Call title", "Call duration (HH:mm:ss)", "Call outcome",
    "Call direction", "Activity assigned to", "Associated Company", "Associated Contact",
    "Email", "Company Domain Name", "Owner Email", "Activity Type",
]
SALESFORCE_TASKS = [
    "Activity ID", "Subject", "Task Subtype", "Date", "Assigned", "Company / Account",
    "Name", "Email", "Call Type", "Call Result", "Call Duration in Seconds", "Website",
    "Owner Email", "Title", "Phone",
]


def test_normalise_header() -> None:
    assert normalise_header("  Company-Domain_NAME ") == "companydomainname"
    assert normalise_header("Revenue (USD)") == "revenueusd"


def test_hubspot_companies(ctx: ConvertContext) -> None:
    mapping = ACCOUNTS.automap(HUBSPOT_COMPANIES, ctx)
    assert mapping.columns == {
        "domain": "Company Domain Name",
        "name": "Company name",
        "externalId": "Record ID",
        "linkedinUrl": "LinkedIn Company Page",
        "customFields.CONTRACT_VALUE_C": "Contract Value",
    }
    assert mapping.constants == {}


def test_salesforce_accounts(ctx: ConvertContext) -> None:
    mapping = ACCOUNTS.automap(SALESFORCE_ACCOUNTS, ctx)
    assert mapping.columns == {
        "domain": "Website",
        "name": "Account Name",
        "externalId": "Account ID",
        "customFields.CONTRACT_VALUE_C": "Contract_Value__c",
        "customFields.DEAL_SOURCE_C": "Deal_Source__c",
    }


def test_salesforce_opportunities(ctx: ConvertContext) -> None:
    assert DEALS.automap(SALESFORCE_OPPORTUNITIES, ctx).columns == {
        "externalDealId": "Opportunity ID",
        "name": "Opportunity Name",
        "amount": "Amount",
        "stageLabel": "Stage",
        "startDate": "Created Date",
        "closedDate": "Close Date",
        "ownerName": "Opportunity Owner",
        "ownerEmail": "Owner Email",
        "dealCurrencyCode": "Opportunity Currency",
        "associatedAccounts.externalId": "Account ID",
        "associatedAccounts.name": "Account Name",
    }


def test_pipedrive_deals(ctx: ConvertContext) -> None:
    assert DEALS.automap(PIPEDRIVE_DEALS, ctx).columns == {
        "externalDealId": "Deal - ID",
        "name": "Deal - Title",
        "amount": "Deal - Value",
        "stageLabel": "Deal - Stage",
        "pipelineLabel": "Deal - Pipeline",
        "startDate": "Deal - Deal created",
        "closedDate": "Deal - Expected close date",
        "ownerName": "Deal - Owner",
        "dealCurrencyCode": "Deal - Currency",
        "associatedAccounts.name": "Organization - Name",
    }


def test_zoho_deals(ctx: ConvertContext) -> None:
    assert DEALS.automap(ZOHO_DEALS, ctx).columns == {
        "externalDealId": "Record Id",
        "name": "Deal Name",
        "amount": "Amount",
        "stageLabel": "Stage",
        "pipelineLabel": "Pipeline",
        "startDate": "Created Time",
        "closedDate": "Closing Date",
        "ownerName": "Deal Owner",
        "dealCurrencyCode": "Currency",
        "associatedAccounts.name": "Account Name",
    }


def test_hubspot_calls(ctx: ConvertContext) -> None:
    assert ACTIVITIES.automap(HUBSPOT_CALLS, ctx).columns == {
        "externalActivityId": "Record ID",
        "activityType": "Activity Type",
        "occurredAt": "Activity date",
        "domain": "Company Domain Name",
        "ownerEmail": "Owner Email",
        "accountName": "Associated Company",
        "ownerName": "Activity assigned to",
        "callTitle": "Call title",
        "durationMinutes": "Call duration (HH:mm:ss)",
        "outcome": "Call outcome",
        "direction": "Call direction",
        "contacts.email": "Email",
        "contacts.name": "Associated Contact",
    }


def test_salesforce_tasks(ctx: ConvertContext) -> None:
    assert ACTIVITIES.automap(SALESFORCE_TASKS, ctx).columns == {
        "externalActivityId": "Activity ID",
        "activityType": "Task Subtype",
        "occurredAt": "Date",
        "domain": "Website",
        "ownerEmail": "Owner Email",
        "accountName": "Company / Account",
        "subject": "Subject",
        "ownerName": "Assigned",
        "durationMinutes": "Call Duration in Seconds",
        "outcome": "Call Result",
        "direction": "Call Type",
        "contacts.email": "Email",
        "contacts.name": "Name",
        "contacts.title": "Title",
        "contacts.phone": "Phone",
    }


def test_pipelines_export(ctx: ConvertContext) -> None:
    headers = ["Pipeline", "Pipeline ID", "Deal Stage", "Deal Stage ID", "Display Order"]
    assert PIPELINES.automap(headers, ctx).columns == {
        "pipelineId": "Pipeline ID", "pipelineLabel": "Pipeline",
        "stageId": "Deal Stage ID", "stageLabel": "Deal Stage",
    }


def test_exact_names_win_and_matching_ignores_case_and_punctuation(ctx: ConvertContext) -> None:
    headers = ["website", "DOMAIN", "company   name!", "external_id", "customFields.NOTES_C"]
    assert ACCOUNTS.automap(headers, ctx).columns == {
        "domain": "DOMAIN",
        "name": "company   name!",
        "externalId": "external_id",
        "customFields.NOTES_C": "customFields.NOTES_C",
    }


def test_custom_fields_by_key_or_label(ctx: ConvertContext) -> None:
    headers = ["rtp_aid", "Record ID", "contract value", "REGIONS_C", "Renewal-Date"]
    columns = ACCOUNT_FIELDS.automap(headers, ctx).columns
    assert columns["customFields.CONTRACT_VALUE_C"] == "contract value"
    assert columns["customFields.REGIONS_C"] == "REGIONS_C"
    assert columns["customFields.RENEWAL_DATE_C"] == "Renewal-Date"


def test_one_to_one_and_deterministic() -> None:
    fields = [
        TargetField("a", "Alpha", FieldType.TEXT, False, "h", aliases=("Shared",)),
        TargetField("b", "Beta", FieldType.TEXT, False, "h", aliases=("Shared",)),
    ]
    # both fields want "Shared": the first listed field gets the first such header
    assert automap(["Shared", "Shared2", "Beta"], fields).columns == {"a": "Shared", "b": "Beta"}
    assert automap(["x", "Shared"], fields).columns == {"a": "Shared"}
    # a repeated header text is used once
    assert automap(["Shared", "Shared"], fields).columns == {"a": "Shared"}
    assert automap([], fields).columns == {}
    for _ in range(3):
        assert automap(["Beta", "Alpha"], fields).columns == {"a": "Alpha", "b": "Beta"}
