"""The Recotap HTTP API layer: client, models, errors, edition rules.

No Qt and no files here. Everything above this package talks to Recotap through
:class:`RecotapClient` and never branches on the edition itself.

Start-up time: the client (``httpx``, ``ssl``) and the response models are imported
on first use of one of their names (PEP 562 module ``__getattr__``), so importing a
light submodule such as :mod:`.redact` or :mod:`.urls` does not pay for them.
``from recotap_desktop.api import RecotapClient`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from recotap_desktop.api.errors import (
    AmbiguousOutcome,
    ApiStatusError,
    AuthError,
    CancelledError,
    ConfigError,
    Conflict,
    DeadlineExceeded,
    NotFound,
    RateLimited,
    RecotapError,
    RequestRejected,
    ServerError,
    TransportError,
)
from recotap_desktop.api.redact import SecretFilter, redact
from recotap_desktop.api.urls import is_loopback_host, normalise_base_url
from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.domain.editions import CRM, EXTERNAL, Edition, EditionRules, rules_for

if TYPE_CHECKING:
    from recotap_desktop.api.client import (
        MAX_DOMAINS_PER_CALL,
        MAX_PAGE_SIZE,
        RecotapClient,
        RetryInfo,
        RetryPolicy,
        format_last_sync,
        parse_retry_after,
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

#: Names imported on first access, and the submodule each comes from.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ("MAX_DOMAINS_PER_CALL", "MAX_PAGE_SIZE", "RecotapClient", "RetryInfo", "RetryPolicy",
         "format_last_sync", "parse_retry_after"),
        "client",
    ),
    **dict.fromkeys(
        ("ID_FIELDS", "Account", "AccountPage", "BulkResult", "CustomField", "ItemResult",
         "MappingResult", "Segment", "UnmappedAccount"),
        "models",
    ),
}


def __getattr__(name: str) -> Any:
    """Import the client and model names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "DeadlineExceeded",
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
