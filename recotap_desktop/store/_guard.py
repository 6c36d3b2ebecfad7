"""Refuse to persist values whose names look like secrets (API keys belong in the keychain)."""

from __future__ import annotations

import re
from typing import Any

_SECRET_NAME = re.compile(r"api[_ -]?key|apikey|password|passwd|secret", re.IGNORECASE)


def find_secret_name(value: Any, where: str = "") -> str | None:
    """The dotted path of the first mapping key in ``value`` that looks like a secret."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _SECRET_NAME.search(key):
                return here
            found = find_secret_name(item, here)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = find_secret_name(item, where)
            if found:
                return found
    return None
