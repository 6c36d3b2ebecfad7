"""Which kind of import a file looks like, from its column headers (Qt-free helper).

The kind whose required fields all find a column wins; among several, the one
that maps the most columns. Used by File → Open… and by drag and drop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Import kinds in menu order: (kind name, action text).
IMPORT_KINDS: tuple[tuple[str, str], ...] = (
    ("accounts", "Import accounts"),
    ("deals", "Import deals"),
    ("pipelines", "Import pipelines and stages"),
    ("activities", "Import sales activities"),
    ("id-mappings", "Import ID mappings"),
    ("account-fields", "Import account field values"),
)

#: What each kind is for, in one line (shown when asking which kind a file is).
KIND_HELP: dict[str, str] = {
    "accounts": "Companies to add to Recotap, optionally into a segment.",
    "deals": "Opportunities with amount, stage and dates.",
    "pipelines": "Your CRM's deal pipelines and their stages.",
    "activities": "Meetings, calls and e-mails with the contacts involved.",
    "id-mappings": "Your CRM's IDs for accounts Recotap already knows (by domain).",
    "account-fields": "Values of account custom fields for existing accounts.",
}

#: File name endings that can be opened.
OPENABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")


@dataclass(frozen=True)
class KindGuess:
    """Result of :func:`guess_kind`: the best kind (or None), the headers, and per-kind scores."""

    kind: str | None
    headers: tuple[str, ...]
    mapped: dict[str, int]
    complete: tuple[str, ...]

    @property
    def sure(self) -> bool:
        """The headers settle the kind: it maps more columns than any other kind whose
        required columns are all there (otherwise the user is asked)."""
        if self.kind is None:
            return False
        others = [self.mapped[k] for k in self.complete if k != self.kind]
        return all(self.mapped[self.kind] > n for n in others)


def is_openable(path: Path | str) -> bool:
    """True when the file name ends in a supported suffix."""
    return str(path).lower().endswith(OPENABLE_SUFFIXES)


def score_headers(headers: Sequence[str], edition: str = "crm") -> KindGuess:
    """Rank the import kinds for a file with these headers."""
    from recotap_desktop.domain.editions import rules_for
    from recotap_desktop.records import KINDS, ConvertContext
    from recotap_desktop.records.automap import automap

    ctx = ConvertContext(rules=rules_for(edition), custom_fields={})
    mapped: dict[str, int] = {}
    complete: list[str] = []
    for name, _text in IMPORT_KINDS:
        kind = KINDS.get(name)
        if kind is None:
            continue
        fields = kind.fields(ctx)
        mapping = automap(list(headers), fields)
        columns = mapping.columns
        mapped[name] = len(columns)
        required = [f.name for f in fields if f.required]
        if required and all(r in columns for r in required):
            complete.append(name)
    best: str | None = None
    if complete:
        best = max(complete, key=lambda n: (mapped[n], -complete.index(n)))
    return KindGuess(kind=best, headers=tuple(headers), mapped=mapped, complete=tuple(complete))


def guess_kind(path: Path, edition: str = "crm") -> KindGuess:
    """Read the headers of ``path`` and rank the import kinds (raises the files layer's errors)."""
    from recotap_desktop.files import sniff

    info = sniff(path)
    return score_headers(info.headers, edition)
