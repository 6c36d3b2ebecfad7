"""Domain normalisation shared by every layer (§8.2, client advice).

Recotap cleans domains on ``POST /accounts`` and on the ``domains`` filter
(``https://www.acme.com/foo`` -> ``acme.com``). We apply a stricter version of the
same cleaning to every domain before sending it and compare locally on the result.
"""

from __future__ import annotations

import re

__all__ = ["normalise_domain"]

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_CUT = re.compile(r"[/?#\\]")


def normalise_domain(value: str) -> str:
    """Return the bare, lower-case host name of a domain, URL or e-mail-like string.

    Strips surrounding whitespace, any scheme (``http://``, ``https://``, ``ftp://``
    ... and a scheme-relative ``//``), user info (``user:pass@``), path, query,
    fragment, port, trailing dots and any number of leading ``www.`` labels, and
    lower-cases the rest. The function is idempotent. An input that holds no host
    gives ``""``; callers decide whether that is an error.

    >>> normalise_domain("  HTTPS://user@www.Acme.com:8443/path?q=1#x ")
    'acme.com'
    """
    text = value.strip().lower()
    text = _SCHEME.sub("", text, count=1)
    if text.startswith("//"):
        text = text[2:]
    text = _CUT.split(text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]
    text = text.split(":", 1)[0]  # port (domains are names, not IPv6 literals)
    while True:
        before = text
        text = text.strip().rstrip(".").strip()
        if text.startswith("www."):
            text = text[4:]
        if text == before:
            return text
