"""normalise_domain (property tests) and base URL rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recotap_desktop.api import (
    ConfigError,
    RecotapClient,
    is_loopback_host,
    normalise_base_url,
    normalise_domain,
)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda s: s != "www"
)
DOMAIN = st.builds(lambda labels, tld: ".".join([*labels, tld]),
                   st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["com", "io", "co.uk"]))


@settings(deadline=None, max_examples=500)
@given(st.text())
def test_idempotent_on_any_text(value: str) -> None:
    once = normalise_domain(value)
    assert normalise_domain(once) == once


@settings(deadline=None)
@given(
    domain=DOMAIN,
    scheme=st.sampled_from(["", "http://", "https://", "HTTPS://", "//", "ftp://"]),
    www=st.sampled_from(["", "www.", "WWW.", "www.www."]),
    userinfo=st.sampled_from(["", "user@", "user:pw@"]),
    port=st.sampled_from(["", ":443", ":8080"]),
    dot=st.sampled_from(["", "."]),
    tail=st.sampled_from(["", "/", "/path/x", "?q=1", "#frag", "/a?b=c#d"]),
    space=st.sampled_from(["", " ", "\t"]),
    upper=st.booleans(),
)
def test_variants_map_to_the_same_domain(
    domain: str, scheme: str, www: str, userinfo: str, port: str, dot: str, tail: str,
    space: str, upper: bool,
) -> None:
    host = domain.upper() if upper else domain
    variant = f"{space}{scheme}{userinfo}{www}{host}{dot}{port}{tail}{space}"
    assert normalise_domain(variant) == domain


@pytest.mark.parametrize(
    ("value", "expected"),
    [("https://www.acme.com/foo", "acme.com"), ("www.acme.com", "acme.com"),
     ("ACME.com.", "acme.com"), ("mailto:x", "mailto"), ("", ""), ("   ", ""),
     ("http://", ""), ("www.", "www"), ("sub.www.acme.com", "sub.www.acme.com"),
     ("acme.com\\path", "acme.com")],
)
def test_examples(value: str, expected: str) -> None:
    assert normalise_domain(value) == expected


@pytest.mark.parametrize(
    ("url", "edition", "expected"),
    [(None, "crm", "https://eapi.recotap.com/api/v1/crm/"),
     ("", "external", "https://eapi.recotap.com/api/v1/"),
     ("https://eapi.recotap.com/api/v1/crm", "crm", "https://eapi.recotap.com/api/v1/crm/"),
     ("HTTPS://EAPI.Recotap.com/api/v1//", "external", "https://eapi.recotap.com/api/v1/"),
     ("  sandboxapi.reco-tap.com/api/v1/ ", "external", "https://sandboxapi.reco-tap.com/api/v1/"),
     ("http://127.0.0.1:8123/api/v1/crm/", "crm", "http://127.0.0.1:8123/api/v1/crm/"),
     ("http://127.4.5.6/api/v1", "external", "http://127.4.5.6/api/v1/"),
     ("http://localhost:9000/api/v1/", "external", "http://localhost:9000/api/v1/"),
     ("http://[::1]:9000/api/v1/", "external", "http://[::1]:9000/api/v1/")],
)
def test_base_url_normalised(url, edition, expected) -> None:
    assert normalise_base_url(url, edition) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [("http://eapi.recotap.com/api/v1/crm/", "unencrypted"),
     ("http://10.0.0.5/api/v1/", "unencrypted"),
     ("ftp://eapi.recotap.com/", "https://"),
     ("https:///api/v1/", "no host"),
     ("https://user:pw@eapi.recotap.com/api/v1/", "user name or password"),
     ("https://eapi.recotap.com/api/v1/?x=1", "query"),
     ("https://eapi.recotap.com:99999/", "not a valid URL")],
)
def test_base_url_refused(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        normalise_base_url(url, "crm")


def test_insecure_http_allowed_explicitly() -> None:
    url = "http://crm.intranet.example/api/v1/crm/"
    assert normalise_base_url(url, "crm", allow_insecure_http=True) == url
    with RecotapClient("k", base_url=url, allow_insecure_http=True) as client:
        assert client.base_url == url and client.host == "crm.intranet.example"
    with pytest.raises(ConfigError, match="unencrypted"):
        RecotapClient("k", base_url=url)


def test_loopback_hosts() -> None:
    for host in ("localhost", "LOCALHOST.", "127.0.0.1", "127.255.0.9", "::1", "[::1]",
                 "::ffff:127.0.0.1", "app.localhost"):
        assert is_loopback_host(host), host
    for host in ("10.0.0.1", "128.0.0.1", "localhost.evil.com", "example.com", "::2"):
        assert not is_loopback_host(host), host


def test_unknown_edition_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="edition"):
        RecotapClient("k", edition="v3")
