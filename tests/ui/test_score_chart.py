"""The QPainter score chart: draws something readable with data, empty, dark, narrow, 2x."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from platform_support import require_native_display
from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QColor, QImage, QPalette

from recotap_desktop.engine.export import HISTOGRAM_LABELS
from recotap_desktop.ui.score_chart import MAX_STAGE_ROWS, NO_STAGE_LABEL, ScoreChart, nice_step

HISTOGRAM = [282, 280, 313, 284, 281, 261, 277, 290, 279, 301, 26]
STAGES = {"Unaware": 597, "Aware": 595, "Consideration": 536, "Opportunity": 570,
          "Customer": 576, "": 3}
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _chart(qtbot, size: QSize | None = None) -> ScoreChart:
    chart = ScoreChart()
    qtbot.addWidget(chart)
    chart.resize(size or QSize(820, 340))
    return chart


def _colours(image: QImage) -> Counter[int]:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return Counter(image.pixel(x, y) for y in range(0, image.height(), 2)
                   for x in range(0, image.width(), 2))


def _background(chart: ScoreChart) -> int:
    return chart.palette().color(QPalette.ColorRole.Base).rgb()


def _assert_drawn(image: QImage, background: int, *, min_colours: int,
                  min_share: float) -> Counter[int]:
    colours = _colours(image)
    total = sum(colours.values())
    assert colours.most_common(1)[0][0] == background  # the card, not a blank/black image
    ink = total - colours[background]
    assert ink / total >= min_share, f"only {ink / total:.1%} drawn"
    assert len(colours) >= min_colours
    return colours


def _dark_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#202124",
        QPalette.ColorRole.Base: "#2b2b2e",
        QPalette.ColorRole.Text: "#e8e8ea",
        QPalette.ColorRole.WindowText: "#e8e8ea",
        QPalette.ColorRole.Mid: "#55565a",
        QPalette.ColorRole.Highlight: "#3d8fe0",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    return pal


def test_nice_step() -> None:
    assert nice_step(0) == 1
    assert nice_step(3) == 1
    assert nice_step(9) == 5 and nice_step(40) == 10
    assert nice_step(338) == 100 and nice_step(650, 3) == 250
    assert nice_step(12_000) == 5000


def test_chart_with_data_is_drawn(qtbot) -> None:
    chart = _chart(qtbot)
    chart.set_data(HISTOGRAM, STAGES, unscored=126)
    assert not chart.is_empty
    assert chart.histogram == HISTOGRAM
    assert chart.stage_rows[-1] == (NO_STAGE_LABEL, 3)
    colours = _assert_drawn(chart.grab().toImage(), _background(chart), min_colours=20,
                            min_share=0.08)
    highlight = chart.palette().color(QPalette.ColorRole.Highlight).rgb()
    assert colours[highlight] > 500  # the score bars are solid palette colour
    assert "20–29: 313" in chart.summary_text() and "Customer: 576" in chart.summary_text()
    assert "Not yet scored (not shown): 126" in chart.accessibleDescription()


def test_empty_state_is_drawn_and_says_why(qtbot) -> None:
    chart = _chart(qtbot)
    chart.set_data([0] * len(HISTOGRAM_LABELS), {}, unscored=40)
    assert chart.is_empty
    assert "None of the 40 exported accounts has been scored yet" in chart.empty_text()
    _assert_drawn(chart.grab().toImage(), _background(chart), min_colours=6, min_share=0.005)
    chart.clear()
    assert "No scored accounts" in chart.empty_text()
    _assert_drawn(chart.grab().toImage(), _background(chart), min_colours=6, min_share=0.005)


def test_dark_palette_draws_light_ink_on_dark(qtbot) -> None:
    chart = _chart(qtbot)
    chart.setPalette(_dark_palette())
    chart.set_data(HISTOGRAM, STAGES)
    image = chart.grab().toImage()
    colours = _assert_drawn(image, QColor("#2b2b2e").rgb(), min_colours=20, min_share=0.08)
    light = sum(n for rgb, n in colours.items() if QColor(rgb).lightness() > 170)
    assert light > 200  # text and value labels are light on the dark card
    assert QColor(image.pixel(QPoint(6, image.height() // 2))).lightness() < 80


def test_narrow_chart_stacks_its_panels(qtbot) -> None:
    chart = _chart(qtbot, QSize(380, 560))
    chart.set_data(HISTOGRAM, STAGES)
    _assert_drawn(chart.grab().toImage(), _background(chart), min_colours=15, min_share=0.06)


def test_high_dpi_render(qtbot) -> None:
    chart = _chart(qtbot)
    chart.set_data(HISTOGRAM, STAGES, unscored=5)
    image = QImage(chart.size() * 2, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(2.0)
    image.fill(QColor("#ff00ff"))
    chart.render(image)
    colours = _assert_drawn(image, _background(chart), min_colours=25, min_share=0.08)
    assert colours[QColor("#ff00ff").rgb()] < 0.01 * sum(colours.values())  # all painted


def test_many_stages_are_folded_and_sizes_are_checked(qtbot) -> None:
    chart = _chart(qtbot)
    stages = {f"Stage {i}": 100 - i for i in range(12)}
    chart.set_data(HISTOGRAM, stages)
    rows = chart.stage_rows
    assert len(rows) == MAX_STAGE_ROWS
    assert rows[-1] == ("Other (5 stages)", sum(100 - i for i in range(7, 12)))
    with pytest.raises(ValueError):
        chart.set_data([1, 2], {})


@pytest.mark.xcb
def test_save_chart_previews(qtbot) -> None:
    """Light, dark and empty renders for a human to look at (artifacts/screenshots)."""
    require_native_display()
    SHOTS.mkdir(parents=True, exist_ok=True)
    chart = _chart(qtbot)
    chart.set_data(HISTOGRAM, STAGES, unscored=126)
    assert chart.grab().save(str(SHOTS / "chart-light.png"))
    chart.setPalette(_dark_palette())
    assert chart.grab().save(str(SHOTS / "chart-dark.png"))
    chart.set_data([0] * len(HISTOGRAM_LABELS), {}, unscored=40)
    assert chart.grab().save(str(SHOTS / "chart-empty-dark.png"))
