from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.records import convert as cv
from recotap_desktop.records.convert import ConversionError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("75000", 75000),
        ("-12", -12),
        ("75000.00", 75000),
        ("75000.5", 75000.5),
        ("1,234,567", 1234567),
        ("1,234,567.25", 1234567.25),
        ("75 000", 75000),
        ("75\u00a0000", 75000),
        ("$ 75,000.00", 75000),
        ("€1.234,50", 1234.5),
        ("1.234,50", 1234.5),
        ("1.234.567", 1234567),
        ("1 234,5", 1234.5),
        ("1'234.50", 1234.5),
        ("12,5", 12.5),
        ("0,500", 0.5),
        ("-$5", -5),
        (".5", 0.5),
        ("1e3", 1000),
        ("-0,500", -0.5),
    ],
)
def test_parse_number(raw: str, expected: float) -> None:
    value = cv.parse_number(raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "point", "comma"),
    [
        ("75,000", 75000, 75),
        ("$75,000", 75000, 75),
        ("1.234", 1.234, 1234),
        ("USD 75,000", 75000, 75),
        ("75,000 EUR", 75000, 75),
        ("(1,000)", -1000, -1),
        ("285.000 €", 285, 285000),
    ],
)
def test_parse_number_ambiguous_needs_the_columns_convention(
    raw: str, point: float, comma: float
) -> None:
    with pytest.raises(cv.UndecidedError, match=r"decimal point.*decimal comma"):
        cv.parse_number(raw)
    assert cv.parse_number(raw, "point") == point
    assert cv.parse_number(raw, "comma") == comma


@pytest.mark.parametrize(
    ("raw", "decimal"),
    [("1.234,50", "point"), ("1,234.50", "comma"), ("12,5", "point"), ("12.5", "comma"),
     ("1'234,50", "point")],
)
def test_parse_number_refuses_the_other_convention(raw: str, decimal: str) -> None:
    with pytest.raises(ConversionError, match=f"“{raw}” is not a number: expected"):
        cv.parse_number(raw, decimal)


@pytest.mark.parametrize(
    "raw",
    ["abc", "1,2,3", "1.234,567,8", "12%", "1,234,5", "--5", "1e999", "12abc", "100 TBD",
     "99 NaN", "NaN", "inf", "USD 5 EUR", "5 usd 5", "1.5E+06 kg"],
)
def test_parse_number_rejects(raw: str) -> None:
    with pytest.raises(ConversionError, match="is not a number"):
        cv.parse_number(raw)


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


_GROUPS = {"point": [",", " ", "'", "\u00a0", ""], "comma": [".", " ", "'", "\u00a0", ""]}
_MARK = {"point": ".", "comma": ","}


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2),
    st.sampled_from(["point", "comma"]),
    st.data(),
)
def test_number_round_trip_per_convention(value: Decimal, decimal: str, data: Any) -> None:
    """Format a number the way a convention writes it; reading it back with that
    convention gives the number (integers come back as int)."""
    sep = data.draw(st.sampled_from(_GROUPS[decimal]))
    affix = data.draw(st.sampled_from(["", "$", "€ ", " EUR", "USD "]))
    with_fraction = data.draw(st.booleans())
    whole, frac = f"{abs(value):.2f}".split(".")
    body = _group(whole, sep) + (_MARK[decimal] + frac if with_fraction else "")
    text = ("-" if value < 0 else "") + body
    text = f"{affix}{text}" if affix in ("$", "€ ", "USD ") else f"{text}{affix}"
    expected = abs(value) if with_fraction else Decimal(whole)
    if value < 0:
        expected = -expected
    result = cv.parse_number(text, decimal)
    assert result == float(expected)
    assert (type(result) is int) == (expected == expected.to_integral_value())


# No "e"/"E": scientific notation (1E3) is read whole, but its digits are not the value's.
_NUMBER_ALPHABET = "0123456789.,' -+()$€\u00a0USDCHFabcTBDNa"


@given(
    st.text(alphabet=_NUMBER_ALPHABET, min_size=1, max_size=16),
    st.sampled_from(["point", "comma"]),
)
def test_number_parser_reads_all_or_refuses(raw: str, decimal: str) -> None:
    """Nothing half-read: a value the parser accepts has every digit taken into account
    (no digit dropped, the decimal mark where the convention puts it) and no letters
    except one ISO currency code; anything else is refused with a message quoting it."""
    try:
        result = cv.parse_number(raw.strip(), decimal)
    except ConversionError as exc:
        assert f"“{raw.strip()}”" in exc.reason
        return
    letters = "".join(c for c in raw if c.isalpha())
    assert letters == "" or letters.upper() in cv.CURRENCY_CODES
    digits = "".join(c for c in raw if c.isdigit())
    mark = _MARK[decimal]
    frac_len = 0
    if mark in raw:
        tail = raw[raw.rindex(mark) + 1 :]
        if tail.strip(" )$€\u00a0" + letters).isdigit():
            frac_len = len(tail.strip(" )$€\u00a0" + letters))
    expected = Decimal(digits).scaleb(-frac_len)
    assert abs(Decimal(str(result))) == expected


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2068, 12, 31)),
       st.sampled_from(["DMY", "MDY", "YMD"]), st.sampled_from(["/", ".", "-"]))
def test_date_round_trip_per_order(day: date, order: str, sep: str) -> None:
    parts = {"D": f"{day.day:02d}", "M": f"{day.month}", "Y": f"{day.year}"}
    if order == "YMD":
        parts["Y"] = f"{day.year % 100:02d}"
    text = sep.join(parts[c] for c in order)
    assert cv.parse_datetime(text, order) == f"{day.isoformat()}T00:00:00Z"


def test_non_negative_int() -> None:
    assert cv.parse_non_negative_int("12") == 12
    assert cv.parse_non_negative_int("1,200", "point") == 1200
    assert cv.parse_non_negative_int("1.200", "comma") == 1200
    for bad in ("-1", "1.5"):
        with pytest.raises(ConversionError, match="whole number of zero or more"):
            cv.parse_non_negative_int(bad)


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("30", "m", 30),
        ("30.5", "m", 30.5),
        ("1:30", "m", 1.5),
        ("0:30:00", "m", 30),
        ("1:02:30", "m", 62.5),
        ("1h 30m", "m", 90),
        ("45 min", "m", 45),
        ("90s", "m", 1.5),
        ("1.5 hours", "m", 90),
        ("90", "s", 1.5),
        ("90000", "ms", 1.5),
        ("2", "h", 120),
    ],
)
def test_parse_duration(raw: str, unit: str, expected: float) -> None:
    assert cv.parse_duration_minutes(raw, unit) == expected


@pytest.mark.parametrize("raw", ["soon", "-5", "1h soon", "1:75"])
def test_parse_duration_rejects(raw: str) -> None:
    with pytest.raises(ConversionError, match="is not a duration"):
        cv.parse_duration_minutes(raw)


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("Call Duration", "m"),
        ("Call Duration in Seconds", "s"),
        ("duration_secs", "s"),
        ("Duration (ms)", "ms"),
        ("Call length (milliseconds)", "ms"),
        ("Duration hours", "h"),
        ("Call duration (HH:mm:ss)", "m"),
    ],
)
def test_duration_unit_from_header(header: str, unit: str) -> None:
    assert cv.duration_unit_from_header(header) == unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-15", "2026-01-15T00:00:00Z"),
        ("2026-01-15T10:30", "2026-01-15T10:30:00Z"),
        ("2026-01-15T10:30:00Z", "2026-01-15T10:30:00Z"),
        ("2026-04-30T10:00:00.000Z", "2026-04-30T10:00:00Z"),
        ("2026-04-30T10:00:00.250Z", "2026-04-30T10:00:00.250Z"),
        ("2026-01-15T10:30:00+02:00", "2026-01-15T08:30:00Z"),
        ("2026-01-15T01:30:00-05:00", "2026-01-15T06:30:00Z"),
        ("2026-01-15 10:30:00", "2026-01-15T10:30:00Z"),
        ("2026-01-15 10:30 PM", "2026-01-15T22:30:00Z"),
        ("2026-01-15 10:30 UTC", "2026-01-15T10:30:00Z"),
        ("2026/01/15", "2026-01-15T00:00:00Z"),
        ("15/01/2026", "2026-01-15T00:00:00Z"),
        ("01/15/2026", "2026-01-15T00:00:00Z"),
        ("1/15/26", "2026-01-15T00:00:00Z"),
        ("15.01.2026 08:05", "2026-01-15T08:05:00Z"),
        ("15-01-2026", "2026-01-15T00:00:00Z"),
        ("05/05/2026", "2026-05-05T00:00:00Z"),
        ("15 Jan 2026", "2026-01-15T00:00:00Z"),
        ("15-Jan-2026", "2026-01-15T00:00:00Z"),
        ("Jan 15, 2026", "2026-01-15T00:00:00Z"),
        ("January 15 2026 9:00 am", "2026-01-15T09:00:00Z"),
        ("12/31/99", "1999-12-31T00:00:00Z"),
    ],
)
def test_parse_datetime(raw: str, expected: str) -> None:
    assert cv.parse_datetime(raw) == expected


def test_parse_datetime_ambiguous_and_date_order() -> None:
    with pytest.raises(cv.UndecidedError, match="ambiguous") as info:
        cv.parse_datetime("03/02/2026")
    assert "date order" in info.value.reason
    assert cv.parse_datetime("03/02/2026", "DMY") == "2026-02-03T00:00:00Z"
    assert cv.parse_datetime("03/02/2026", "MDY") == "2026-03-02T00:00:00Z"
    assert cv.parse_datetime("26/02/03", "YMD") == "2026-02-03T00:00:00Z"
    assert cv.parse_datetime("2026/02/03", "DMY") == "2026-02-03T00:00:00Z"
    with pytest.raises(ConversionError, match="not a date in the month/day/year order"):
        cv.parse_datetime("15/01/2026", "MDY")


def test_date_orders() -> None:
    assert cv.date_orders("31/01/2026") == ("DMY",)
    assert cv.date_orders("1/13/2026 10:00") == ("MDY",)
    assert cv.date_orders("5/1/2026") == ("DMY", "MDY")
    assert cv.date_orders("5/5/2026") == ()
    assert cv.date_orders("2026-01-15") == ()
    assert cv.date_orders("13/13/2026") == ()


@pytest.mark.parametrize(
    "raw", ["tomorrow", "2026-13-01", "31/02/2026", "2026-01-15 25:00", "13/13/2026"]
)
def test_parse_datetime_rejects(raw: str) -> None:
    with pytest.raises(ConversionError):
        cv.parse_datetime(raw)


def test_parse_datetime_serial_number_hint() -> None:
    with pytest.raises(ConversionError, match="spreadsheet date number"):
        cv.parse_datetime("45678")


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)),
                                   timezone(timedelta(hours=-8))]),
    ),
    st.sampled_from(["T", " "]),
)
def test_datetime_round_trip(value: datetime, sep: str) -> None:
    value = value.replace(microsecond=(value.microsecond // 1000) * 1000)
    text = value.isoformat(sep=sep)
    expected = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    result = cv.parse_datetime(text)
    assert result.endswith("Z")
    parsed = datetime.fromisoformat(result[:-1])
    assert parsed == expected


@given(
    st.dates(min_value=date(1970, 1, 1), max_value=date(2068, 12, 31)),
    st.sampled_from(["DMY", "MDY"]),
)
def test_spreadsheet_dates_round_trip(day: date, order: str) -> None:
    if order == "DMY":
        text = f"{day.day}/{day.month}/{day.year}"
    else:
        text = f"{day.month}/{day.day}/{day.year}"
    assert cv.parse_datetime(text, order) == f"{day.isoformat()}T00:00:00Z"
    if day.day > 12 or day.day == day.month:  # unambiguous: "auto" reads it too
        assert cv.parse_datetime(text) == f"{day.isoformat()}T00:00:00Z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@acme.com", "jane@acme.com"),
        ("Jane.Smith+crm@sub.acme.co.uk", "Jane.Smith+crm@sub.acme.co.uk"),
        ("mailto:jane@acme.com", "jane@acme.com"),
        ("Jane Smith <jane@acme.com>", "jane@acme.com"),
        ("jörg@müller.de", "jörg@müller.de"),
    ],
)
def test_parse_email(raw: str, expected: str) -> None:
    assert cv.parse_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["jane", "jane@", "@acme.com", "jane@acme", "jane smith@acme.com", "a@@b.com",
            "jane..x@acme.com", ".jane@acme.com", "jane.@acme.com", "jane@acme.c"],
)
def test_parse_email_rejects(raw: str) -> None:
    with pytest.raises(ConversionError, match="not a valid e-mail address"):
        cv.parse_email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/foo", "acme.com"),
        ("http://acme.co.uk:8080/x?y#z", "acme.co.uk"),
        ("WWW.ACME.COM.", "acme.com"),
        ("  acme.com  ", "acme.com"),
        ("jane@acme.com", "acme.com"),
        ("münchen.de", "münchen.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ],
)
def test_parse_domain(raw: str, expected: str) -> None:
    assert cv.parse_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("acme", "it has no dot"),
        ("acme corp.com", "cannot contain spaces"),
        ("https://", "there is no domain in it"),
        ("192.168.0.1", "not a plausible domain"),
        ("acme..com", "not a plausible domain"),
        ("-acme.com", "not a plausible domain"),
        ("acme_x.com", "not a plausible domain"),
    ],
)
def test_parse_domain_rejects(raw: str, why: str) -> None:
    with pytest.raises(ConversionError, match=why):
        cv.parse_domain(raw)


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(
    st.lists(_LABEL, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.sampled_from(["", "www.", "WWW.", "www.www."]),
    st.sampled_from(["", "/", "/path?q=1", ":8080", ".", "#frag"]),
    st.booleans(),
)
def test_parse_domain_matches_normalise_domain(
    labels: list[str], tld: str, scheme: str, www: str, tail: str, upper: bool
) -> None:
    host = ".".join([*labels, tld])
    raw = f"{scheme}{www}{host.upper() if upper else host}{tail}"
    expected = normalise_domain(raw)
    try:
        got = cv.parse_domain(raw)
    except ConversionError:
        # only when the cleaned host is not a plausible domain
        assert not cv._PLAUSIBLE_DOMAIN.fullmatch(expected)
    else:
        assert got == expected
        assert normalise_domain(got) == got  # idempotent


@given(st.text(max_size=40))
def test_parse_domain_never_disagrees_with_normalise_domain(raw: str) -> None:
    raw = raw.strip()
    if not raw:
        return
    try:
        got = cv.parse_domain(raw)
    except ConversionError:
        return
    assert got == normalise_domain(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.linkedin.com/company/acme", "https://www.linkedin.com/company/acme"),
        ("linkedin.com/company/acme", "https://linkedin.com/company/acme"),
        ("http://uk.linkedin.com/in/jane/", "http://uk.linkedin.com/in/jane/"),
        ("HTTPS://WWW.LINKEDIN.COM/company/acme", "HTTPS://WWW.LINKEDIN.COM/company/acme"),
    ],
)
def test_parse_linkedin(raw: str, expected: str) -> None:
    assert cv.parse_linkedin_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["https://acme.com/company/acme", "linkedin.com", "https://linkedin.com/",
            "acme", "https://www.linkedin.com/company/ac me", "ftp://linkedin.com/company/a",
            "https://notlinkedin.com/company/a"],
)
def test_parse_linkedin_rejects(raw: str) -> None:
    with pytest.raises(ConversionError, match="LinkedIn"):
        cv.parse_linkedin_url(raw)


def test_lists_and_choices() -> None:
    assert cv.split_list("enterprise; q2-target, enterprise ,, ") == ["enterprise", "q2-target"]
    assert cv.match_choice(" Partner ", ("inbound", "partner"), "“Deal Source”") == "partner"
    with pytest.raises(ConversionError) as info:
        cv.match_choice("web", ("inbound", "partner"), "“Deal Source”")
    assert info.value.reason == (
        "“web” is not one of the options of “Deal Source”: inbound, partner. "
        "Use one of these, or add the option in Recotap first."
    )
    assert cv.match_multi_choice("emea; apac", ("EMEA", "APAC"), "x") == ["EMEA", "APAC"]
    assert cv.match_multi_choice("Paid, social", ("Paid, social", "Web"), "x") == ["Paid, social"]
    with pytest.raises(ConversionError, match="“mars” is not among the options"):
        cv.match_multi_choice("emea; mars", ("EMEA", "APAC"), "x")
