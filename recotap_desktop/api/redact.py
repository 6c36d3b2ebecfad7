"""Keep secrets (the API key) out of text and log records.

:func:`redact` replaces every occurrence of a secret by ``***`` (nothing of the key
is kept). :class:`SecretFilter` is a :class:`logging.Filter` that does the same to
log records: attach it to a handler (covers every logger that propagates there) or
to the loggers that create records. :class:`~recotap_desktop.api.client.RecotapClient`
attaches one holding its own key to the ``httpx``/``httpcore`` loggers and to its
own logger for as long as it is open.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "***"

__all__ = ["MASK", "Secret", "SecretFilter", "redact"]


class Secret:
    """Holds a secret string; its ``repr``/``str`` are ``***`` (safe in debuggers, dumps).

    Call :meth:`reveal` at the one place that must put the value on the wire.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def redact(text: str, secret: str | None) -> str:
    """Return ``text`` with every occurrence of ``secret`` replaced by ``***``.

    An empty or ``None`` secret leaves the text unchanged.
    """
    if not secret or not text:
        return text
    return text.replace(secret, MASK)


def _redact_all(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so that a secret containing another one is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = redact(text, secret)
    return text


class SecretFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it sees.

    The record's message is rendered (``msg % args``) and, if it contains a secret,
    replaced by the masked text with ``args`` cleared. Exception and stack text are
    rendered and masked too. The filter never drops records. Thread-safe.
    """

    def __init__(self, secrets: Iterable[str] = (), name: str = "") -> None:
        super().__init__(name)
        self._lock = threading.Lock()
        self._secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str) -> None:
        """Register a secret (empty strings are ignored)."""
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def discard(self, secret: str) -> None:
        """Forget a secret."""
        with self._lock:
            self._secrets.discard(secret)

    def __len__(self) -> int:
        with self._lock:
            return len(self._secrets)

    def __repr__(self) -> str:
        return f"<SecretFilter secrets={len(self)} (values hidden)>"

    def redact(self, text: str) -> str:
        """Mask every registered secret in ``text``."""
        with self._lock:
            secrets = tuple(self._secrets)
        return _redact_all(text, secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = tuple(self._secrets)
        if not secrets:
            return True
        try:
            rendered = record.getMessage()
        except Exception:  # a broken format string: mask the raw parts instead
            rendered = f"{record.msg} {record.args!r}"
        masked = _redact_all(rendered, secrets)
        if masked != rendered:
            # Freeze the masked text so that later formatting cannot re-introduce
            # the secret from args.
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact_all(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = _redact_all(record.stack_info, secrets)
        return True
