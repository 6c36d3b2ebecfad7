"""Sales activities for ``POST /sales-activities`` (§9.11).

Layout: one row per activity and contact. An activity with several contacts is
written as several rows with the same Activity ID, each repeating the activity's
columns and adding one contact; the rows are merged (they need not be adjacent).
Rows of one activity that disagree on an activity-level value are errors naming
both rows; a contact e-mail listed twice for one activity is an error too.

Decisions (the reference leaves them open):

* ``activityType`` must be ``call`` or ``email`` (any case; ``phone call`` and
  ``e-mail`` are accepted). Anything else is an error here, before sending: the
  server would only answer "skipped".
* Only the fields of the row's type are sent. A call-only value (call title,
  duration, outcome, direction) on an e-mail row, or an e-mail-only value (open
  and click counts) on a call row, is dropped with a *warning*; the row is sent.
  Mixed files commonly carry both sets of columns.
* Each row needs a contact e-mail (the contact table's required flags are not in
  the reference; e-mail is treated as required).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import convert as cv
from .accounts import DOMAIN_ALIASES
from .base import (
    WARNING,
    Compiled,
    ConvertContext,
    Converter,
    FieldType,
    Group,
    Problem,
    RecordKind,
    TargetField,
    merge_scalars,
    on_row,
)

__all__ = ["ACTIVITIES", "ActivitiesKind"]

_UTC = " Without a time zone the time is taken as UTC."

_COMMON = [
    TargetField(
        "externalActivityId", "Activity ID", FieldType.TEXT, True,
        "Your CRM's id for the activity. Rows with the same id are one activity with "
        "several contacts.",
        aliases=("Activity ID", "Record ID", "Engagement ID", "Task ID", "Call ID", "Email ID",
                 "External Activity ID", "Event ID", "Activity - ID", "ID"),
    ),
    TargetField(
        "activityType", "Activity type", FieldType.CHOICE, True,
        "Call or email (any case). Other types are not accepted by Recotap.",
        aliases=("Activity Type", "Type", "Engagement Type", "Task Subtype", "Activity Subtype",
                 "Task Type", "Activity - Type"),
        choices=("call", "email"),
    ),
    TargetField(
        "occurredAt", "Date and time", FieldType.DATETIME, True,
        "When the call or e-mail happened, e.g. 2026-04-22 10:30." + _UTC,
        aliases=("Activity Date", "Occurred At", "Date", "Timestamp", "Activity Date/Time",
                 "Call Date", "Email Date", "Sent Date", "Email Send Date", "Date Sent",
                 "Activity - Due date", "Due Date", "Start Time", "Created Date", "Create Date"),
    ),
    TargetField(
        "domain", "Company domain", FieldType.DOMAIN, True,
        "Domain of the company the activity is with, e.g. acme.com; links it to the "
        "Recotap account.",
        aliases=("Account Domain", "Associated Company Domain", "Company Domain",
                 *DOMAIN_ALIASES),
    ),
    TargetField(
        "ownerEmail", "Owner email", FieldType.EMAIL, True,
        "E-mail of the rep who made the call or sent the e-mail.",
        aliases=("Owner Email", "Activity Owner Email", "Rep Email", "User Email",
                 "Assigned To Email", "Activity Assigned To Email", "Sales Rep Email",
                 "Owner E-mail"),
    ),
    TargetField(
        "accountName", "Account name", FieldType.TEXT, False, "The company's name.",
        aliases=("Account Name", "Company Name", "Company", "Associated Company",
                 "Company / Account", "Organization", "Organization Name", "Account"),
    ),
    TargetField(
        "subject", "Subject", FieldType.TEXT, False, "Activity title or e-mail subject.",
        aliases=("Subject", "Email Subject", "Activity Subject", "Activity - Subject",
                 "Email Title"),
    ),
    TargetField(
        "ownerName", "Owner name", FieldType.TEXT, False, "The rep's full name.",
        aliases=("Activity Owner", "Owner", "Owner Name", "Activity assigned to", "Assigned To",
                 "Assigned", "Rep Name", "Sales Rep", "Activity - Assigned to user"),
    ),
    TargetField(
        "ownerId", "Owner ID", FieldType.TEXT, False, "The rep's id in your CRM.",
        aliases=("Owner ID", "Activity Owner ID", "Assigned To ID", "HubSpot Owner ID",
                 "User ID"),
    ),
    TargetField(
        "from.name", "From name", FieldType.TEXT, False, "Sender's name.",
        aliases=("From Name", "Sender Name", "Email From Name", "From"),
    ),
    TargetField(
        "from.email", "From email", FieldType.EMAIL, False, "Sender's e-mail address.",
        aliases=("From Email", "Sender Email", "From Address", "Email From Address",
                 "From Email Address", "Sender"),
    ),
]
_CALL = [
    TargetField(
        "callTitle", "Call title", FieldType.TEXT, False,
        "Calls only: title shown in the activity feed.",
        aliases=("Call Title", "Call Name", "Call Subject"),
    ),
    TargetField(
        "durationMinutes", "Call duration", FieldType.DURATION, False,
        "Calls only: length in minutes (30), or 0:30:00, or 30m. A header mentioning "
        "seconds or ms makes plain numbers seconds or milliseconds.",
        aliases=("Call Duration", "Duration", "Call Duration (minutes)", "Duration (minutes)",
                 "Call duration (HH:mm:ss)", "Call Duration in Seconds", "Duration Minutes",
                 "Call Length"),
    ),
    TargetField(
        "outcome", "Call outcome", FieldType.TEXT, False,
        "Calls only: e.g. Connected, Left voicemail, No answer.",
        aliases=("Call Outcome", "Outcome", "Call Result", "Result", "Call Disposition",
                 "Disposition", "Call Status"),
    ),
    TargetField(
        "direction", "Call direction", FieldType.CHOICE, False,
        "Calls only: inbound or outbound.",
        aliases=("Call Direction", "Direction", "Call Type"),
        choices=("inbound", "outbound"),
    ),
]
_EMAIL = [
    TargetField(
        "openCount", "Open count", FieldType.INTEGER, False,
        "E-mails only: how many times the e-mail was opened.",
        aliases=("Open Count", "Opens", "Email Opens", "Number of Opens", "Email Open Count",
                 "Times Opened", "Email opened count"),
    ),
    TargetField(
        "clickCount", "Click count", FieldType.INTEGER, False,
        "E-mails only: how many times a link in it was clicked.",
        aliases=("Click Count", "Clicks", "Email Clicks", "Number of Clicks", "Link Clicks",
                 "Email Click Count", "Times Clicked", "Email clicked count"),
    ),
]
_CONTACT = [
    TargetField(
        "contacts.email", "Contact email", FieldType.EMAIL, True,
        "E-mail of the contact the call or e-mail was with.",
        aliases=("Contact Email", "Email", "Email Address", "Contact Email Address",
                 "Recipient Email", "To", "To Email", "To Address", "Attendee Email",
                 "Person - Email", "Associated Contact Email", "Contact E-mail"),
    ),
    TargetField(
        "contacts.externalContactId", "Contact ID", FieldType.TEXT, False,
        "Your CRM's id for the contact.",
        aliases=("Contact ID", "External Contact ID", "Contact Record ID",
                 "Associated Contact ID", "Associated Contact IDs", "Person ID", "Person - ID",
                 "Lead ID"),
    ),
    TargetField(
        "contacts.name", "Contact name", FieldType.TEXT, False, "The contact's full name.",
        aliases=("Contact Name", "Contact", "Associated Contact", "Full Name", "Recipient Name",
                 "Person - Name", "Person Name", "Attendee Name", "Name"),
    ),
    TargetField(
        "contacts.title", "Contact job title", FieldType.TEXT, False,
        "The contact's job title, e.g. VP of Engineering.",
        aliases=("Job Title", "Contact Title", "Contact Job Title", "Title", "Position",
                 "Person - Job title"),
    ),
    TargetField(
        "contacts.department", "Contact department", FieldType.TEXT, False,
        "The contact's department, e.g. Engineering.",
        aliases=("Department", "Contact Department", "Job Function"),
    ),
    TargetField(
        "contacts.seniority", "Contact seniority", FieldType.TEXT, False,
        "The contact's seniority, e.g. VP.",
        aliases=("Seniority", "Contact Seniority", "Job Level", "Management Level",
                 "Seniority Level"),
    ),
    TargetField(
        "contacts.phone", "Contact phone", FieldType.TEXT, False,
        "The contact's phone number, e.g. +1 415 555 0101.",
        aliases=("Contact Phone", "Phone", "Phone Number", "Mobile Phone", "Mobile",
                 "Direct Phone", "Person - Phone", "Contact Phone Number"),
    ),
    TargetField(
        "contacts.linkedinUrl", "Contact LinkedIn URL", FieldType.URL, False,
        "The contact's LinkedIn profile, e.g. https://linkedin.com/in/johndoe.",
        aliases=("Contact LinkedIn URL", "Contact LinkedIn", "LinkedIn Profile", "LinkedIn URL",
                 "Person Linkedin Url", "LinkedIn"),
    ),
]
_FIELDS = [*_COMMON, *_CALL, *_EMAIL, *_CONTACT]

_TOP = tuple(
    f.name for f in _COMMON if "." not in f.name and f.name != "activityType"
)
_CALL_NAMES = tuple(f.name for f in _CALL)
_EMAIL_NAMES = tuple(f.name for f in _EMAIL)
_CONTACT_KEYS = tuple((f.name.split(".", 1)[1], f.name) for f in _CONTACT)
_LABELS = {f.name: f.label for f in _FIELDS}

_TYPE_SYNONYMS = {
    "call": "call", "calls": "call", "phone call": "call", "phone": "call",
    "logged call": "call", "email": "email", "e-mail": "email", "emails": "email",
    "logged email": "email", "mail": "email",
}
_DIRECTION_SYNONYMS = {
    "inbound": "inbound", "incoming": "inbound", "outbound": "outbound", "outgoing": "outbound",
}


def _activity_type(raw: str) -> str:
    hit = _TYPE_SYNONYMS.get(" ".join(raw.casefold().split()))
    if hit is None:
        raise cv.ConversionError(
            f"“{raw}” is not an activity type Recotap accepts: use call or email "
            "(the server would skip this row)."
        )
    return hit


def _direction(raw: str) -> str:
    hit = _DIRECTION_SYNONYMS.get(raw.casefold())
    if hit is None:
        raise cv.ConversionError(
            f"“{raw}” is not a call direction: use inbound or outbound, or clear the cell."
        )
    return hit


class ActivitiesKind(RecordKind):
    """Calls and e-mails pushed with ``POST /sales-activities`` (create-only)."""

    name = "activities"
    title = "Sales activities"
    batch_size = 50
    groups_rows = True
    key_field = "externalActivityId"
    header_prefixes = ("activity", "engagement", "task", "call", "email")

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        return list(_FIELDS)

    def converter(self, f: TargetField, ctx: ConvertContext, header: str) -> Converter | None:
        if f.name == "activityType":
            return _activity_type
        if f.name == "direction":
            return _direction
        return super().converter(f, ctx, header)

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        kind = flat.get("activityType")
        if kind is None:
            return None
        item: dict[str, Any] = {}
        if "externalActivityId" in flat:
            item["externalActivityId"] = flat["externalActivityId"]
        item["activityType"] = kind
        for key in _TOP[1:]:
            if key in flat:
                item[key] = flat[key]
        keep, drop, other = (
            (_CALL_NAMES, _EMAIL_NAMES, "e-mail") if kind == "call"
            else (_EMAIL_NAMES, _CALL_NAMES, "call")
        )
        for key in keep:
            if key in flat:
                item[key] = flat[key]
        for key in drop:
            if key in flat:
                problems.append(
                    Problem(
                        row, cx.columns[key], cx.raw(key, values),
                        f"{_LABELS[key]} is only for {other}s; this row is "
                        f"{'a call' if kind == 'call' else 'an e-mail'}, so the value is not "
                        "sent. Clear the cell to silence this warning.",
                        key, WARNING,
                    )
                )
        sender = {k: flat[n] for k, n in (("name", "from.name"), ("email", "from.email"))
                  if n in flat}
        if sender:
            item["from"] = sender
        contact = {key: flat[name] for key, name in _CONTACT_KEYS if name in flat}
        item["contacts"] = [contact]
        return item

    def start_group(self, key: str, row: int, item: dict[str, Any]) -> Group:
        group = super().start_group(key, row, item)
        for contact in item["contacts"]:
            group.seen[str(contact.get("email", "")).casefold()] = row
        return group

    def merge(
        self, group: Group | dict[str, Any], item: dict[str, Any], row: int
    ) -> list[Problem]:
        group = self._as_group(group)
        problems: list[Problem] = []
        new_contacts = []
        for contact in item["contacts"]:
            email = str(contact.get("email", ""))
            first = group.seen.get(email.casefold())
            if first is not None:
                problems.append(
                    Problem(
                        row, "", email,
                        f"Contact {email} is already listed {on_row(first)} for activity "
                        f"“{group.key}”. List each contact once per activity; remove one "
                        "of the rows. The activity is not sent until then.",
                        "contacts.email",
                    )
                )
            else:
                new_contacts.append(contact)
        problems.extend(merge_scalars(group, item, row, ("contacts",), "Activity"))
        if problems:
            return problems
        for contact in new_contacts:
            group.seen[str(contact.get("email", "")).casefold()] = row
            group.item["contacts"].append(contact)
        return []


ACTIVITIES = ActivitiesKind()
