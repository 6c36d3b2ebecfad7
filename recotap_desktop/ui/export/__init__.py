"""File → Export scored accounts…: pull accounts with their Recotap scores into a file.

One dialog, three pages on a stack:

``options``   what to pull (full · since the last complete pull of this connection ·
              since a date in UTC), optional filters (domains from a file, minimum
              score, journey stages), the output file and its label row;
``progress``  accounts received, rate and time left (when the engine knows a total),
              Cancel (stops between pages; nothing changes);
``summary``   the counts, a chart of the score distribution and of the journey stages
              (:class:`~recotap_desktop.ui.score_chart.ScoreChart`), the accounts that are
              not scored yet, the engine's message (mode used, whether the sync time was
              stored), Open file and Show in folder.

The pull itself is :func:`recotap_desktop.engine.export.export_accounts`, run on a
:class:`~recotap_desktop.ui.workers.Worker`: the GUI thread never waits for the
network, the keychain or the file. A cancelled or failed pull returns to the options
page with a banner in plain words; nothing was written and the sync time is unchanged.

Keyboard: Enter starts (the default button), Esc closes, or while a pull runs asks
whether to stop it; F1 opens the help.

Modules: :mod:`.dialog` (the shell: the options page, the buttons, which page shows),
:mod:`.mode`, :mod:`.filters` and :mod:`.output` (the option groups), :mod:`.run` (Start
export, the progress page, how the pull ended), :mod:`.summary` (the summary page),
:mod:`.base` (what the parts share) and :mod:`.help` (the words).
"""

from recotap_desktop.ui.export.dialog import ExportDialog
from recotap_desktop.ui.export.help import (
    UNSCORED_EXPLANATION,
    describe_sync_time,
    export_help_html,
)

__all__ = ["UNSCORED_EXPLANATION", "ExportDialog", "describe_sync_time", "export_help_html"]
