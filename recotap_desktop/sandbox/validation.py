"""Request validation in the style of NestJS + class-validator.

Every check adds a ``(property, rule, message)`` violation; :meth:`Violations.raise_if_any`
turns them into one 400 answer whose ``data`` is a list of
``{"property": <name>, "constraints": {<rule>: <message>}}`` objects, exactly the
documented flavour (§4.2). Nested item errors are reported with the leaf property
name (``"domain"``), as in the documented example; identical violations from several
items are reported once. Nothing is processed when validation fails.

Every DTO is whitelisted (``forbidNonWhitelisted``), at every level of nesting: a
property the reference does not document for that object (a misspelt ``upsrt``, a
``domain`` on a PUT, a ``phone`` on ``from``) is a 400 ``whitelistValidation``
violation ``property <name> should not exist``. The one free-form map is
``customFields`` (its keys are checked against the active custom fields by the
business rules, per item on POST, whole request on PUT). The e-mail fields of a
sales activity are known only up to ``clickCount`` (the stored docs are cut there);
the whitelist holds the fields the reference names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from recotap_desktop.sandbox.errors import ApiError

_MISSING = object()

#: ISO-4217 codes the sandbox accepts for ``dealCurrencyCode`` (sandbox-only rule).
CURRENCY_CODES = frozenset({
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP",
    "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KES", "KRW", "MAD", "MXN",
    "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "SAR", "SEK", "SGD",
    "THB", "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
})

#: Maximum length of account ``name`` and activity ``subject`` (sandbox-only rules).
MAX_TEXT_LENGTH = 255

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


def parse_iso8601(value: object) -> datetime | None:
    """Parse an ISO 8601 date or datetime string; ``None`` when it is not one.

    Dates without an offset are taken as UTC. Fractions beyond microseconds are cut.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _ISO_DATE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    if not _ISO_DATETIME.match(text):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def is_email(value: object) -> bool:
    """True for a plausible e-mail address (close to validator.js ``isEmail``)."""
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL.match(value))


class Violations:
    """Collects class-validator style violations."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, str]] = {}

    def add(self, prop: str, rule: str, message: str) -> None:
        """Record one violated rule of ``prop``."""
        self._items.setdefault(prop, {}).setdefault(rule, message)

    def __bool__(self) -> bool:
        return bool(self._items)

    def data(self) -> list[dict[str, Any]]:
        """The ``data`` array of the 400 answer."""
        return [{"property": p, "constraints": dict(c)} for p, c in self._items.items()]

    def raise_if_any(self) -> None:
        """Raise the 400 validation answer if anything was recorded."""
        if self._items:
            raise ApiError(400, data=self.data())

    # ---- rules -------------------------------------------------------------

    def not_empty(self, obj: Mapping[str, Any], prop: str) -> bool:
        """``@IsNotEmpty() @IsString()``: returns True when the value is usable."""
        value = obj.get(prop, _MISSING)
        if value is _MISSING or value is None or value == "":
            self.add(prop, "isNotEmpty", f"{prop} should not be empty")
            if value is _MISSING or value is None:
                self.add(prop, "isString", f"{prop} must be a string")
            return False
        if not isinstance(value, str):
            self.add(prop, "isString", f"{prop} must be a string")
            return False
        return True

    def required_string(self, obj: Mapping[str, Any], prop: str) -> bool:
        """``@IsString()`` only (documented for [A] ``externalId``)."""
        value = obj.get(prop, _MISSING)
        if not isinstance(value, str):
            self.add(prop, "isString", f"{prop} must be a string")
            return False
        if value == "":
            self.add(prop, "isNotEmpty", f"{prop} should not be empty")
            return False
        return True

    def optional_string(self, obj: Mapping[str, Any], prop: str, *, max_length: int | None = None
                        ) -> None:
        """``@IsOptional() @IsString() [@MaxLength()]``."""
        value = obj.get(prop)
        if value is None:
            return
        if not isinstance(value, str):
            self.add(prop, "isString", f"{prop} must be a string")
            return
        self.max_length(obj, prop, max_length)

    def max_length(self, obj: Mapping[str, Any], prop: str, max_length: int | None) -> None:
        """``@MaxLength(n)`` on a string value."""
        value = obj.get(prop)
        if max_length is not None and isinstance(value, str) and len(value) > max_length:
            self.add(prop, "maxLength",
                     f"{prop} must be shorter than or equal to {max_length} characters")

    def optional_iso8601(self, obj: Mapping[str, Any], prop: str, *, required: bool = False
                         ) -> None:
        """``@IsISO8601()`` (optional unless ``required``)."""
        value = obj.get(prop)
        if value is None and not required:
            return
        if parse_iso8601(value) is None:
            self.add(prop, "isIso8601", f"{prop} must be a valid ISO 8601 date string")

    def optional_email(self, obj: Mapping[str, Any], prop: str, *, required: bool = False
                       ) -> None:
        """``@IsEmail()`` (optional unless ``required``)."""
        value = obj.get(prop)
        if value is None and not required:
            return
        if not is_email(value):
            self.add(prop, "isEmail", f"{prop} must be an email")

    def optional_number(self, obj: Mapping[str, Any], prop: str) -> None:
        """``@IsOptional() @IsNumber()``."""
        value = obj.get(prop)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(prop, "isNumber",
                     f"{prop} must be a number conforming to the specified constraints")

    def optional_in(self, obj: Mapping[str, Any], prop: str, allowed: Iterable[str]) -> None:
        """``@IsOptional() @IsIn([...])``."""
        value = obj.get(prop)
        allowed = list(allowed)
        if value is None:
            return
        if value not in allowed:
            self.add(prop, "isIn",
                     f"{prop} must be one of the following values: {', '.join(allowed)}")

    def optional_bool(self, obj: Mapping[str, Any], prop: str) -> None:
        """``@IsOptional() @IsBoolean()``."""
        value = obj.get(prop)
        if value is not None and not isinstance(value, bool):
            self.add(prop, "isBoolean", f"{prop} must be a boolean value")

    def optional_object(self, obj: Mapping[str, Any], prop: str) -> None:
        """``@IsOptional() @IsObject()``."""
        value = obj.get(prop)
        if value is not None and not isinstance(value, dict):
            self.add(prop, "isObject", f"{prop} must be an object")

    def optional_string_array(self, obj: Mapping[str, Any], prop: str) -> None:
        """``@IsOptional() @IsArray() @IsString({each: true})``."""
        value = obj.get(prop)
        if value is None:
            return
        if not isinstance(value, list):
            self.add(prop, "isArray", f"{prop} must be an array")
        elif not all(isinstance(v, str) for v in value):
            self.add(prop, "isString", f"each value in {prop} must be a string")

    def array(self, obj: Mapping[str, Any], prop: str, *, min_size: int = 1,
              max_size: int | None = None, required: bool = True) -> list[Any] | None:
        """``@IsArray() @ArrayMinSize() @ArrayMaxSize()``; returns the list when valid."""
        value = obj.get(prop, _MISSING)
        if (value is _MISSING or value is None) and not required:
            return None
        if not isinstance(value, list):
            self.add(prop, "isArray", f"{prop} must be an array")
            if min_size:
                self.add(prop, "arrayMinSize", f"{prop} must contain at least {min_size} elements")
            return None
        ok = True
        if len(value) < min_size:
            self.add(prop, "arrayMinSize", f"{prop} must contain at least {min_size} elements")
            ok = False
        if max_size is not None and len(value) > max_size:
            self.add(prop, "arrayMaxSize",
                     f"{prop} must contain no more than {max_size} elements")
            ok = False
        return value if ok else None

    def objects(self, items: list[Any], prop: str) -> list[dict[str, Any]]:
        """``@ValidateNested({each: true})``: items that are objects; flags the others."""
        good: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, dict):
                good.append(item)
            else:
                self.add(prop, "nestedValidation",
                         f"nested property {prop} must be either object or array")
        return good

    def whitelist(self, obj: Mapping[str, Any], allowed: Iterable[str]) -> None:
        """``forbidNonWhitelisted``: every other property is an error."""
        allowed_set = set(allowed)
        for prop in obj:
            if prop not in allowed_set:
                self.add(prop, "whitelistValidation", f"property {prop} should not exist")


def body_object(body: Any) -> dict[str, Any]:
    """The request body as an object (a non-object body counts as ``{}``, like Nest)."""
    return body if isinstance(body, dict) else {}


# ---- DTOs per endpoint --------------------------------------------------------

#: Documented properties of each request object (§9), for the whitelist.
ACCOUNT_PROPS = ("externalId", "domain", "name", "shortName", "linkedinUrl", "tags",
                 "customFields")
MAPPING_PROPS = ("domain", "externalId")
CUSTOM_FIELD_PROPS = ("label", "labelType", "description", "options")
DEAL_PROPS = ("externalDealId", "name", "amount", "stageId", "stageLabel", "pipelineId",
              "pipelineLabel", "startDate", "closedDate", "ownerName", "ownerEmail", "ownerId",
              "dealCurrencyCode", "associatedAccounts")
ASSOCIATED_ACCOUNT_PROPS = ("externalId", "domain", "name")
PIPELINE_PROPS = ("pipelineId", "pipelineLabel", "stages")
STAGE_PROPS = ("stageId", "stageLabel")
ACTIVITY_PROPS = ("externalActivityId", "activityType", "occurredAt", "domain", "ownerEmail",
                  "contacts", "accountName", "subject", "ownerName", "ownerId", "from",
                  "callTitle", "durationMinutes", "outcome", "direction",
                  "openCount", "clickCount")
SENDER_PROPS = ("name", "email")
CONTACT_PROPS = ("email", "externalContactId", "name", "title", "department", "seniority",
                 "phone", "linkedinUrl")


def validate_create_accounts(body: dict[str, Any], *, requires_external_id: bool,
                             supports_upsert: bool) -> list[dict[str, Any]]:
    """POST /accounts. Returns the account objects."""
    v = Violations()
    v.whitelist(body, ("accounts", "segmentId", "upsert") if supports_upsert
                else ("accounts", "segmentId"))
    items = v.array(body, "accounts", max_size=100)
    v.optional_string(body, "segmentId")
    if supports_upsert:
        v.optional_bool(body, "upsert")
    accounts = v.objects(items, "accounts") if items is not None else []
    for acc in accounts:
        v.whitelist(acc, ACCOUNT_PROPS)
        v.not_empty(acc, "domain")
        if v.not_empty(acc, "name"):
            v.max_length(acc, "name", MAX_TEXT_LENGTH)
        if requires_external_id:
            v.required_string(acc, "externalId")
        else:
            v.optional_string(acc, "externalId")
        v.optional_string(acc, "shortName")
        v.optional_string(acc, "linkedinUrl")
        v.optional_string_array(acc, "tags")
        v.optional_object(acc, "customFields")
    v.raise_if_any()
    return accounts


def validate_update_account(body: dict[str, Any]) -> dict[str, Any]:
    """PUT /accounts/:key. Returns the ``customFields`` object (possibly empty)."""
    v = Violations()
    v.whitelist(body, ["customFields"])
    v.optional_object(body, "customFields")
    v.raise_if_any()
    fields = body.get("customFields")
    return dict(fields) if isinstance(fields, dict) else {}


def validate_mappings(body: dict[str, Any]) -> list[dict[str, Any]]:
    """PATCH /accounts/external-ids."""
    v = Violations()
    v.whitelist(body, ("mappings",))
    items = v.array(body, "mappings", max_size=100)
    mappings = v.objects(items, "mappings") if items is not None else []
    for m in mappings:
        v.whitelist(m, MAPPING_PROPS)
        v.not_empty(m, "domain")
        v.not_empty(m, "externalId")
    v.raise_if_any()
    return mappings


LABEL_TYPES = ("singleLineText", "multiLineText", "singleSelection", "multiSelection",
               "number", "date")
SELECTION_TYPES = ("singleSelection", "multiSelection")


def validate_custom_field(body: dict[str, Any]) -> dict[str, Any]:
    """POST /accounts/custom-field."""
    v = Violations()
    v.whitelist(body, CUSTOM_FIELD_PROPS)
    v.not_empty(body, "label")
    label_type = body.get("labelType")
    if label_type not in LABEL_TYPES:
        v.add("labelType", "isIn",
              f"labelType must be one of the following values: {', '.join(LABEL_TYPES)}")
    v.optional_string(body, "description")
    if label_type in SELECTION_TYPES:
        options = v.array(body, "options", min_size=1)
        if options is not None and not all(isinstance(o, str) and o for o in options):
            v.add("options", "isString", "each value in options must be a string")
    else:
        v.optional_string_array(body, "options")
    v.raise_if_any()
    return body


def validate_deals(body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /deals (incl. the sandbox-only ``dealCurrencyCode`` rule)."""
    v = Violations()
    v.whitelist(body, ("deals",))
    items = v.array(body, "deals", max_size=100)
    deals = v.objects(items, "deals") if items is not None else []
    for d in deals:
        v.whitelist(d, DEAL_PROPS)
        v.not_empty(d, "externalDealId")
        v.not_empty(d, "name")
        v.optional_number(d, "amount")
        for prop in ("stageId", "stageLabel", "pipelineId", "pipelineLabel", "ownerName",
                     "ownerId"):
            v.optional_string(d, prop)
        v.optional_iso8601(d, "startDate")
        v.optional_iso8601(d, "closedDate")
        v.optional_email(d, "ownerEmail")
        code = d.get("dealCurrencyCode")
        if code is not None and (not isinstance(code, str)
                                 or code.upper() not in CURRENCY_CODES):
            v.add("dealCurrencyCode", "isISO4217CurrencyCode",
                  "dealCurrencyCode must be a valid ISO 4217 currency code")
        linked = v.array(d, "associatedAccounts", min_size=0, required=False)
        for acc in v.objects(linked, "associatedAccounts") if linked else []:
            v.whitelist(acc, ASSOCIATED_ACCOUNT_PROPS)
            for prop in ("externalId", "domain", "name"):
                v.optional_string(acc, prop)
    v.raise_if_any()
    return deals


def validate_pipelines(body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /deal-stages."""
    v = Violations()
    v.whitelist(body, ("pipelines",))
    items = v.array(body, "pipelines", max_size=20)
    pipelines = v.objects(items, "pipelines") if items is not None else []
    for p in pipelines:
        v.whitelist(p, PIPELINE_PROPS)
        v.not_empty(p, "pipelineId")
        v.not_empty(p, "pipelineLabel")
        stages = v.array(p, "stages", min_size=1)
        for s in v.objects(stages, "stages") if stages is not None else []:
            v.whitelist(s, STAGE_PROPS)
            v.not_empty(s, "stageId")
            v.not_empty(s, "stageLabel")
    v.raise_if_any()
    return pipelines


def validate_activities(body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /sales-activities (incl. the sandbox-only ``subject`` length rule)."""
    v = Violations()
    v.whitelist(body, ("activities",))
    items = v.array(body, "activities", max_size=50)
    activities = v.objects(items, "activities") if items is not None else []
    for a in activities:
        v.whitelist(a, ACTIVITY_PROPS)
        v.not_empty(a, "externalActivityId")
        v.not_empty(a, "activityType")
        v.optional_iso8601(a, "occurredAt", required=True)
        v.not_empty(a, "domain")
        v.optional_email(a, "ownerEmail", required=True)
        contacts = v.array(a, "contacts", min_size=1)
        for c in v.objects(contacts, "contacts") if contacts is not None else []:
            # The contact table is not in the stored docs; the reference says to treat
            # ``email`` as required, so ``contacts: [{}]`` is refused.
            v.whitelist(c, CONTACT_PROPS)
            v.optional_email(c, "email", required=True)
            for prop in CONTACT_PROPS[1:]:
                v.optional_string(c, prop)
        for prop in ("accountName", "ownerName", "ownerId", "callTitle", "outcome"):
            v.optional_string(a, prop)
        v.optional_string(a, "subject", max_length=MAX_TEXT_LENGTH)
        v.optional_number(a, "durationMinutes")
        v.optional_number(a, "openCount")
        v.optional_number(a, "clickCount")
        v.optional_in(a, "direction", ("inbound", "outbound"))
        v.optional_object(a, "from")
        sender = a.get("from")
        if isinstance(sender, dict):
            v.whitelist(sender, SENDER_PROPS)
            v.optional_string(sender, "name")
            v.optional_email(sender, "email")
    v.raise_if_any()
    return activities
