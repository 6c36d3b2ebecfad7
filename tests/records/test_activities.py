from __future__ import annotations

from typing import Any

import pytest

from recotap_desktop.records import (
    ACTIVITIES,
    WARNING,
    ColumnMapping,
    ConvertContext,
    Grouper,
    Problem,
)

HEADERS = ["Activity ID", "Activity Type", "Activity Date", "Company Domain", "Owner Email",
           "Account Name", "Subject", "Activity Owner", "Owner ID", "From Name", "From Email",
           "Call Title", "Call Duration", "Call Outcome", "Call Direction", "Open Count",
           "Click Count", "Contact Email", "Contact ID", "Contact Name", "Job Title",
           "Department", "Seniority", "Phone", "Contact LinkedIn URL"]

CALL = ["call-001", "Call", "2026-04-22 10:30", "acme.com", "jane@yourcompany.com", "Acme Corp",
        "", "Jane Smith", "rep-123", "Jane Smith", "jane@yourcompany.com", "Discovery call",
        "30", "Connected", "Outbound", "", "", "john@acme.com", "contact-456", "John Doe",
        "VP of Engineering", "Engineering", "VP", "+1 415 555 0101",
        "https://linkedin.com/in/johndoe"]


def _compile(ctx: ConvertContext) -> Any:
    mapping = ACTIVITIES.automap(HEADERS, ctx)
    assert len(mapping.columns) == len(HEADERS)
    return ACTIVITIES.compile(ctx, mapping, HEADERS), mapping


def _row(base: list[str], **changes: str) -> list[str]:
    values = list(base)
    for header, value in changes.items():
        values[HEADERS.index(header.replace("_", " "))] = value
    return values


def test_documented_call_example(ctx: ConvertContext) -> None:
    to_item, _ = _compile(ctx)
    item, problems = to_item(2, CALL)
    assert problems == []
    assert item == {
        "externalActivityId": "call-001",
        "activityType": "call",
        "occurredAt": "2026-04-22T10:30:00Z",
        "domain": "acme.com",
        "ownerEmail": "jane@yourcompany.com",
        "accountName": "Acme Corp",
        "ownerName": "Jane Smith",
        "ownerId": "rep-123",
        "callTitle": "Discovery call",
        "durationMinutes": 30,
        "outcome": "Connected",
        "direction": "outbound",
        "from": {"name": "Jane Smith", "email": "jane@yourcompany.com"},
        "contacts": [{
            "email": "john@acme.com", "externalContactId": "contact-456", "name": "John Doe",
            "title": "VP of Engineering", "department": "Engineering", "seniority": "VP",
            "phone": "+1 415 555 0101", "linkedinUrl": "https://linkedin.com/in/johndoe",
        }],
    }


def test_email_row_drops_call_fields_with_warnings(ctx: ConvertContext) -> None:
    to_item, _ = _compile(ctx)
    values = _row(CALL, Activity_Type="E-mail", Subject="Hello", Open_Count="3",
                  Click_Count="1", Call_Duration="", Call_Outcome="")
    item, problems = to_item(5, values)
    assert item is not None
    assert item["activityType"] == "email"
    assert (item["openCount"], item["clickCount"], item["subject"]) == (3, 1, "Hello")
    assert not {"callTitle", "durationMinutes", "outcome", "direction"} & item.keys()
    assert problems == [
        Problem(5, "Call Title", "Discovery call", "Call title is only for calls; this row is an "
                "e-mail, so the value is not sent. Clear the cell to silence this warning.",
                "callTitle", WARNING),
        Problem(5, "Call Direction", "Outbound", "Call direction is only for calls; this row is "
                "an e-mail, so the value is not sent. Clear the cell to silence this warning.",
                "direction", WARNING),
    ]


def test_call_row_drops_email_fields(ctx: ConvertContext) -> None:
    to_item, _ = _compile(ctx)
    item, problems = to_item(3, _row(CALL, Open_Count="2"))
    assert item is not None and "openCount" not in item
    assert problems == [Problem(3, "Open Count", "2", "Open count is only for e-mails; this row "
                                "is a call, so the value is not sent. Clear the cell to silence "
                                "this warning.", "openCount", WARNING)]


@pytest.mark.parametrize("value", ["meeting", "task", "note"])
def test_unsupported_activity_type_is_an_error(ctx: ConvertContext, value: str) -> None:
    to_item, _ = _compile(ctx)
    item, problems = to_item(4, _row(CALL, Activity_Type=value))
    assert item is None
    assert problems == [Problem(4, "Activity Type", value, f"“{value}” is not an activity type "
                                "Recotap accepts: use call or email (the server would skip this "
                                "row).", "activityType")]


def test_activity_validation(ctx: ConvertContext) -> None:
    to_item, _ = _compile(ctx)
    values = _row(CALL, Activity_Date="someday", Owner_Email="jane", Call_Direction="sideways",
                  Call_Duration="long", Contact_Email="", Company_Domain="")
    item, problems = to_item(8, values)
    assert item is None
    assert [(p.column, p.value) for p in problems] == [
        ("Activity Date", "someday"), ("Owner Email", "jane"), ("Call Duration", "long"),
        ("Call Direction", "sideways"), ("Company Domain", ""), ("Contact Email", ""),
    ]
    assert problems[3].reason == ("“sideways” is not a call direction: use inbound or "
                                  "outbound, or clear the cell.")
    assert problems[5].reason == "Contact email is required but this cell is empty. Fill it in."


def test_direction_and_type_synonyms(ctx: ConvertContext) -> None:
    to_item, _ = _compile(ctx)
    item, _ = to_item(2, _row(CALL, Activity_Type="PHONE CALL", Call_Direction="incoming"))
    assert item is not None
    assert (item["activityType"], item["direction"]) == ("call", "inbound")


def test_duration_unit_from_header(ctx: ConvertContext) -> None:
    headers = ["Id", "Type", "Date", "Domain", "Owner Email", "Contact Email",
               "Call Duration in Seconds"]
    mapping = ACTIVITIES.automap(headers, ctx)
    assert mapping.columns["durationMinutes"] == "Call Duration in Seconds"
    to_item = ACTIVITIES.compile(ctx, mapping, headers)
    item, problems = to_item(2, ["a1", "call", "2026-01-01", "a.com", "o@x.com", "c@a.com", "90"])
    assert problems == [] and item is not None and item["durationMinutes"] == 1.5


def _grouped(ctx: ConvertContext, rows: list[list[str]]) -> tuple[Grouper, list[list[Problem]]]:
    to_item, mapping = _compile(ctx)
    grouper = Grouper(ACTIVITIES, ctx, mapping)
    added = []
    for row, values in enumerate(rows, start=2):
        item, problems = to_item(row, values)
        assert item is not None, problems
        added.append(grouper.add(row, item))
    return grouper, added


def test_rows_sharing_an_id_add_contacts(ctx: ConvertContext) -> None:
    other = _row(CALL, Activity_ID="call-002")
    second = _row(CALL, Contact_Email="mary@acme.com", Contact_ID="", Contact_Name="Mary",
                  Job_Title="", Department="", Seniority="", Phone="", Contact_LinkedIn_URL="")
    grouper, added = _grouped(ctx, [CALL, other, second])
    assert added == [[], [], []]
    good, held = grouper.finish()
    assert held == []
    assert [g.rows for g in good] == [[2, 4], [3]]
    assert good[0].item["contacts"][1] == {"email": "mary@acme.com", "name": "Mary"}
    assert len(good[0].item["contacts"]) == 2
    assert len(good[1].item["contacts"]) == 1


def test_later_rows_may_fill_empty_activity_fields(ctx: ConvertContext) -> None:
    first = _row(CALL, Subject="")
    second = _row(CALL, Subject="Intro", Contact_Email="mary@acme.com")
    grouper, added = _grouped(ctx, [first, second])
    assert added == [[], []]
    (group,) = grouper.finish()[0]
    assert group.item["subject"] == "Intro"
    assert group.origin == {"subject": 3}


def test_conflicting_activity_values(ctx: ConvertContext) -> None:
    second = _row(CALL, Activity_Date="2026-04-23 10:30", Contact_Email="mary@acme.com")
    grouper, added = _grouped(ctx, [CALL, second])
    assert added[1] == [Problem(
        3, "Activity Date", "2026-04-23T10:30:00Z",
        "Activity “call-001” has occurredAt “2026-04-22T10:30:00Z” on row 2 but "
        "“2026-04-23T10:30:00Z” here. Make the rows agree; this activity is not sent until they "
        "do.", "occurredAt")]
    good, held = grouper.finish()
    assert good == []
    assert [(p.row, p.field) for p in held] == [(2, "externalActivityId")]


def test_conflicting_sender_names_from_column(ctx: ConvertContext) -> None:
    second = _row(CALL, From_Name="Someone Else", Contact_Email="mary@acme.com")
    _, added = _grouped(ctx, [CALL, second])
    (problem,) = added[1]
    assert (problem.column, problem.field) == ("From Name", "from")


def test_repeated_contact_in_one_activity(ctx: ConvertContext) -> None:
    grouper, added = _grouped(ctx, [CALL, _row(CALL, Contact_Email="JOHN@acme.com")])
    (problem,) = added[1]
    assert (problem.row, problem.column, problem.value) == (3, "Contact Email", "JOHN@acme.com")
    assert "already listed on row 2" in problem.reason
    assert grouper.finish()[0] == []


def test_activities_do_not_track_duplicates(ctx: ConvertContext) -> None:
    assert ACTIVITIES.duplicate_fields(ctx) == ()
    assert ACTIVITIES.item_key({"externalActivityId": "a"}) == "a"


def test_constant_activity_type(ctx: ConvertContext) -> None:
    headers = ["Id", "When", "Domain", "Owner Email", "Contact Email"]
    mapping = ColumnMapping(
        {"externalActivityId": "Id", "occurredAt": "When", "domain": "Domain",
         "ownerEmail": "Owner Email", "contacts.email": "Contact Email"},
        {"activityType": "Email"},
    )
    assert ACTIVITIES.check_mapping(ctx, mapping, headers) == []
    item, problems = ACTIVITIES.compile(ctx, mapping, headers)(
        2, ["e1", "15/01/2026 10:00", "acme.com", "o@x.com", "c@acme.com"])
    assert problems == []
    assert item == {"externalActivityId": "e1", "activityType": "email",
                    "occurredAt": "2026-01-15T10:00:00Z", "domain": "acme.com",
                    "ownerEmail": "o@x.com", "contacts": [{"email": "c@acme.com"}]}
