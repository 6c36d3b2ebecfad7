"""External-id mappings for ``PATCH /accounts/external-ids`` (§9.5).

Each row writes one external id onto the Recotap account with that domain. A
domain repeated in the file is an error naming both rows (the server would let the
later row win silently); where ``externalId`` is the account identity (edition
``crm``) a repeated external id is one too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .accounts import DOMAIN_FIELD, external_id_field
from .base import Compiled, ConvertContext, Problem, RecordKind, TargetField

__all__ = ["ID_MAPPINGS", "IdMappingsKind"]


class IdMappingsKind(RecordKind):
    """Domain → external id pairs."""

    name = "id-mappings"
    title = "External ID mappings"
    batch_size = 100
    key_field = "domain"
    header_prefixes = ("company", "account", "organization")

    def fields(self, ctx: ConvertContext) -> list[TargetField]:
        return [
            DOMAIN_FIELD,
            external_id_field(
                True, "Your CRM's id to write onto the Recotap account with this domain "
                "(replaces any id it has)."
            ),
        ]

    def assemble(
        self,
        row: int,
        flat: dict[str, Any],
        problems: list[Problem],
        cx: Compiled,
        values: Sequence[str],
    ) -> dict[str, Any] | None:
        if "domain" in flat and "externalId" in flat:
            return {"domain": flat["domain"], "externalId": flat["externalId"]}
        return None

    def duplicate_fields(self, ctx: ConvertContext | None) -> tuple[str, ...]:
        if ctx is None or ctx.rules.account_identity_field == "externalId":
            return ("domain", "externalId")
        return ("domain",)


ID_MAPPINGS = IdMappingsKind()
