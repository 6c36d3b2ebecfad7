"""Routing and request handling of the API editions, independent of sockets.

:func:`handle_api` takes a parsed request and returns a :class:`Reply`; the HTTP
plumbing in :mod:`recotap_desktop.sandbox.server` only reads and writes bytes.

As strict as the reference (§3, §9): after the route and the key are checked, a
write (``POST``/``PUT``/``PATCH``) whose ``Content-Type`` is not
``application/json`` is refused with a 400 (no status other than 400 is documented
for a malformed request; the body is never guessed at), and a query parameter
that the endpoint's page does not document is a 400 ``whitelistValidation``
violation (:data:`QUERY_PARAMS`; e.g. ``cursor`` or ``lastSync`` on
``missing-external-ids``, anything on ``custom-fields``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from recotap_desktop.domain.editions import CRM, EXTERNAL, EditionRules
from recotap_desktop.sandbox import validation as val
from recotap_desktop.sandbox.data import JOURNEY_STAGES
from recotap_desktop.sandbox.errors import ApiError, business_error, not_found_route
from recotap_desktop.sandbox.state import SandboxState, is_rtp_aid, iso

CRM_PREFIX = "/api/v1/crm/"
EXTERNAL_PREFIX = "/api/v1/"
MAX_LIMIT = 100


@dataclass
class Reply:
    """An answer: status, JSON document, extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiRequest:
    """A parsed request to an ``/api/`` route."""

    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes


def envelope(path: str, data: Any, status: int = 200) -> dict[str, Any]:
    """The documented success envelope."""
    return {"statusCode": status, "timestamp": iso(datetime.now(UTC)), "path": path,
            "data": data}


def error_reply(err: ApiError, path: str) -> Reply:
    """Turn an :class:`ApiError` into its envelope."""
    return Reply(err.status, err.body(path=path, timestamp=iso(datetime.now(UTC))))


def split_edition(path: str) -> tuple[EditionRules, list[str]] | None:
    """Which edition a path belongs to and its segments below the base path."""
    if path.startswith(CRM_PREFIX):
        rest, rules = path[len(CRM_PREFIX):], CRM
    elif path.startswith(EXTERNAL_PREFIX):
        rest, rules = path[len(EXTERNAL_PREFIX):], EXTERNAL
    else:
        return None
    return rules, [unquote(s) for s in rest.strip("/").split("/")] if rest.strip("/") else []


Handler = Callable[[SandboxState, EditionRules, ApiRequest, list[str]], Reply]


def _route(method: str, segs: list[str]) -> Handler | None:
    """The handler for a method and path segments, or ``None`` (404)."""
    n = len(segs)
    if n == 1:
        return _ROUTES_1.get((method, segs[0]))
    if n == 2 and segs[0] == "accounts":
        fixed = _ROUTES_2.get((method, segs[1]))
        if fixed is not None:
            return fixed
        if method == "PUT" and segs[1]:
            return _put_account
    return None


def handle_api(state: SandboxState, api_key: str, req: ApiRequest,
               editions: frozenset[str] | None = None) -> Reply:
    """Answer one request to an ``/api/`` route (faults are applied by the caller).

    ``editions`` (names, ``None``: both) are the editions served; a path of another
    edition is answered 404 like an unknown route, as a server of one edition would."""
    try:
        found = split_edition(req.path)
        if found is not None and editions is not None and found[0].name not in editions:
            found = None
        route = _route(req.method, found[1]) if found else None
        if found is None or route is None:
            raise not_found_route(req.method, req.path)
        rules, segs = found
        key = req.headers.get("x-api-key")
        if not key:
            raise business_error(401, "X-Api-Key header is required")
        if key != api_key:
            raise business_error(401, "Invalid API key")
        _check_content_type(req)
        _check_query(req, route)
        return route(state, rules, req, segs)
    except ApiError as err:
        return error_reply(err, req.path)


# ---- helpers -------------------------------------------------------------------------

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _check_content_type(req: ApiRequest) -> None:
    """§3: writes carry ``Content-Type: application/json`` (parameters such as charset ok)."""
    if req.method not in WRITE_METHODS:
        return
    raw = req.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    if media != "application/json":
        shown = f"'{raw}'" if raw else "missing"
        raise business_error(
            400, f"Content-Type must be application/json (was {shown}); the body was not read")


def _check_query(req: ApiRequest, route: Handler) -> None:
    """Only the query parameters the endpoint documents (whitelist, like the body DTOs)."""
    allowed = QUERY_PARAMS.get(route, ())
    v = val.Violations()
    for name in req.query:
        if name not in allowed:
            v.add(name, "whitelistValidation", f"property {name} should not exist")
    v.raise_if_any()

def _json_body(req: ApiRequest) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        parsed = json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise business_error(400, "Request body is not valid JSON") from None
    return val.body_object(parsed)


def _one(req: ApiRequest, name: str) -> str | None:
    values = req.query.get(name)
    return values[-1] if values else None


def _limit(req: ApiRequest) -> int:
    raw = _one(req, "limit")
    if raw is None or raw == "":
        return MAX_LIMIT
    v = val.Violations()
    try:
        limit = int(raw)
    except ValueError:
        v.add("limit", "isInt", "limit must be an integer number")
        v.raise_if_any()
        raise AssertionError("unreachable") from None
    if limit < 1:
        v.add("limit", "min", "limit must not be less than 1")
    if limit > MAX_LIMIT:
        v.add("limit", "max", f"limit must not be greater than {MAX_LIMIT}")
    v.raise_if_any()
    return limit


def _ok(req: ApiRequest, data: Any, status: int = 200) -> Reply:
    return Reply(status, envelope(req.path, data, status))


# ---- handlers ---------------------------------------------------------------------------

def _get_accounts(state: SandboxState, rules: EditionRules, req: ApiRequest,
                  segs: list[str]) -> Reply:
    limit = _limit(req)
    last_sync = None
    raw_sync = _one(req, "lastSync")
    if raw_sync is not None:
        last_sync = val.parse_iso8601(raw_sync)
        if last_sync is None:
            raise business_error(
                400, f"Invalid lastSync '{raw_sync}': must be an ISO 8601 date string")
    domains: list[str] | None = None
    raw_domains = _one(req, "domains")
    if raw_domains is not None:
        v = val.Violations()
        if not rules.supports_domain_filter:
            v.add("domains", "whitelistValidation", "property domains should not exist")
            v.raise_if_any()
        try:
            parsed = json.loads(raw_domains)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(d, str) for d in parsed):
            v.add("domains", "isArray", "domains must be a JSON array of strings")
        elif len(parsed) > 100:
            v.add("domains", "arrayMaxSize", "domains must contain no more than 100 elements")
        v.raise_if_any()
        domains = parsed
    data = state.list_accounts(rules, limit=limit, cursor=_one(req, "cursor"),
                               last_sync=last_sync, domains=domains)
    return _ok(req, data)


def _post_accounts(state: SandboxState, rules: EditionRules, req: ApiRequest,
                   segs: list[str]) -> Reply:
    body = _json_body(req)
    accounts = val.validate_create_accounts(body, requires_external_id=rules.requires_external_id,
                                            supports_upsert=rules.supports_upsert)
    data = state.create_accounts(rules, accounts, segment_id=body.get("segmentId"),
                                 upsert=bool(body.get("upsert")))
    return _ok(req, data)


def _put_account(state: SandboxState, rules: EditionRules, req: ApiRequest,
                 segs: list[str]) -> Reply:
    key = segs[1]
    if rules.account_update_key == "rtp_aid" and not is_rtp_aid(key):
        raise business_error(400, f"Invalid rtp_aid '{key}': expected 24 hexadecimal characters")
    fields = val.validate_update_account(_json_body(req))
    return _ok(req, state.update_account(rules, key, fields))


def _missing_external_ids(state: SandboxState, rules: EditionRules, req: ApiRequest,
                          segs: list[str]) -> Reply:
    return _ok(req, state.missing_external_ids(_limit(req)))


def _map_external_ids(state: SandboxState, rules: EditionRules, req: ApiRequest,
                      segs: list[str]) -> Reply:
    mappings = val.validate_mappings(_json_body(req))
    return _ok(req, state.map_external_ids(mappings))


def _list_custom_fields(state: SandboxState, rules: EditionRules, req: ApiRequest,
                        segs: list[str]) -> Reply:
    return _ok(req, state.list_custom_fields())


def _create_custom_field(state: SandboxState, rules: EditionRules, req: ApiRequest,
                         segs: list[str]) -> Reply:
    body = val.validate_custom_field(_json_body(req))
    created = state.create_custom_field(body["label"], body["labelType"],
                                        body.get("description"), body.get("options"))
    return _ok(req, created, 201)


def _list_segments(state: SandboxState, rules: EditionRules, req: ApiRequest,
                   segs: list[str]) -> Reply:
    return _ok(req, state.list_segments(rules, limit=_limit(req), cursor=_one(req, "cursor")))


def _post_deals(state: SandboxState, rules: EditionRules, req: ApiRequest,
                segs: list[str]) -> Reply:
    return _ok(req, state.upsert_deals(val.validate_deals(_json_body(req))))


def _post_deal_stages(state: SandboxState, rules: EditionRules, req: ApiRequest,
                      segs: list[str]) -> Reply:
    pipelines = val.validate_pipelines(_json_body(req))
    return _ok(req, state.create_pipelines(rules, pipelines), 201)


def _get_deal_stages(state: SandboxState, rules: EditionRules, req: ApiRequest,
                     segs: list[str]) -> Reply:
    return Reply(200, state.list_pipelines())  # bare array, as seen live (Appendix A)


def _post_activities(state: SandboxState, rules: EditionRules, req: ApiRequest,
                     segs: list[str]) -> Reply:
    return _ok(req, state.create_activities(val.validate_activities(_json_body(req))))


def _journey_stages(state: SandboxState, rules: EditionRules, req: ApiRequest,
                    segs: list[str]) -> Reply:
    return Reply(200, list(JOURNEY_STAGES))  # bare array, as seen live (Appendix A)


_ROUTES_1: dict[tuple[str, str], Handler] = {
    ("GET", "accounts"): _get_accounts,
    ("POST", "accounts"): _post_accounts,
    ("GET", "segments"): _list_segments,
    ("POST", "deals"): _post_deals,
    ("POST", "deal-stages"): _post_deal_stages,
    ("GET", "deal-stages"): _get_deal_stages,
    ("POST", "sales-activities"): _post_activities,
    ("GET", "journey-stages"): _journey_stages,
}
#: Query parameters each endpoint documents (§9; Ambiguities #10: each endpoint page,
#: not the introduction's "every list endpoint"). ``domains`` on [A] ``GET /accounts``
#: is refused by the handler with the same whitelist message.
QUERY_PARAMS: dict[Handler, tuple[str, ...]] = {
    _get_accounts: ("lastSync", "limit", "cursor", "domains"),
    _missing_external_ids: ("limit",),
    _list_segments: ("limit", "cursor"),
}

_ROUTES_2: dict[tuple[str, str], Handler] = {
    ("GET", "missing-external-ids"): _missing_external_ids,
    ("PATCH", "external-ids"): _map_external_ids,
    ("GET", "custom-fields"): _list_custom_fields,
    ("POST", "custom-field"): _create_custom_field,
}
