"""How the engine puts words together: sentences, and failures grouped by cause.

Two rules live here and nowhere else:

* :func:`join_sentences` glues message parts (a server's text, our hint) so that each
  part ends as a sentence: "…already exists. To update…", never "…exists To update…".
* :func:`cause_of` is the key failures are grouped by in the summary: the message
  with the row's own identity values (its domain, external id…, taken from the data
  sent and the ids answered, never guessed from the words) and quoted values masked,
  so that 1 300 rows failing for one reason make one line, not one line per domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from recotap_desktop.api.models import ids_of
from recotap_desktop.api.sentences import join_sentences, sentence

__all__ = [
    "ISOLATION_PREFIX",
    "cause_of",
    "identities_of",
    "join_sentences",
    "sentence",
    "summarise_failures",
]

#: Prefix of the message of a row the server rejected inside a whole-request 400/413.
ISOLATION_PREFIX = "Rejected by the server: "

_MASK = "…"


def cause_of(message: str, identities: Iterable[str] = ()) -> str:
    """The cause a failed row's ``message`` stands for (the key of the failure summary).

    ``identities`` are the row's own identity values (what was sent and what the server
    answered for it); each occurrence is masked, longest first.
    """
    text = message.removeprefix(ISOLATION_PREFIX)
    for value in sorted({v for v in identities if v and len(v) > 1}, key=len, reverse=True):
        text = text.replace(value, _MASK)
    # "deals.12.ownerEmail must be an email" and "ownerEmail must be an email" are one cause,
    # as are messages that differ only by the values or ids they quote.
    text = re.sub(r"\b[a-zA-Z]+\.\d+\.", "", text)
    text = re.sub(r"'[^']*'", f"'{_MASK}'", text)
    text = re.sub(r'"[^"]*"', f'"{_MASK}"', text)
    text = re.sub(r"\b[0-9a-fA-F]{12,}\b", _MASK, text)
    return text.strip()[:200] or "Failed without a reason."


def identities_of(*sources: Mapping[str, object] | None) -> list[str]:
    """The identity values (see :data:`recotap_desktop.api.ID_FIELDS`) of ``sources``."""
    values: list[str] = []
    for source in sources:
        if source:
            values.extend(ids_of(source).values())
    return values


def summarise_failures(groups: Iterable[tuple[str, int]], limit: int = 5) -> list[str]:
    """Lines like ``1,300 rows: ownerEmail must be an email.`` for the biggest causes."""
    return [
        f"{count:,} {'row' if count == 1 else 'rows'}: {reason}"
        for reason, count in list(groups)[:limit]
    ]
