"""Message parts joined as sentences: the one rule, for the API layer and everything above.

"…already exists. To update…", never "…exists To update…", whatever the server's text
ends with.
"""

from __future__ import annotations

__all__ = ["join_sentences", "sentence"]

_END = (".", "!", "?", "…", ":", ";")


def sentence(text: str) -> str:
    """``text`` stripped, ending in a full stop unless it already ends a sentence."""
    text = text.strip()
    if not text or text.rstrip(")\"'”’»").endswith(_END):
        return text
    return text + "."


def join_sentences(*parts: str) -> str:
    """The non-empty ``parts`` as sentences separated by one space."""
    return " ".join(sentence(p) for p in parts if p and p.strip())
