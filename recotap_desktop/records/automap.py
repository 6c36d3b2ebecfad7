"""Guess which file column feeds which target field.

Headers and field names are compared after :func:`normalise_header` (case, spaces
and punctuation ignored). Scores, best first:

=====  ==========================================================================
100    the header is the field's API name (``externalId``), or a custom field's key
       (``CONTRACT_VALUE_C``; Salesforce's ``Contract_Value__c`` matches too)
90     the header is the field's label (``Contract Value``)
80…    the header is one of the field's aliases; earlier aliases score higher
       (aliases carry the headers HubSpot, Salesforce, Pipedrive, Zoho and
       Dynamics exports use)
30…50  the same, 50 lower, after removing an entity prefix the kind names
       (``Deal - Title`` → ``Title`` for deals)
=====  ==========================================================================

Every header feeds at most one field and every field takes at most one header:
candidates are taken best score first; ties go to the leftmost header, then to
the field listed first. The result is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .mapping import ColumnMapping

if TYPE_CHECKING:
    from .base import TargetField

__all__ = ["automap", "normalise_header"]

_NON_WORD = re.compile(r"[\W_]+")


def normalise_header(text: str) -> str:
    """Case-fold and drop everything that is not a letter or digit."""
    return _NON_WORD.sub("", text.casefold())


def _field_keys(field: TargetField) -> list[tuple[str, float]]:
    keys: list[tuple[str, float]] = [(normalise_header(field.name), 100.0)]
    if field.custom_key:
        keys.append((normalise_header(field.custom_key), 100.0))
    keys.append((normalise_header(field.label), 90.0))
    for i, alias in enumerate(field.aliases):
        keys.append((normalise_header(alias), 80.0 - min(i, 99) * 0.1))
    return keys


def automap(
    headers: Sequence[str],
    fields: Sequence[TargetField],
    *,
    prefixes: Sequence[str] = (),
) -> ColumnMapping:
    """Propose a :class:`ColumnMapping` for ``headers`` (see the module notes).

    ``prefixes`` are entity words a kind's exports put before column names
    (``"deal"`` for ``Deal - Value``); a header starting with one is also tried
    without it, at a lower score.
    """
    table: dict[str, list[tuple[float, int]]] = {}
    for f_index, f in enumerate(fields):
        for key, score in _field_keys(f):
            if key:
                table.setdefault(key, []).append((score, f_index))
    norm_prefixes = [normalise_header(p) for p in prefixes if normalise_header(p)]

    candidates: list[tuple[float, int, int]] = []
    for h_index, header in enumerate(headers):
        norm = normalise_header(header)
        if not norm:
            continue
        best: dict[int, float] = {}
        for score, f_index in table.get(norm, ()):
            best[f_index] = max(best.get(f_index, 0.0), score)
        for prefix in norm_prefixes:
            if norm.startswith(prefix) and len(norm) > len(prefix):
                for score, f_index in table.get(norm[len(prefix) :], ()):
                    best[f_index] = max(best.get(f_index, 0.0), score - 50.0)
        for f_index, score in best.items():
            candidates.append((score, h_index, f_index))

    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_headers: set[int] = set()
    columns: dict[str, str] = {}
    for _score, h_index, f_index in candidates:
        name = fields[f_index].name
        if h_index in used_headers or name in columns:
            continue
        header = headers[h_index]
        if header in columns.values():  # a repeated header text: first one only
            continue
        used_headers.add(h_index)
        columns[name] = header
    ordered = {f.name: columns[f.name] for f in fields if f.name in columns}
    return ColumnMapping(columns=ordered)
