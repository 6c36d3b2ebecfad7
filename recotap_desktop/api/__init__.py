"""The Recotap HTTP API layer: client, models, errors, edition rules.

No Qt and no files here. Everything above this package talks to Recotap through
:class:`RecotapClient` and never branches on the edition itself.
"""

from __future__ import annotations

from recotap_desktop.api.client import (
    MAX_DOMAINS_PER_CALL,
    MAX_PAGE_SIZE,
    RecotapClient,
    RetryInfo,
    RetryPolicy,
    format_last_sync,
    parse_retry_after,
)
from recotap_desktop.api.domains import normalise_domain
from recotap_desktop.api.editions import CRM, EXTERNAL, Edition, EditionRules, rules_for
from recotap_desktop.api.errors import (
    AmbiguousOutcome,
    ApiStatusError,
    AuthError,
    CancelledError,
    ConfigError,
    Conflict,
    NotFound,
    RateLimited,
    RecotapError,
    RequestRejected,
    ServerError,
    TransportError,
)
from recotap_desktop.api.models import (
    ID_FIELDS,
    Account,
    AccountPage,
    BulkResult,
    CustomField,
    ItemResult,
    MappingResult,
    Segment,
    UnmappedAccount,
)
from recotap_desktop.api.redact import SecretFilter, redact
from recotap_desktop.api.urls import is_loopback_host, normalise_base_url

__all__ = [
    "CRM",
    "EXTERNAL",
    "ID_FIELDS",
    "MAX_DOMAINS_PER_CALL",
    "MAX_PAGE_SIZE",
    "Account",
    "AccountPage",
    "AmbiguousOutcome",
    "ApiStatusError",
    "AuthError",
    "BulkResult",
    "CancelledError",
    "ConfigError",
    "Conflict",
    "CustomField",
    "Edition",
    "EditionRules",
    "ItemResult",
    "MappingResult",
    "NotFound",
    "RateLimited",
    "RecotapClient",
    "RecotapError",
    "RequestRejected",
    "RetryInfo",
    "RetryPolicy",
    "SecretFilter",
    "Segment",
    "ServerError",
    "TransportError",
    "UnmappedAccount",
    "format_last_sync",
    "is_loopback_host",
    "normalise_base_url",
    "normalise_domain",
    "parse_retry_after",
    "redact",
    "rules_for",
]
