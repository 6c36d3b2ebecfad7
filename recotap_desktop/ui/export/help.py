"""The export dialog's words: why accounts are not scored yet, the label row, a stored
sync time for people, and the help (F1)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from recotap_desktop.engine.export import ExportError, parse_since

__all__ = ["LABEL_ROW_HELP", "UNSCORED_EXPLANATION", "describe_sync_time", "export_help_html"]

#: Why accounts can have all-zero scores (recotap-api.md §8.4, §11 item 14).
UNSCORED_EXPLANATION = (
    "Recotap recalculates scores on a schedule (journey stages once a day); accounts "
    "pushed recently show 0 until then."
)

LABEL_ROW_HELP = (
    "Adds a second row under the column names with readable labels (\u201cAccount score\u201d "
    "for rtp_account_score). Handy for people reading the file. Leave it off when the file "
    "will be imported into a CRM or read by a script: an importer would take the label row "
    "for an account."
)


def describe_sync_time(value: str | None, now: datetime | None = None) -> str:
    """A stored sync time for people: ``2026-05-01 10:00 UTC (3 hours ago)``."""
    if not value:
        return "never"
    try:
        moment = parse_since(value)
    except ExportError:
        return value
    now = now or datetime.now(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M UTC")
    age = now - moment
    if age < timedelta(0):
        return text
    if age < timedelta(minutes=1):
        ago = "just now"
    elif age < timedelta(hours=1):
        minutes = int(age.total_seconds() // 60)
        ago = f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    elif age < timedelta(days=2):
        hours = int(age.total_seconds() // 3600)
        ago = f"{hours} hour{'s' if hours != 1 else ''} ago"
    else:
        ago = f"{age.days} days ago"
    return f"{text} ({ago})"


def export_help_html() -> str:
    """The help text of the export dialog (F1)."""
    return f"""
<h3>Export scored accounts</h3>
<p>Pulls your accounts from Recotap, with their scores and journey stage, into a CSV or
Excel file. Nothing in Recotap is changed.</p>
<h4>What to pull</h4>
<ul>
<li><b>Everything (full)</b> downloads every account. Use it the first time, and now and
then afterwards: Recotap never reports deleted accounts, so only a full pull drops them.</li>
<li><b>Changed since the last complete pull</b> (delta) downloads only the accounts that
changed after the <i>sync time</i> of this connection. It is the default once a complete
pull is on record, and it is much faster.</li>
<li><b>Changed since a date</b> downloads accounts changed after a moment you choose, in
UTC (Coordinated Universal Time, the time zone Recotap uses).</li>
</ul>
<h4>The sync time</h4>
<p>At the start of every pull Recotap tells the app its current time. After a pull that
finished and holds every changed account (a full or delta pull without filters), the app
stores that time for this connection; the next delta pull asks only for accounts changed
after it. Accounts that change while a pull runs are therefore picked up again next time
rather than missed.</p>
<p>A pull with filters (domains, minimum score, journey stages), a cancelled pull and a
failed pull leave the sync time as it was, so the next delta pull misses nothing.
Cancel stops between pages: no file is written and nothing changes.</p>
<h4>Filters</h4>
<p>The domain list comes from a file: one domain per line, or a CSV/Excel file with a
domain column. The External API filters domains on the server; the CRM API cannot, so every
account is downloaded and the filter is applied on this computer. The minimum score and
the journey stages are always applied after download.</p>
<h4>Accounts that are not scored yet</h4>
<p>An account whose scores are all 0 and that has no journey stage has not been scored yet.
{html.escape(UNSCORED_EXPLANATION)} Such accounts are in the file, counted separately in
the summary and left out of the chart.</p>
<h4>The label row</h4>
<p>{html.escape(LABEL_ROW_HELP)}</p>
"""
