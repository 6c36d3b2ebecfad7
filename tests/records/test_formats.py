"""records.formats: a column's convention decided from all its values; a column that
contradicts itself is reported, never half-read (issue 14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from recotap_desktop.records import ColumnMapping, FieldType, TargetField
from recotap_desktop.records import convert as cv
from recotap_desktop.records.formats import FormatScanner

DATE_FIELD = TargetField("closedDate", "Close date", FieldType.DATETIME, False, "")
NUMBER_FIELD = TargetField("amount", "Amount", FieldType.NUMBER, False, "")
MAPPING = ColumnMapping({"closedDate": "Close", "amount": "Amount"})


def _scan(dates: list[str], numbers: list[str], **decide: str):  # type: ignore[no-untyped-def]
    scanner = FormatScanner.for_mapping([DATE_FIELD, NUMBER_FIELD], MAPPING, ["Close", "Amount"])
    assert scanner is not None
    rows = list(zip(dates, numbers, strict=True))
    for start in range(0, len(rows), 7):  # several blocks
        block = rows[start : start + 7]
        scanner.add(range(start + 2, start + 2 + len(block)), [list(r) for r in block])
    return {f.target: f for f in scanner.decide(**decide)}


def _written(day: date, order: str) -> str:
    return (f"{day.day}/{day.month}/{day.year}" if order == "DMY"
            else f"{day.month}/{day.day}/{day.year}")


@given(st.lists(st.tuples(st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
                          st.sampled_from(["DMY", "MDY"])), min_size=1, max_size=40))
def test_date_column_is_read_by_one_order_or_reported(values: list[tuple[date, str]]) -> None:
    texts = [_written(d, o) for d, o in values]
    fmt = _scan(texts, ["1"] * len(texts))["closedDate"]
    settles = {o for (d, o) in values if d.day > 12}
    if len(settles) == 2:
        assert fmt.convention is None and fmt.how == "conflict" and fmt.needs_choice
        assert set(fmt.settled_by) == {"DMY", "MDY"}
        return
    if fmt.convention is not None:
        # every value is read by that one order, and read back as written in it
        for (d, o), text in zip(values, texts, strict=True):
            if o == fmt.convention or d.day == d.month:
                assert cv.parse_datetime(text, fmt.convention) == f"{d.isoformat()}T00:00:00Z"
            else:  # written the other way in a column that settled otherwise: never misread
                assert d.day <= 12
    else:
        assert not settles
        assert fmt.needs_choice == any(d.day != d.month for d, _ in values)


@given(st.lists(st.tuples(st.decimals(min_value=Decimal("0"), max_value=Decimal("1e9"),
                                      places=2),
                          st.sampled_from(["point", "comma"])), min_size=1, max_size=30))
def test_number_column_is_read_by_one_mark_or_reported(values: list[tuple[Decimal, str]]) -> None:
    def written(v: Decimal, mark: str) -> str:
        whole, frac = f"{v:.2f}".split(".")
        groups = f"{int(whole):,}".replace(",", "." if mark == "comma" else ",")
        return groups + ("," if mark == "comma" else ".") + frac

    texts = [written(v, m) for v, m in values]
    fmt = _scan(["2026-01-01"] * len(texts), texts)["amount"]
    # every value has two decimals, so each fits exactly the mark it was written with
    marks = {m for _, m in values}
    if len(marks) == 2:
        assert fmt.how == "conflict" and fmt.convention is None
    else:
        (mark,) = marks
        assert fmt.convention == mark and fmt.how == "values"
        for (v, _), text in zip(values, texts, strict=True):
            assert cv.parse_number(text, mark) == float(v)


def test_hints_and_choices() -> None:
    fmts = _scan(["3/4/2026"], ["1.500"], delimiter=";")
    assert (fmts["closedDate"].convention, fmts["closedDate"].how) == ("DMY", "hint")
    assert (fmts["amount"].convention, fmts["amount"].how) == ("comma", "hint")
    fmts = _scan(["3/4/2026"], ["1.500"])
    assert fmts["closedDate"].needs_choice and fmts["amount"].needs_choice
    fmts = _scan(["3/4/2026"], ["1.500"], date_order="MDY", per_column={"amount": "point"})
    assert fmts["closedDate"].reason == "as chosen (--date-order MDY)"
    assert (fmts["amount"].convention, fmts["amount"].reason) == (
        "point", "as chosen for this column")
    # what a sheet's typed cells become (ISO dates, plain numbers) needs no choice at all
    fmts = _scan(["2026-04-03T10:30:00", "2026-01-15"], ["1234.5", "77000"])
    assert fmts["closedDate"].how == "not needed" and not fmts["closedDate"].needs_choice
    assert fmts["amount"].convention == "point"


@given(st.text(alphabet="0123456789.,' $€-USDE", max_size=14))
def test_number_fits_agrees_with_number_readings(raw: str) -> None:
    readings = cv.number_readings(raw)
    expected: tuple[str, ...] = tuple(readings)
    if len(readings) == 2 and readings["point"] == readings["comma"]:
        expected = ()
    assert cv.number_fits(raw) == expected


def test_number_fits_edge_cases() -> None:
    for raw in ("1E999", "1E3", "1 234", "1.234", "$-5", "12abc"):
        readings = cv.number_readings(raw)
        same = len(readings) == 2 and readings["point"] == readings["comma"]
        assert cv.number_fits(raw) == (() if same else tuple(readings)), raw
