"""Records layer: target fields, column mapping, row → payload conversion.

Pure functions over plain data (no Qt, no network; only :class:`ColumnMapping`
reads and writes its JSON file). See :mod:`recotap_desktop.records.base` for the
fast path the engine uses.
"""

from __future__ import annotations

from .account_fields import ACCOUNT_FIELDS, AccountFieldsKind
from .accounts import ACCOUNTS, AccountsKind
from .activities import ACTIVITIES, ActivitiesKind
from .automap import automap, normalise_header
from .base import (
    ERROR,
    WARNING,
    ConvertContext,
    CustomFieldLike,
    FieldType,
    Problem,
    RecordKind,
    RowConverter,
    TargetField,
    custom_field_key,
    custom_field_targets,
)
from .convert import ConversionError
from .deals import DEALS, DealsKind
from .dedupe import DuplicateTracker, Group, Grouper
from .id_mappings import ID_MAPPINGS, IdMappingsKind
from .mapping import ColumnMapping, header_signature
from .pipelines import PIPELINES, PipelinesKind

__all__ = [
    "ACCOUNTS",
    "ACCOUNT_FIELDS",
    "ACTIVITIES",
    "DEALS",
    "ERROR",
    "ID_MAPPINGS",
    "KINDS",
    "PIPELINES",
    "WARNING",
    "AccountFieldsKind",
    "AccountsKind",
    "ActivitiesKind",
    "ColumnMapping",
    "ConversionError",
    "ConvertContext",
    "CustomFieldLike",
    "DealsKind",
    "DuplicateTracker",
    "FieldType",
    "Group",
    "Grouper",
    "IdMappingsKind",
    "PipelinesKind",
    "Problem",
    "RecordKind",
    "RowConverter",
    "TargetField",
    "automap",
    "custom_field_key",
    "custom_field_targets",
    "get_kind",
    "header_signature",
    "needs_custom_fields",
    "normalise_header",
]

#: Every record kind by its name.
KINDS: dict[str, RecordKind] = {
    kind.name: kind
    for kind in (ACCOUNTS, DEALS, PIPELINES, ACTIVITIES, ID_MAPPINGS, ACCOUNT_FIELDS)
}


def get_kind(name: str) -> RecordKind:
    """The record kind called ``name`` (``ValueError`` naming the valid ones otherwise)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(
            f"Unknown record kind {name!r}; choose one of: {', '.join(KINDS)}"
        ) from None


def needs_custom_fields(kind: str) -> bool:
    """Whether a job of ``kind`` must load the account custom fields first (False for a
    name that is no import kind)."""
    found = KINDS.get(kind)
    return found is not None and found.needs_custom_fields
