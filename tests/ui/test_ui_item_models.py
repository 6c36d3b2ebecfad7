"""The item models pass qtmodeltester and show what the user needs."""

from __future__ import annotations

from recotap_desktop.api.models import CustomField, Segment
from recotap_desktop.store.history import History, RunInfo
from recotap_desktop.ui.models import (
    ObjectRole,
    custom_field_model,
    format_duration,
    history_model,
    make_proxy,
    segment_model,
)


def _segments(n: int) -> list[Segment]:
    return [Segment(segment_id=f"seg-{i}", name=f"Segment {i}", status="active") for i in range(n)]


def test_segment_model_with_pages(qtmodeltester):
    model = segment_model()
    qtmodeltester.check(model)
    model.append_rows(_segments(3))
    model.append_rows(_segments(2))
    qtmodeltester.check(model)
    assert model.rowCount() == 5
    assert model.index(0, 0).data() == "Segment 0"
    assert model.index(0, 2).data() == "seg-0"
    assert model.headerData(1, _h()) == "Status"


def test_proxy_filters_any_column(qtmodeltester):
    model = segment_model()
    model.set_rows(_segments(12))
    proxy = make_proxy(model)
    proxy.setFilterFixedString("segment 1")
    qtmodeltester.check(proxy)
    names = sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount()))
    assert names == ["Segment 1", "Segment 10", "Segment 11"]
    proxy.setFilterFixedString("SEG-7")
    assert [proxy.index(r, 0).data(ObjectRole).segment_id
            for r in range(proxy.rowCount())] == ["seg-7"]


def test_custom_field_model(qtmodeltester):
    model = custom_field_model()
    model.set_rows([
        CustomField(key="DEAL_SOURCE_C", label="Deal Source", label_type="singleSelection",
                    description=None, options=("inbound", "outbound"), object_type="accounts",
                    status="active"),
    ])
    qtmodeltester.check(model)
    assert [model.index(0, c).data() for c in range(5)] == [
        "DEAL_SOURCE_C", "Deal Source", "Single selection", "inbound, outbound", ""]


def test_history_model_over_real_history(qtmodeltester, tmp_path):
    history = History(tmp_path / "history.sqlite3")
    try:
        first = history.create_run(RunInfo(kind="accounts", file_name="accounts.csv",
                                           profile="Prod", edition="crm", host="h",
                                           total_rows=3))
        history.finish_run(first, "finished", {"created": 2, "failed": 1})
        second = history.create_run(RunInfo(kind="deals", file_name="deals.xlsx", profile="Prod",
                                            total_rows=5))
        model = history_model()
        model.set_rows(history.list_runs())
        qtmodeltester.check(model)
        assert model.rowCount() == 2
        row = {model.headerData(c, _h()): model.index(1, c).data() for c in range(7)}
        assert row["Kind"] == "Accounts"
        assert row["File"] == "accounts.csv"
        assert row["Connection"] == "Prod"
        assert row["Rows"] == "2 created · 1 failed"
        assert row["State"] == "finished"
        assert model.index(0, 6).data() == "running"
        assert model.index(0, 0).data(ObjectRole).id == second
    finally:
        history.close()


def _h():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_format_duration():
    assert format_duration(None) == ""
    assert format_duration(7) == "7 s"
    assert format_duration(75) == "1 min 15 s"
    assert format_duration(3725) == "1 h 02 min"
