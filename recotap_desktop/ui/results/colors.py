"""Colours of the row states, one set for light and one for dark palettes.

Success states are greens (unchanged the lightest), failures red, invalid orange,
unknown purple, skipped and not sent greys.
Text drawn on a state colour uses :func:`text_on`, which picks black or white by
contrast, so both themes stay readable.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

_LIGHT = {
    "created": "#2e7d32",
    "updated": "#43a047",
    "upserted": "#00897b",
    "unchanged": "#558b2f",
    "failed": "#c62828",
    "unknown": "#6a1b9a",
    "skipped": "#8d6e63",
    "invalid": "#ef6c00",
    "not sent": "#757575",
}
_DARK = {
    "created": "#66bb6a",
    "updated": "#9ccc65",
    "upserted": "#4db6ac",
    "unchanged": "#aed581",
    "failed": "#ef5350",
    "unknown": "#ba68c8",
    "skipped": "#bcaaa4",
    "invalid": "#ffa726",
    "not sent": "#9e9e9e",
}


def state_color(state: str, dark: bool = False) -> QColor:
    """The colour of ``state`` (a grey for unknown states)."""
    table = _DARK if dark else _LIGHT
    return QColor(table.get(state, "#9e9e9e"))


def text_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = (
        0.2126 * channel(background.redF())
        + 0.7152 * channel(background.greenF())
        + 0.0722 * channel(background.blueF())
    )
    contrast_black = (lum + 0.05) / 0.05
    contrast_white = 1.05 / (lum + 0.05)
    return QColor("#000000") if contrast_black >= contrast_white else QColor("#ffffff")
