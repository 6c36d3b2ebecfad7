"""The backfill assistant's words: the API's 100-at-a-time listing and the help (F1)."""

from __future__ import annotations

import html

from recotap_desktop.engine.backfill import WINDOW
from recotap_desktop.records.backfill_match import LEGAL_SUFFIXES
from recotap_desktop.ui.backfill.model import KIND_SYMBOLS

__all__ = ["backfill_help_html", "window_note"]

#: The legal suffixes the help names as examples (the matching ignores all of LEGAL_SUFFIXES).
_SUFFIX_EXAMPLES = {
    "inc", "llc", "ltd", "limited", "gmbh", "ag", "sa", "bv", "plc", "corp", "co", "pty",
    "ab", "oy",
}


def window_note() -> str:
    """Plain words on the API's 100-at-a-time listing."""
    return (
        f"Recotap lists at most {WINDOW} accounts without an ID at a time and cannot page "
        "further: once some of them get an ID, the next ones appear. Accounts that cannot "
        "be matched stay at the front of that list, so when the list is full the assistant "
        "looks through every account once (one request per 100 accounts) to find them all."
    )


def _suffix_examples() -> str:
    """``AB, AG, BV, Co, Corp, …``: the well-known legal suffixes matching ignores."""
    return ", ".join(
        sorted(
            s.upper() if len(s) <= 3 else s.capitalize()
            for s in LEGAL_SUFFIXES
            if s in _SUFFIX_EXAMPLES
        )
    )


def backfill_help_html() -> str:
    """The help text of the assistant (F1): the matching rules and the overwrite warning."""
    suffixes = _suffix_examples()
    return f"""
<h3>Backfill external IDs</h3>
<p>Accounts created in Recotap by other means (tracking, enrichment, the web app) have no
<i>external ID</i>: nothing ties them to the accounts of your CRM, so imports by CRM ID
cannot reach them. This assistant finds those accounts, matches them to the rows of an
export from your CRM and writes each row's ID onto its account.</p>
<h4>1. The list</h4>
<p>{html.escape(window_note())}</p>
<h4>2. How accounts are matched</h4>
<ul>
<li><b>{KIND_SYMBOLS["domain"]} Domain</b>: the account's domain equals the domain of a CRM
row once both are <i>normalised</i>: the scheme (<code>https://</code>), <code>www.</code>,
paths, ports and capitals are ignored, so <code>https://www.Acme.com/about</code>,
<code>ACME.COM</code> and <code>www.acme.com</code> are all <code>acme.com</code>. These are
ticked to send.</li>
<li><b>{KIND_SYMBOLS["name"]} Name only</b>: no CRM row has the domain, but a row has the same
company name once case, accents, punctuation and legal suffixes ({html.escape(suffixes)} and
the like) are ignored: <i>Acme, Inc.</i> = <i>ACME GmbH</i> = <i>acme</i>. Different companies
can share a name, so these are <b>not</b> ticked: look at them and tick the right ones.</li>
<li><b>{KIND_SYMBOLS["ambiguous"]} Ambiguous</b>: several CRM rows with different IDs fit (the
same domain or name twice in your CRM), or one CRM row fits several accounts. The assistant
never guesses: select the row and choose the right candidate in <i>Selected account</i>, or
leave it skipped. An ID can go to one account only.</li>
<li><b>{KIND_SYMBOLS["none"]} No match</b>: no CRM row has the domain or the name. Nothing is
sent for these accounts; an account without a domain cannot get an ID here at all, because
IDs are written by domain.</li>
</ul>
<h4>3. Sending</h4>
<p><b>Recotap overwrites an existing external ID without warning.</b> The accounts listed had
no ID when they were listed, but another tool (or a run minutes ago that Recotap has not
shown yet) may have written one since. Before sending, the assistant checks the history of
this connection for IDs earlier runs wrote onto the same domains, tells you how many would
be overwritten and asks once.</p>
<p>Sending is an ordinary <i>ID mappings</i> run: it is in the sync history, can be resumed
if it is cancelled or interrupted, and its report can be saved from there. A domain Recotap
does not find any more (the account was deleted meanwhile) fails on its own row; the others
are written. <i>Save report</i> lists every account with its match, candidates and outcome.</p>
<p>After sending, the assistant asks Recotap for the list again. If it brings accounts not
seen before, <i>Next round</i> adds them to the grid; otherwise the backfill is finished.</p>
<h4>Keyboard</h4>
<p>Space ticks or unticks the current row; Alt+C moves to the candidate list of the selected
account; Enter runs the main button of the step; Esc closes; F1 shows this help.</p>
"""
