"""The Check page shows how each date and number column is read and why, asks when no
value settles it (Next blocked), and a click changes it; the choice joins the mapping
(remembered for the file layout, saved in templates) (issue 14)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from recotap_desktop.records import ColumnMapping
from recotap_desktop.store.settings import header_signature
from tests.factories import write_csv
from tests.helpers.wizard import NEXT, WAIT, discard, open_wizard, to_check

ROOT = Path(__file__).resolve().parents[3]
HEADERS = ["Deal ID", "Deal Name", "Amount", "Close Date", "Create Date"]


def _deals(tmp_path: Path) -> Path:
    rows = [
        [f"d{i}", f"Deal {i}", amount, close, created]
        for i, (amount, close, created) in enumerate([
            ("$77,000", "5/1/2026", "2026-01-31"),
            ("$1,250,000.50", "3/4/2026", "2026-01-15"),
            ("$12,500", "6/2/2026", "2026-01-02 10:30"),
        ])
    ]
    return write_csv(tmp_path / "deals-export.csv", HEADERS, rows)


def _save(wizard, tmp_path: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    assert wizard.grab().save(str(path), "PNG")
    if os.environ.get("RECOTAP_SAVE_SCREENSHOTS"):
        shutil.copy(path, ROOT / "resources" / "screenshots" / name)
    return path


def test_check_page_asks_then_reads_as_chosen(qtbot, services, sandbox, tmp_path):
    wizard = open_wizard(qtbot, services, "deals", _deals(tmp_path))
    wizard.resize(1040, 760)
    to_check(qtbot, wizard)
    page = wizard.check_page
    plan = wizard.ctx.plan
    assert [f.target for f in plan.needs_choice] == ["closedDate"]
    labels = page.format_labels
    assert labels["closedDate"].text() == (
        "⚠ Close Date: needs a choice — no value settles it: 3 values such as 5/1/2026 "
        "fit either order")
    assert labels["startDate"].text() == (
        "Create Date: read as written — every value reads the same in any order")
    assert labels["amount"].text() == (
        "Amount: decimal point — 1 value such as $1,250,000.50 fits only this mark")
    assert "choose how below" in page.status_label.text()
    assert not wizard.button(NEXT).isEnabled()  # nothing is sent on a guess
    assert not page.exclude_check.isVisible()  # and good rows cannot be dropped instead
    qtbot.wait(100)
    _save(wizard, tmp_path, "wizard-3-check-formats.png")

    page.format_buttons[("closedDate", "MDY")].click()  # one click
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and not page.running, timeout=WAIT)
    plan = wizard.ctx.plan
    assert not plan.needs_choice and plan.invalid_rows == 0
    assert labels is page.format_labels
    assert page.format_labels["closedDate"].text() == (
        "Close Date: month/day/year — as chosen for this column")
    assert ("closedDate", "auto") in page.format_buttons
    assert wizard.button(NEXT).isEnabled()
    assert wizard.ctx.mapping.formats == {"closedDate": "MDY"}
    assert wizard.ctx.job().mapping.formats == {"closedDate": "MDY"}
    # remembered with the mapping of this file layout, and kept by the Columns page
    remembered = services.settings.mapping_for(header_signature("deals", HEADERS))
    assert ColumnMapping.from_dict(remembered).formats == {"closedDate": "MDY"}
    assert wizard.columns_page.mapper.mapping().formats == {"closedDate": "MDY"}
    qtbot.wait(100)
    _save(wizard, tmp_path, "wizard-3-check-formats-chosen.png")
    wizard.next()  # the Options summary says how the columns are read
    summary = wizard.options_page.summary_label.text()
    assert "Close Date: month/day/year" in summary and "Amount: decimal point" in summary
    discard(wizard)
