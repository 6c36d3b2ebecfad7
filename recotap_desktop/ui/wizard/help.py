"""Plain-words help for each page of the import wizard (F1 or the Help button)."""

from __future__ import annotations

FILE = """
<h3>Choose the file</h3>
<p>Pick a CSV, TSV or TXT export of your CRM, or an Excel workbook (.xlsx). You can also
drop the file on this page. The first row must hold the column names.</p>
<p>The app detects the text <b>encoding</b> (how letters such as é or ü are stored) and the
<b>delimiter</b> (comma, semicolon, tab…). If the preview shows garbled letters or everything
in one column, choose them yourself. For a workbook, choose the <b>sheet</b>.</p>
<p>If the file cannot be read, the message says what is wrong and where (row and column).
Fix it in your spreadsheet, save, and choose it again. Nothing is sent at this point.</p>
"""

COLUMNS = """
<h3>Match the columns</h3>
<p>Each line is a field Recotap accepts. Fields marked <b>*</b> are required: every row
needs a value, either from a column of your file or from a <b>fixed value</b> used for
every row (for example the same owner e-mail on all deals). A fixed value next to a column
fills the rows where that column is empty.</p>
<p>The app matches columns by their names, including the names CRMs use in their exports.
Check the matches; choose “(not used)” to leave a field empty.</p>
<p><b>Domains</b> are cleaned the way Recotap does it: “https://www.Acme.com/about” becomes
“acme.com” (no scheme, no www., no path, lower case). Two rows that clean to the same domain
describe the same company.</p>
<p><b>Custom fields</b> are the account fields your workspace defined in Recotap. Only
active fields can be filled; create a missing one with “Create custom field…”.</p>
<p>Save the matching as a <b>template</b> to reuse it; the app also remembers it for files
with the same column names.</p>
"""

CHECK = """
<h3>Check the rows</h3>
<p>Every row is read and checked here, before anything is sent. <b>Invalid</b> rows
(a required value missing, an e-mail or a date that cannot be read, a duplicate of an
earlier row) are listed with their row number, column and the reason. Invalid rows are
<b>never sent</b>: they appear as “invalid” in the results so you can fix and import them
later.</p>
<p><b>Warnings</b> are values that were left out (for example an unknown option of a
custom field); the rest of the row is still sent.</p>
<p>To continue while some rows are invalid, tick “Exclude invalid rows and continue”.
Or go <b>Back</b>, change the column matching, and the rows are checked again.</p>
<p>Dates such as 03/04/2026 are ambiguous. With “Detect” only unambiguous dates are
accepted; choose day-first or month-first if your file uses one order throughout.</p>
"""

OPTIONS = """
<h3>Options and confirmation</h3>
<p><b>Segment</b> (accounts only): the accounts are also added to one static segment.
Only static segments can receive accounts; dynamic segments fill themselves from their
rules, so Recotap does not list them here.</p>
<p><b>Update existing accounts (upsert)</b>, where your Recotap edition offers it: an
account whose domain already exists is updated instead of failing with “already exists”.</p>
<p><b>Requests</b>: rows are sent in batches (100 accounts or deals, 50 activities, 20
pipelines per request). <b>Parallel requests</b> sends several batches at once; if Recotap
asks to slow down, the app halves the number by itself and grows it again later.</p>
<p><b>Dry run</b> checks and prepares everything but sends nothing.</p>
<p>Nothing is sent until you confirm on this page.</p>
"""

RUN = """
<h3>Sending</h3>
<p>Batches are sent and every row gets a final state: created, updated, upserted, failed,
skipped, invalid or not sent. If Recotap rejects a whole batch because of one row, the
batch is split until only the offending rows fail.</p>
<p>Temporary problems (the server busy, a dropped connection) are retried with pauses.
When an answer is lost after sending, the rows are checked against Recotap on resume so
nothing is created twice.</p>
<p><b>Cancel</b> asks how to stop: “Finish batches in flight” waits for the requests
already sent (their answers are recorded); “Stop now” abandons waits and retries at once.
Rows not sent stay “not sent”.</p>
<p>Every batch is written to the sync history before it is sent. If the app or the computer
stops, open the history and <b>Resume</b>: only rows without a final answer are sent.</p>
"""

RESULTS = """
<h3>Results</h3>
<p>Every row of your file with its final state and Recotap's message. Click a colour in
the bar (or use “Show”) to see only those rows; Ctrl+click adds states. Type in “Find” to
search all columns. Select cells and press Ctrl+C to copy them.</p>
<p><b>Export → Failures only</b> writes the rows that did not succeed with your original
columns first: fix them in a spreadsheet and import that file again as it is.</p>
<p><b>Retry failed rows</b> sends again the rows that failed for a temporary reason or were
not sent, as a new run. Rows the server rejected for their data are not retried.</p>
"""

PAGES = (FILE, COLUMNS, CHECK, OPTIONS, RUN, RESULTS)
