"""Base URL rules (product decision "TLS by default").

The base URL is the whole prefix that endpoint paths are appended to, e.g.
``https://eapi.recotap.com/api/v1/crm/`` + ``accounts``. It is kept with exactly one
trailing slash. Plain ``http://`` is accepted only for loopback hosts (the local
sandbox) or when the user explicitly allowed it, because the API key travels in a
request header and would cross the network unencrypted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from recotap_desktop.api.errors import ConfigError
from recotap_desktop.domain.editions import Edition, rules_for

__all__ = ["is_loopback_host", "normalise_base_url"]


def is_loopback_host(host: str) -> bool:
    """``True`` for ``localhost``, 127.0.0.0/8 and ``::1`` (also IPv4-mapped)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def normalise_base_url(
    url: str | None, edition: Edition | str | None = None, allow_insecure_http: bool = False
) -> str:
    """Check and normalise a base URL; ``None``/empty gives the edition's default.

    Returns ``scheme://host[:port]/path/`` with a lower-case scheme and host and one
    trailing slash. A missing scheme means ``https://``. Raises :class:`ConfigError`
    (in plain words) for anything unusable: other schemes, no host, user name or
    password in the URL, a query or fragment, or plain ``http://`` to a host that is
    not this computer unless ``allow_insecure_http`` is set.
    """
    rules = rules_for(edition)
    text = (url or "").strip()
    if not text:
        return rules.default_base_url
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"The base URL {text!r} is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(
            f"The base URL must start with https:// (found {parts.scheme}://)."
        )
    if not host:
        raise ConfigError(f"The base URL {text!r} has no host name.")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "The base URL must not contain a user name or password; "
            "the API key is sent separately."
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ConfigError(
            "The base URL must not contain a query (?...) or fragment (#...): "
            "it is the prefix that endpoint paths are appended to."
        )
    if scheme == "http" and not allow_insecure_http and not is_loopback_host(host):
        raise ConfigError(
            f"The base URL uses plain http:// to {host}. The API key would travel "
            "unencrypted over the network. Use https://, or explicitly allow "
            "insecure HTTP for this connection if you really mean it."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/") + "/"
    return urlunsplit((scheme, netloc, path, "", ""))
