"""Where rows go, unmistakably: the DEMO badge for the demo sandbox only; for every other
connection the workspace (connection name) and the host it sends to.

Shown in the main window, on the import wizard's Options page and on its run page.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QWidget

from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import ElidedLabel

DEMO_TEXT = "DEMO — sample data on this computer, no account needed"

#: The demo badge is the one hard-coded colour pair: dark text on amber reads on light and
#: dark themes alike.
DEMO_BADGE_STYLE = (
    "QLabel { background-color: #ffb020; color: #1a1a1a; font-weight: bold; "
    "border-radius: 4px; padding: 3px 10px; }"
)
#: A real workspace: a frame in the theme's own colours (nothing that looks like the demo).
TARGET_BADGE_STYLE = (
    "QLabel { border: 1px solid palette(mid); border-radius: 4px; padding: 3px 10px; }"
)


def target_words(services: Services, profile: Profile) -> str:
    """``Sends to workspace “B” at host`` (plain text), or the demo's words."""
    if services.is_demo(profile):
        return DEMO_TEXT
    return f"Sends to workspace “{profile.name}” at {services.host_of(profile)}"


def where_to(services: Services, profile: Profile) -> str:
    """``to the workspace <b>B</b> at <b>host</b>`` (rich text) for a summary line; the
    demo sandbox is called what it is."""
    host = html.escape(services.host_of(profile))
    if services.is_demo(profile):
        return f"to the <b>demo sandbox</b> on this computer ({host})"
    return f"to the workspace <b>{html.escape(profile.name)}</b> at <b>{host}</b>"


class TargetBadge(QWidget):
    """Two labels, one shown: ``demo`` (amber, the demo sandbox) or ``target`` (the
    workspace and host of any other connection). Nothing when there is no connection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Both shrink with the window (issue 18, finding 7): cut in the middle, so that
        # the host at the end stays readable, with the whole text as the tooltip.
        self.demo = ElidedLabel(DEMO_TEXT)
        self.demo.setObjectName("demoBadge")
        self.demo.setStyleSheet(DEMO_BADGE_STYLE)
        self.target = ElidedLabel(middle=True)
        self.target.setObjectName("targetBadge")
        self.target.setStyleSheet(TARGET_BADGE_STYLE)
        layout.addWidget(self.demo)
        layout.addWidget(self.target)
        layout.addStretch(1)  # as wide as its text, not as the page
        self.demo.setVisible(False)
        self.target.setVisible(False)

    def show_profile(self, services: Services, profile: Profile | None) -> None:
        """Show where ``profile`` sends rows (hide both for None)."""
        demo = profile is not None and services.is_demo(profile)
        self.demo.setVisible(demo)
        self.target.setVisible(profile is not None and not demo)
        if profile is not None and not demo:
            self.target.set_full_text(target_words(services, profile))
            self.target.setAccessibleName(target_words(services, profile))
