from __future__ import annotations

from pathlib import Path

import pytest

from recotap_desktop.records import ColumnMapping, header_signature


def test_json_round_trip(tmp_path: Path) -> None:
    mapping = ColumnMapping({"domain": "Website", "name": "Company name"},
                            {"tags": "imported"})
    text = mapping.to_json()
    assert ColumnMapping.from_json(text) == mapping
    assert mapping.to_dict() == {"version": 1, "columns": {"domain": "Website",
                                                           "name": "Company name"},
                                 "constants": {"tags": "imported"}}
    path = tmp_path / "sub" / "mapping.json"
    mapping.save(path)
    assert ColumnMapping.load(path) == mapping
    assert [p.name for p in path.parent.iterdir()] == ["mapping.json"]


@pytest.mark.parametrize(
    "text",
    ["[", "[]", '{"columns": {"a": 1}}', '{"constants": []}', '{"version": 99}'],
)
def test_from_json_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ColumnMapping.from_json(text)


def test_for_headers_drops_missing_columns() -> None:
    mapping = ColumnMapping({"domain": "Website", "name": "Name"}, {"tags": "x"})
    assert mapping.for_headers(["Website"]) == ColumnMapping({"domain": "Website"},
                                                             {"tags": "x"})
    assert mapping.is_used("tags") and mapping.is_used("name") and not mapping.is_used("x")


def test_header_signature() -> None:
    a = header_signature(["Record ID", "Company name", "Website"])
    assert a == header_signature([" Website", "Record ID", "Company name", "Website"])
    assert a != header_signature(["Record ID", "Company Name", "Website"])
    assert len(a) == 32 and int(a, 16) >= 0
