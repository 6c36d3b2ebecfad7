"""The fast first checks in ``records/convert.py`` accept only what the general
patterns accept, with the same result (they exist for speed, not for behaviour)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recotap_desktop.records import convert as cv

_PIECES = st.sampled_from(
    ["https://", "http://", "HTTPS://", "www.", "WWW.", "a", "b1", "x-y", "-", "--", ".",
     "..", "/", "//", "com", "org", "io", "linkedin", "linkedin.com/", "company/acme", " ",
     "_", "A", "9", "\u00e9", ":", "xn--p1ai", "www.linkedin.com/", "in/jane"]
)
URLISH = st.lists(_PIECES, max_size=10).map("".join)


@given(URLISH)
def test_short_domain_pattern_is_a_subset_of_the_general_one(raw: str) -> None:
    fast = cv._SHORT_URLISH_DOMAIN.fullmatch(raw)
    if fast is None or len(fast.group(1)) > 63 or fast.group(1).startswith("www."):
        return
    general = cv._URLISH_DOMAIN.fullmatch(raw)
    assert general is not None
    assert general.group(1) == fast.group(1)


@given(URLISH)
def test_parse_domain_fast_path_agrees_with_the_slow_path(raw: str) -> None:
    try:
        fast = cv.parse_domain(raw)
    except cv.ConversionError as exc:
        fast = exc.reason
    slow = cv._parse_domain_slow(raw)
    assert fast == (slow.reason if isinstance(slow, cv.ConversionError) else slow)


@given(URLISH)
def test_common_linkedin_pattern_is_a_subset_of_the_general_one(raw: str) -> None:
    if cv._LINKEDIN_COMMON.fullmatch(raw):
        assert cv._LINKEDIN_FAST.fullmatch(raw)


def test_fast_paths_take_the_usual_values() -> None:
    assert cv._SHORT_URLISH_DOMAIN.fullmatch("https://www.b12.bench-example.org/")
    assert cv.parse_domain("https://www.b12.bench-example.org/") == "b12.bench-example.org"
    assert cv._LINKEDIN_COMMON.fullmatch("https://www.linkedin.com/company/b12")
