"""The two editions of the Recotap API, described once.

Everything that differs between Revision A (``crm``, the "CRM API") and
Revision B (``external``, the "External API") is a field of :class:`EditionRules`.
Code above ``api/`` never compares edition names: it asks the rules
(``rules.supports_upsert``, ``rules.account_update_key`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Edition(StrEnum):
    CRM = "crm"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class EditionRules:
    edition: Edition
    title: str
    default_base_url: str
    #: Account field that identifies an account on POST /accounts and in results.
    account_identity_field: str
    #: ``externalId`` is required on every pushed account.
    requires_external_id: bool
    #: POST /accounts accepts ``upsert``.
    supports_upsert: bool
    #: Path key of ``PUT /accounts/:key`` ("externalId" or "rtp_aid").
    account_update_key: str
    #: GET /accounts accepts the ``domains`` filter.
    supports_domain_filter: bool
    #: GET /accounts items carry ``customFields``.
    accounts_have_custom_fields: bool
    #: Paging of list endpoints: "cursor" (opaque nextCursor) or "offset" (integer offset).
    paging: str

    @property
    def name(self) -> str:
        return self.edition.value


CRM = EditionRules(
    edition=Edition.CRM,
    title="CRM API (Revision A)",
    default_base_url="https://eapi.recotap.com/api/v1/crm/",
    account_identity_field="externalId",
    requires_external_id=True,
    supports_upsert=False,
    account_update_key="externalId",
    supports_domain_filter=False,
    accounts_have_custom_fields=False,
    paging="offset",
)

EXTERNAL = EditionRules(
    edition=Edition.EXTERNAL,
    title="External API (Revision B)",
    default_base_url="https://eapi.recotap.com/api/v1/",
    account_identity_field="domain",
    requires_external_id=False,
    supports_upsert=True,
    account_update_key="rtp_aid",
    supports_domain_filter=True,
    accounts_have_custom_fields=True,
    paging="cursor",
)

EDITIONS: dict[Edition, EditionRules] = {Edition.CRM: CRM, Edition.EXTERNAL: EXTERNAL}
DEFAULT_EDITION = Edition.CRM


def rules_for(edition: Edition | str | None) -> EditionRules:
    """Return the rules of an edition given as enum, name, or ``None`` (the default)."""
    if edition is None:
        return EDITIONS[DEFAULT_EDITION]
    try:
        return EDITIONS[Edition(str(edition).lower())]
    except ValueError:
        valid = ", ".join(e.value for e in Edition)
        raise ValueError(f"Unknown API edition {edition!r}; choose one of: {valid}") from None
