"""Tools → Backfill external IDs…: give Recotap accounts that have no ID their CRM's ID.

Three steps on one dialog (a stack with a step title, Back and the step's main button):

``list``    the accounts Recotap lists as having no external ID (§9.4), fetched on a
            worker, in a sortable grid, with the count and what the API's
            100-at-a-time listing means; *Find all* pages through every account;
            *Export list…* writes them to CSV/XLSX.
``match``   the CRM export (Choose file… or drop it on the dialog; CSV, TSV, XLSX),
            read on a worker with :func:`~recotap_desktop.engine.backfill.read_crm_file`;
            the columns used for the external ID, domain and company name, detected by
            :func:`~recotap_desktop.engine.backfill.automap_crm` and changeable with
            combo boxes. *Find matches* starts a
            :class:`~recotap_desktop.engine.backfill.BackfillSession` and its first round.
``review``  every proposal with a colour-and-word badge for how it was found, a
            Send checkbox per row, filters (match kind, decision, text), bulk actions and
            a details pane where an ambiguous account gets a candidate chosen by the
            user (or stays skipped: never guessed). *Send…* asks once (with the
            overwrite check) and sends on a worker with progress and Cancel; then
            each row shows Recotap's answer, the run id (an ordinary ``id-mappings``
            run: the history can resume it and save its report), *Save report…*,
            and *Next round* when the listing brings accounts not seen before.

Defaults: domain matches ticked, name matches not (the user ticks them), ambiguous and
unmatched accounts skipped. The GUI thread never waits for the network, the keychain
or a file. Keyboard: every control has a mnemonic; Space ticks the current row of
the grid; Enter runs the step's main button; Esc closes (or asks to stop a running
job); F1 opens the help on the matching rules.

Modules: :mod:`.dialog` (the shell), :mod:`.list_page`, :mod:`.match_page`,
:mod:`.review_page` and :mod:`.send` (one per step), :mod:`.base` (what the steps
share), :mod:`.model` (the review grid's Qt models), :mod:`.help` (the words).
"""

from recotap_desktop.ui.backfill.dialog import BackfillDialog
from recotap_desktop.ui.backfill.help import backfill_help_html
from recotap_desktop.ui.backfill.send import SendOutcome

__all__ = ["BackfillDialog", "SendOutcome", "backfill_help_html"]
