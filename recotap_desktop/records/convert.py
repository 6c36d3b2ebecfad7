"""Typed value parsers: one raw spreadsheet cell in, one API value out.

Every parser takes a *stripped, non-empty* string and either returns the value to
send or raises :class:`ConversionError` whose ``reason`` is a plain sentence for
the user (what is wrong and what to do). The parsers know nothing about rows,
columns or record kinds; :mod:`recotap_desktop.records.base` wraps them.

Decisions taken here (the API reference leaves them open):

* **Dates and times.** ISO 8601 is always recognised first (``2026-01-15``,
  ``2026-01-15T10:30``, seconds, milliseconds, ``Z`` or ``+02:00``). Spreadsheet
  forms ``15/01/2026``, ``1/15/26``, ``15.01.2026``, ``15-01-2026``, ``2026/01/15``,
  month names (``15 Jan 2026``, ``Jan 15, 2026``) are accepted, each with an optional
  time (``10:30``, ``10:30:15``, ``10:30 PM``) and offset. For ``a/b/yyyy`` the order
  is taken from ``date_order``: ``"auto"`` (default) accepts the value only when it
  is unambiguous (one part is greater than 12, or both parts are equal) and reports
  an ambiguous one, asking the user to choose; ``"DMY"`` or ``"MDY"`` force the
  order. :func:`detect_date_order` looks at a column's values and proposes one.
  Two-digit years: 00–68 → 2000–2068, 69–99 → 1969–1999 (the POSIX rule).
  **Values without an offset are taken as UTC**; output is always UTC with ``Z``
  (``2026-01-15T10:30:00Z``; milliseconds are kept when present).
* **Numbers.** Spaces, non-breaking spaces and apostrophes group thousands;
  currency symbols ``$ € £ ¥ ₹`` and a leading/trailing ISO code (``USD``) are
  ignored; ``(1,000)`` is negative. When both ``,`` and ``.`` occur, the last one
  is the decimal mark (``1,234.50`` and ``1.234,50`` are both 1234.5). A single
  ``.`` is always a decimal point (``1.234`` is 1.234). A single ``,`` followed by
  exactly three digits groups thousands (``75,000`` is 75000); otherwise it is a
  decimal comma (``12,5`` is 12.5; ``0,500`` is 0.5). Whole results are ``int``.
* **Durations** (call length in minutes): ``30``, ``30.5``, ``1:30`` (minutes:seconds),
  ``1:02:30`` (hours:minutes:seconds), ``1h 30m``, ``45 min``, ``90s``, ``1.5 hours``.
  Plain numbers are minutes unless the caller says the column holds seconds,
  milliseconds or hours (the column header decides, see ``duration_unit_from_header``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from recotap_desktop.domain.domains import normalise_domain

__all__ = [
    "ConversionError",
    "date_orders",
    "duration_unit_from_header",
    "format_utc",
    "match_choice",
    "match_multi_choice",
    "number_fits",
    "number_readings",
    "parse_datetime",
    "parse_domain",
    "parse_duration_minutes",
    "parse_email",
    "parse_linkedin_url",
    "parse_non_negative_int",
    "parse_number",
    "read_number",
    "split_list",
]

DATE_ORDERS = ("auto", "DMY", "MDY", "YMD")


class ConversionError(ValueError):
    """A cell cannot be turned into the value the API expects; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecidedError(ConversionError):
    """The value reads differently under the conventions still possible for its column."""


# ---------------------------------------------------------------- lists / choices

def split_list(raw: str) -> list[str]:
    """Split ``a; b, c`` into ``["a", "b", "c"]``; empty parts and repeats are dropped."""
    if ";" not in raw and "," not in raw:
        text = raw.strip()
        return [text] if text else []
    out: list[str] = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def match_choice(raw: str, options: Sequence[str], what: str) -> str:
    """Return the option equal to ``raw`` ignoring case and surrounding spaces."""
    folded = raw.strip().casefold()
    for option in options:
        if option.strip().casefold() == folded:
            return option
    raise ConversionError(
        f"“{raw}” is not one of the options of {what}: {_list_options(options)}. "
        "Use one of these, or add the option in Recotap first."
    )


def match_multi_choice(raw: str, options: Sequence[str], what: str) -> list[str]:
    """Split on ``;`` or ``,`` and match every part against ``options`` (case-insensitive).

    A value that equals one option as a whole (an option may itself contain a comma)
    is taken as that single option.
    """
    folded = raw.strip().casefold()
    for option in options:
        if option.strip().casefold() == folded:
            return [option]
    out: list[str] = []
    bad: list[str] = []
    for part in split_list(raw):
        try:
            option = match_choice(part, options, what)
        except ConversionError:
            bad.append(part)
            continue
        if option not in out:
            out.append(option)
    if bad:
        shown = ", ".join(f"“{b}”" for b in bad[:5])
        raise ConversionError(
            f"{shown} {'is' if len(bad) == 1 else 'are'} not among the options of {what}: "
            f"{_list_options(options)}. Use these options, separated by ; or ,."
        )
    return out


def _list_options(options: Sequence[str]) -> str:
    if not options:
        return "(none defined)"
    shown = ", ".join(options[:12])
    return shown + (f" … ({len(options)} in all)" if len(options) > 12 else "")


# ---------------------------------------------------------------- email

# Deliberately simple and robust: something@label.label.tld, no spaces, no angle brackets.
_EMAIL = re.compile(
    r"[^\s@\"<>(),;:\[\]\\]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}",
)
_EMAIL_IN_BRACKETS = re.compile(r"[^<>]*<\s*([^<>\s]+)\s*>")


_EMAIL_ASCII = re.compile(
    r"[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)


def parse_email(raw: str) -> str:
    """Return a plausible e-mail address.

    Accepts ``mailto:jane@acme.com`` and ``Jane Smith <jane@acme.com>`` (the address
    is taken). The address itself is sent as written (only trimmed).
    """
    if _EMAIL_ASCII.fullmatch(raw):
        return raw
    value = raw
    if "<" in value:
        m = _EMAIL_IN_BRACKETS.fullmatch(value)
        if m:
            value = m.group(1)
    if value[:7].lower() == "mailto:":
        value = value[7:].strip()
    if _EMAIL.fullmatch(value) and ".." not in value and not value.startswith("."):
        local = value.rpartition("@")[0]
        if not local.endswith("."):
            return value
    raise ConversionError(
        f"“{raw}” is not a valid e-mail address. Write it like name@company.com."
    )


# ---------------------------------------------------------------- domains

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_PLAUSIBLE_DOMAIN = re.compile(
    rf"(?=.{{4,253}}$)(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})"
)
# Already clean: lower-case ASCII labels, no www., nothing normalise_domain would change.
_CLEAN_DOMAIN = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"\.[a-z]{2,63}"
)


_URLISH_DOMAIN = re.compile(r"(?:https?://)?(?:www\.)?(" + _CLEAN_DOMAIN.pattern + r")/?")


# The commonest case, checked first: a clean domain of at most 63 characters (so no
# label is too long) with hyphens only inside labels, alone or in an http(s) URL with
# an optional www. and a trailing slash. It matches only what _URLISH_DOMAIN matches,
# with the same group, but without backtracking (possessive quantifiers), so faster.
_SHORT_URLISH_DOMAIN = re.compile(
    r"(?:https?://)?+(?:www\.)?+((?:[a-z0-9]++(?:-[a-z0-9]++)*+\.)++[a-z]{2,}+)/?"
)


def parse_domain(raw: str) -> str:
    """Normalise like the server (:func:`~recotap_desktop.domain.domains.normalise_domain`)
    and reject values that cannot be a domain (no dot, spaces, IP addresses …)."""
    m = _SHORT_URLISH_DOMAIN.fullmatch(raw)
    if m is not None:
        domain = m.group(1)
        if len(domain) <= 63 and not domain.startswith("www."):
            return domain
    m = _URLISH_DOMAIN.fullmatch(raw)
    if m is not None:
        domain = m.group(1)
        if not domain.startswith("www.") and len(domain) <= 253:
            return domain
    result = _parse_domain_slow(raw)
    if isinstance(result, ConversionError):
        raise ConversionError(result.reason)
    return result


@lru_cache(maxsize=4096)
def _parse_domain_slow(raw: str) -> str | ConversionError:
    domain = normalise_domain(raw)
    if _PLAUSIBLE_DOMAIN.fullmatch(domain) and "_" not in domain:
        return domain
    if not domain:
        why = "there is no domain in it"
    elif any(c.isspace() for c in domain):
        why = "a domain cannot contain spaces"
    elif "." not in domain:
        why = "it has no dot"
    else:
        why = "it is not a plausible domain"
    return ConversionError(
        f"“{raw}” is not a company domain: {why}. Use the web address, e.g. acme.com."
    )


# Block form of the fast path, for :func:`~.base.RecordKind.compile_block`: applied
# with ``findall`` to the trimmed cells of a column joined by newlines, it yields one
# group per line: the domain, or "" for an empty line; a line that parse_domain might
# reject or normalise differently gives nothing. The look-ahead is one of the checks
# parse_domain makes after _SHORT_URLISH_DOMAIN (no "www."); the other, at most 63
# characters, is BLOCK_RULES' length limit.
DOMAIN_LINES = re.compile(
    r"^(?:(?:https?://)?+(?:www\.)?+"
    r"((?!www\.)(?:[a-z0-9]++(?:-[a-z0-9]++)*+\.)++[a-z]{2,}+)/?)?$",
    re.MULTILINE,
)


# ---------------------------------------------------------------- linkedin

_LINKEDIN_HOST = re.compile(r"(?:[\w-]+\.)*linkedin\.(?:com|cn)", re.IGNORECASE)


_LINKEDIN_FAST = re.compile(
    r"https?://(?:[\w-]+\.)*linkedin\.(?:com|cn)/[^\s/]\S*", re.IGNORECASE
)
_SPACE = re.compile(r"\s")


# The commonest form, a subset of _LINKEDIN_FAST that matches without backtracking.
_LINKEDIN_COMMON = re.compile(r"https://www\.linkedin\.com/[^\s/]\S*+")

#: Block form of _LINKEDIN_COMMON (see DOMAIN_LINES): matches a line that
#: parse_linkedin_url returns unchanged, or an empty line.
LINKEDIN_LINES = re.compile(r"^(?:https://www\.linkedin\.com/[^\s/]\S*+)?$", re.MULTILINE)


def parse_linkedin_url(raw: str) -> str:
    """Loosely check a LinkedIn URL; add ``https://`` when the scheme is missing."""
    if _LINKEDIN_COMMON.fullmatch(raw) or _LINKEDIN_FAST.fullmatch(raw):
        return raw
    value = raw
    if _SPACE.search(value):
        raise ConversionError(
            f"“{raw}” is not a LinkedIn URL (it contains spaces). "
            "Use the page address, e.g. https://www.linkedin.com/company/acme."
        )
    lower = value.lower()
    if lower.startswith(("https://", "http://")):
        rest = value.split("://", 1)[1]
    elif "://" in value:
        raise ConversionError(
            f"“{raw}” is not a LinkedIn URL. "
            "Use the page address, e.g. https://www.linkedin.com/company/acme."
        )
    else:
        rest = value
        value = "https://" + value
    host, _, path = rest.partition("/")
    if not _LINKEDIN_HOST.fullmatch(host) or not path.strip("/"):
        raise ConversionError(
            f"“{raw}” does not look like a LinkedIn page address. "
            "Use e.g. https://www.linkedin.com/company/acme, or clear the cell."
        )
    return value


# ---------------------------------------------------------------- numbers

#: How a column writes its numbers: ``"point"`` (1,234.50 / 1'234.50 / 1 234.50),
#: ``"comma"`` (1.234,50 / 1 234,50), or ``"auto"`` (accept a value only when both
#: readings agree or only one reads it; refuse one such as 1.234 that they disagree on).
DECIMALS = ("auto", "point", "comma")

_INT = re.compile(r"[-+]?\d+")
_CURRENCY_SYMBOLS = "$€£¥₹"
#: ISO 4217 codes accepted around an amount; any other letters make the value invalid.
CURRENCY_CODES = frozenset({
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "ISK",
    "PLN", "CZK", "HUF", "RON", "BGN", "HRK", "RSD", "UAH", "RUB", "TRY", "ILS", "AED",
    "SAR", "QAR", "KWD", "BHD", "OMR", "EGP", "ZAR", "NGN", "KES", "MAD", "INR", "PKR",
    "BDT", "LKR", "CNY", "RMB", "HKD", "TWD", "SGD", "MYR", "IDR", "THB", "PHP", "VND",
    "KRW", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "UYU",
})
_AFFIX = re.compile(r"([A-Za-z]{3})?\s*(.*?)\s*([A-Za-z]{3})?", re.DOTALL)
# Number bodies (no sign, no currency): groups of three after a first group of 1-3
# digits, one separator throughout, then an optional fraction.
_POINT_BODY = re.compile(
    r"(?:[1-9]\d{0,2}(?:([, '\u00a0\u202f\u2019])\d{3})(?:\1\d{3})*|\d+)(?:\.(\d+))?|\.(\d+)"
)
_COMMA_BODY = re.compile(
    r"(?:[1-9]\d{0,2}(?:([. '\u00a0\u202f\u2019])\d{3})(?:\1\d{3})*|\d+)(?:,(\d+))?|,(\d+)"
)
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?[eE][-+]?\d+")
_BODIES = {"point": _POINT_BODY, "comma": _COMMA_BODY}
_DECIMAL_WORDS = {
    "point": "a decimal point (1,234.50)",
    "comma": "a decimal comma (1.234,50)",
    "auto": "digits such as 75000 or 75,000.50",
}


def _number_from_parts(int_digits: str, frac_digits: str) -> int | float:
    if not frac_digits.strip("0"):
        return int(int_digits)
    return float(f"{int_digits}.{frac_digits}")  # correctly rounded, as Decimal → float


def _strip_currency(raw: str) -> tuple[bool, str] | None:
    """(negative, the number body) with sign, brackets, currency symbols and ISO codes
    removed; ``None`` when other letters surround the number."""
    s = raw.strip()
    if s[-1:].isdigit():  # the common forms first: "1,234.50", "$1,234.50"
        if s[:1].isdigit():
            return False, s
        if s[:1] in _CURRENCY_SYMBOLS and s[1:2].isdigit():
            return False, s[1:]
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative = True
        s = s[1:-1].strip()
    m = _AFFIX.fullmatch(s) if s[:1].isalpha() or s[-1:].isalpha() else None
    if m is not None and (m.group(1) or m.group(3)):
        before, body, after = m.groups()
        if before and after:
            return None
        code = before or after
        if code.upper() not in CURRENCY_CODES:
            return None
        s = body
    signed = False
    for _ in range(2):  # "-$5" and "$-5" alike
        s = s.strip().strip(_CURRENCY_SYMBOLS).strip(" \u00a0\u202f")
        if s[:1] in ("-", "+", "\u2212") and not signed:
            signed = True
            negative ^= s[0] != "+"
            s = s[1:]
    return negative, s.strip(" \u00a0\u202f")


def read_number(raw: str, decimal: str) -> int | float | None:
    """``raw`` read completely by one convention (``"point"`` or ``"comma"``), or ``None``."""
    stripped = _strip_currency(raw)
    if stripped is None:
        return None
    negative, s = stripped
    if not s:
        return None
    result: int | float | None = None
    if s.isdigit():
        result = int(s)
    elif (m := _BODIES[decimal].fullmatch(s)) is not None:
        group_sep, frac, bare_frac = m.groups()
        if bare_frac is not None:
            result = _number_from_parts("0", bare_frac)
        else:
            whole = s.partition("." if decimal == "point" else ",")[0]
            if group_sep:
                whole = whole.replace(group_sep, "")
            result = _number_from_parts(whole, frac or "")
    elif decimal == "point" and _SCIENTIFIC.fullmatch(s):
        value = float(s)
        if value in (float("inf"), float("-inf")):
            return None
        result = int(value) if value.is_integer() and abs(value) < 2**53 else value
    if result is None:
        return None
    return -result if negative else result


def number_fits(raw: str) -> tuple[str, ...]:
    """The conventions that read ``raw`` completely *and* differently from the other one
    (``()`` when none reads it or both read the same value): what settles a column.
    The cheap form of :func:`number_readings` for the plan's first pass."""
    stripped = _strip_currency(raw)
    if stripped is None:
        return ()
    s = stripped[1]
    point = _POINT_BODY.fullmatch(s) is not None
    comma = _COMMA_BODY.fullmatch(s) is not None
    if point and comma:
        readings = number_readings(raw)
        return () if readings["point"] == readings["comma"] else ("point", "comma")
    if point:
        return ("point",)
    if comma:
        return ("comma",)
    return ("point",) if read_number(raw, "point") is not None else ()


def number_readings(raw: str) -> dict[str, int | float]:
    """Convention → value, for each convention that reads ``raw`` completely."""
    out: dict[str, int | float] = {}
    for decimal in ("point", "comma"):
        value = read_number(raw, decimal)
        if value is not None:
            out[decimal] = value
    return out


def parse_number(raw: str, decimal: str = "auto") -> int | float:
    """Parse a number written the way spreadsheets and CRMs write them.

    ``decimal`` is the column's convention (see :data:`DECIMALS`). The whole value must
    be read: only a sign, brackets (negative), currency symbols and ISO currency codes
    may surround the digits. Whole results are ``int``.
    """
    if _INT.fullmatch(raw):
        return int(raw)
    if decimal != "auto":
        value = read_number(raw, decimal)
        if value is None:
            raise ConversionError(_not_a_number(raw, decimal))
        return value
    readings = number_readings(raw)
    if not readings:
        raise ConversionError(_not_a_number(raw, "auto"))
    values = set(readings.values())
    if len(values) > 1:
        raise UndecidedError(
            f"“{raw}” could be {readings['point']} (decimal point) or {readings['comma']} "
            "(decimal comma), and no value of its column settles which. Choose the decimal "
            "mark of the column."
        )
    return values.pop()


def _not_a_number(raw: str, decimal: str) -> str:
    return (
        f"“{raw}” is not a number: expected {_DECIMAL_WORDS[decimal]}, optionally with a sign "
        "and a currency (€, $, USD), and nothing else in the cell. Fix the cell or clear it."
    )


def parse_non_negative_int(raw: str, decimal: str = "auto") -> int:
    """A count (opens, clicks): a whole number, zero or more."""
    value = parse_number(raw, decimal)
    if isinstance(value, float) or value < 0:
        raise ConversionError(
            f"“{raw}” is not a whole number of zero or more. Use a count such as 0, 1 or 12."
        )
    return value


# ---------------------------------------------------------------- durations

_DURATION_UNITS = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(\d+):([0-5]?\d)(?::([0-5]?\d(?:\.\d+)?))?")

_UNIT_MINUTES = {"h": 60.0, "m": 1.0, "s": 1.0 / 60.0}


def duration_unit_from_header(header: str) -> str:
    """Guess the unit of plain numbers from a column header.

    ``"Call Duration (seconds)"`` → ``"s"``; ``"duration_ms"`` → ``"ms"``;
    ``"Duration in hours"`` → ``"h"``; anything else → ``"m"`` (minutes).
    """
    h = header.casefold()
    if "millisecond" in h or re.search(r"(?<![a-z])ms(?![a-z])", h):
        return "ms"
    if "second" in h or re.search(r"(?<![a-z])secs?(?![a-z])", h):
        return "s"
    if "hour" in h or re.search(r"(?<![a-z])hrs?(?![a-z])", h):
        return "h"
    return "m"


def _round_minutes(minutes: float) -> int | float:
    rounded = round(minutes, 2)
    return int(rounded) if float(rounded).is_integer() else rounded


def parse_duration_minutes(
    raw: str, plain_unit: str = "m", decimal: str = "auto"
) -> int | float:
    """Return a duration in minutes (int when whole, else rounded to 2 decimals);
    plain numbers are read with the column's ``decimal`` convention."""
    s = raw.strip()
    minutes: float | None = None
    try:
        number = parse_number(s, decimal)
    except UndecidedError:
        raise
    except ConversionError:
        number = None
    if number is not None:
        factor = {"m": 1.0, "s": 1 / 60, "ms": 1 / 60000, "h": 60.0}.get(plain_unit, 1.0)
        minutes = float(number) * factor
    elif (m := _CLOCK.fullmatch(s)) is not None:
        a, b, c = m.groups()
        # two parts: minutes:seconds; three parts: hours:minutes:seconds
        minutes = int(a) + int(b) / 60 if c is None else int(a) * 60 + int(b) + float(c) / 60
    else:
        pos = 0
        total = 0.0
        for um in _DURATION_UNITS.finditer(s):
            if s[pos : um.start()].strip(" ,"):
                total = -1.0
                break
            unit = um.group(2)[0].lower()
            total += float(um.group(1).replace(",", ".")) * _UNIT_MINUTES[unit]
            pos = um.end()
        if pos and total >= 0 and not s[pos:].strip():
            minutes = total
    if minutes is None or minutes < 0 or minutes != minutes:
        raise ConversionError(
            f"“{raw}” is not a duration. Write minutes (30), minutes:seconds (1:30), "
            "hours:minutes:seconds (0:01:30) or with units (1h 30m)."
        )
    return _round_minutes(minutes)


# ---------------------------------------------------------------- dates and times

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME = (
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMERIC_DATE = re.compile(r"(?P<a>\d{1,4})([/.\-])(?P<b>\d{1,2})\2(?P<c>\d{1,4})" + _TIME)
_NAMED_DMY = re.compile(
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-]+(?P<mon>[A-Za-z]{3,9})\.?,?[\s\-]+(?P<y>\d{2,4})"
    + _TIME
)
_NAMED_MDY = re.compile(
    r"(?:[A-Za-z]{3,9},?\s+)?(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?P<y>\d{4})" + _TIME
)

_DATE_HELP = "Use a date such as 2026-01-15 or 2026-01-15T10:30:00Z."


class _Ambiguous(UndecidedError):
    pass


def format_utc(value: datetime) -> str:
    """Format as UTC ISO 8601 with ``Z``; naive values are taken as UTC."""
    if value.tzinfo is not None:
        offset = value.utcoffset()
        if offset:
            value = value - offset
    ms = value.microsecond // 1000
    base = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    return f"{base}.{ms:03d}Z" if ms else base + "Z"


def _year(text: str) -> int:
    y = int(text)
    if len(text) <= 2:
        return 2000 + y if y < 69 else 1900 + y
    return y


def _build(
    raw: str, year: int, month: int, day: int, m: re.Match[str]
) -> datetime:
    hour = int(m.group("H") or 0)
    minute = int(m.group("M") or 0)
    second = int(m.group("S") or 0)
    frac = m.group("F") or ""
    ampm = m.group("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise ConversionError(f"“{raw}” has an impossible time. {_DATE_HELP}")
        pm = ampm[0].lower() == "p"
        hour = (hour % 12) + (12 if pm else 0)
    micro = int((frac + "000000")[:6]) if frac else 0
    tz = m.group("tz")
    tzinfo = None
    if tz and tz.upper() not in ("Z", "UTC", "GMT"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, mins = int(digits[:2]), int(digits[2:4] or 0)
        tzinfo = timezone(sign * timedelta(hours=hours, minutes=mins))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)
    except ValueError:
        raise ConversionError(f"“{raw}” is not a real date or time. {_DATE_HELP}") from None


def _parse_datetime_obj(raw: str, date_order: str) -> datetime:
    s = raw.strip()
    if len(s) >= 10 and s[4] == "-" and s[:4].isdigit():
        try:
            return datetime.fromisoformat(s)
        except ValueError:
            pass
    m = _NUMERIC_DATE.fullmatch(s)
    if m is not None:
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        if len(a) == 4:  # y-m-d
            return _build(raw, int(a), int(b), int(c), m)
        if date_order == "YMD" and len(a) == 2 and len(c) <= 2:
            return _build(raw, _year(a), int(b), int(c), m)
        if len(c) not in (2, 4):
            raise ConversionError(f"“{raw}” is not a date I can read. {_DATE_HELP}")
        first, second = int(a), int(b)
        year = _year(c)
        if date_order in ("DMY", "MDY"):
            day, month = (first, second) if date_order == "DMY" else (second, first)
            if not 1 <= month <= 12:
                raise ConversionError(
                    f"“{raw}” is not a date in the {ORDER_WORDS[date_order]} order of its "
                    f"column (there is no month {month}). Fix the cell, or change the "
                    "column's date order if most of its dates are written the other way."
                )
        elif first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            month, day = first, second
        elif first == second:
            day = month = first
        elif first > 12 and second > 12:
            raise ConversionError(f"“{raw}” is not a real date. {_DATE_HELP}")
        else:
            raise _Ambiguous(
                f"“{raw}” is ambiguous: it could be day {first} of month {second} or "
                f"month {first} day {second}, and no value of its column settles which. "
                "Choose the column's date order (day first or month first)."
            )
        return _build(raw, year, month, day, m)
    for pattern in (_NAMED_DMY, _NAMED_MDY):
        m = pattern.fullmatch(s)
        if m is not None:
            month_no = _MONTHS.get(m.group("mon").lower())
            if month_no is None:
                break
            return _build(raw, _year(m.group("y")), month_no, int(m.group("d")), m)
    hint = _DATE_HELP
    if s.isdigit() and 4 <= len(s) <= 6:
        hint = (
            "It looks like a spreadsheet date number: format the column as a date in "
            "your spreadsheet, or " + _DATE_HELP[0].lower() + _DATE_HELP[1:]
        )
    raise ConversionError(f"“{raw}” is not a date I can read. {hint}")


@lru_cache(maxsize=8192)
def _parse_datetime_cached(raw: str, date_order: str) -> str | ConversionError:
    try:
        return format_utc(_parse_datetime_obj(raw, date_order))
    except ConversionError as exc:
        return exc


def parse_datetime(raw: str, date_order: str = "auto") -> str:
    """Parse a date or date-time; return UTC ISO 8601 with ``Z`` (see module notes)."""
    result = _parse_datetime_cached(raw, date_order)
    if isinstance(result, ConversionError):
        raise type(result)(result.reason)
    return result


#: How a date order is named to the user.
ORDER_WORDS = {"DMY": "day/month/year", "MDY": "month/day/year", "YMD": "year/month/day"}


def date_orders(raw: str) -> tuple[str, ...]:
    """The orders (``"DMY"``, ``"MDY"``) in which a numeric date ``a/b/yyyy`` reads as a
    real, *different* date: ``()`` for any other value (ISO, month names, 5/5/2026 …)."""
    m = _DMY_MDY.fullmatch(raw)
    if m is None:
        return ()
    a, b = int(m.group(1)), int(m.group(2))
    if a == b:
        return ()
    fits = []
    if 1 <= b <= 12 and 1 <= a <= 31:
        fits.append("DMY")
    if 1 <= a <= 12 and 1 <= b <= 31:
        fits.append("MDY")
    return tuple(fits)


_DMY_MDY = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})\b.*", re.DOTALL)


#: Converters with a block form (see ``_block_converter`` in base.py): converter →
#: (multi-line pattern, whether its group is the value, longest value vouched for).
#: ``pattern.findall`` over trimmed cells joined by newlines yields one string per line
#: it vouches for: a line for which the converter returns that string (the group, or
#: the line itself) without an error, when that string is not longer than the limit;
#: "" for an empty line; nothing for any other line.
BLOCK_RULES: dict[Callable[[str], object], tuple[re.Pattern[str], bool, int | None]] = {
    parse_domain: (DOMAIN_LINES, True, 63),
    parse_linkedin_url: (LINKEDIN_LINES, False, None),
}
