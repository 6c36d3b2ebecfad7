"""Paging of the list endpoints (``GET /accounts``, ``GET /segments``).

The next-page rule (:func:`more_pages`), the page size sent (:func:`clamp_limit`), the
cursor (:func:`cursor_text`: the server's ``nextCursor``, else the row offset) and the
page loop (:func:`pages`), which stops when the server sends a cursor it already sent.
The loop asks the client for each page through a callable, so this module sends
nothing itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from recotap_desktop.api.errors import TransportError
from recotap_desktop.api.models import Account, AccountPage
from recotap_desktop.api.retry import Answered

__all__ = [
    "MAX_PAGE_SIZE",
    "account_page_of",
    "clamp_limit",
    "cursor_text",
    "format_last_sync",
    "more_pages",
    "pages",
    "rows_of",
    "text_or_none",
]

#: The client's logger: the same name in the logs as before the split, and the
#: client's SecretFilter is attached to it while a client is open.
log = logging.getLogger("recotap_desktop.api.client")

MAX_PAGE_SIZE = 100


def format_last_sync(value: str | datetime | None) -> str | None:
    """``lastSync`` for the query string: ISO 8601 in UTC with ``Z`` and milliseconds.

    Strings are passed through (stripped; the server's own ``syncTimestamp`` should
    be sent back unchanged). Naive datetimes are taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    text = str(value).strip()
    return text or None


def clamp_limit(limit: int) -> int:
    """The page size to send: ``limit`` within 1..:data:`MAX_PAGE_SIZE`."""
    try:
        value = int(limit)
    except (TypeError, ValueError):
        value = MAX_PAGE_SIZE
    return max(1, min(MAX_PAGE_SIZE, value))


def more_pages(data: Mapping[str, Any], rows: Sequence[Any], limit: int) -> bool:
    """Whether a list answer has a next page: the paging rule of the Product decisions.

    ``hasNextPage`` decides when the answer carries it (a boolean). When it is absent
    (Revision A documents only the offset), an integer ``nextCursor`` or a full page
    (``limit`` rows) means more. An empty page never has a next one.
    """
    if not rows:
        return False
    flag = data.get("hasNextPage")
    if isinstance(flag, bool):
        return flag
    cursor = data.get("nextCursor")
    if isinstance(cursor, int) and not isinstance(cursor, bool):
        return True
    return len(rows) >= limit


def cursor_text(value: object) -> str | None:
    """A ``nextCursor`` as the text to send back (``None`` when there is none)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def text_or_none(value: object) -> str | None:
    """``value`` when it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value != "" else None


def rows_of(data: object) -> list[Any]:
    """A plain array answer, tolerating a paged wrapper around it."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get("data"), list):
        return list(data["data"])
    return []


def account_page_of(data: Mapping[str, Any], rows: list[Any], limit: int) -> AccountPage:
    """One page of ``GET /accounts`` (``data`` empty for a bare array answer)."""
    return AccountPage(
        accounts=[Account.from_json(r) for r in rows if isinstance(r, Mapping)],
        next_cursor=cursor_text(data.get("nextCursor")),
        has_next_page=bool(data) and more_pages(data, rows, clamp_limit(limit)),
        sync_timestamp=text_or_none(data.get("syncTimestamp")),
    )


def pages(
    get: Callable[[dict[str, str]], Answered],
    path: str,
    params: dict[str, str],
    limit: int,
) -> Iterator[tuple[Mapping[str, Any], list[Any]]]:
    """Yield ``(data, rows)`` per page of ``GET path``; ``get(params)`` sends one.

    A bare array answer is one page with empty ``data``. The next page is asked for
    with the server's ``nextCursor``, or the offset of the rows seen so far; a cursor
    sent twice ends the loop (logged), so a server that repeats itself cannot loop it.
    """
    page_params = dict(params)
    page_params["limit"] = str(clamp_limit(limit))
    offset = 0
    seen: set[str] = set()
    while True:
        answer = get(page_params)
        data = answer.data
        if isinstance(data, list):  # a bare array: one page, nothing more
            yield {}, data
            return
        if not isinstance(data, Mapping):
            raise TransportError(
                f"Recotap's answer to GET {path} was not a list page; the base URL or "
                "edition may be wrong.",
                kind="protocol",
                attempts=answer.attempts,
            )
        rows = data.get("data")
        rows = rows if isinstance(rows, list) else []
        yield data, rows
        if not more_pages(data, rows, clamp_limit(limit)):
            return
        offset += len(rows)
        cursor = cursor_text(data.get("nextCursor"))
        if cursor is None:
            cursor = str(offset)
        if cursor in seen or cursor == page_params.get("cursor"):
            log.warning(
                "GET %s: the server sent cursor %r again; stopping to avoid a loop",
                path,
                cursor,
            )
            return
        seen.add(cursor)
        page_params["cursor"] = cursor
