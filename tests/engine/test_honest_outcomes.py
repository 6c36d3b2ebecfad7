"""Issue 16 over the sandbox with faults on: the dry run's plan is exact, the real run's
outcomes are exact and the sandbox holds them, the same file again sends no write."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.plan import build_plan
from recotap_desktop.engine.report import iter_report_rows
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.sandbox.faults import Faults
from recotap_desktop.store.history import History
from tests.helpers.runs import import_job, row_states, sandbox_conn

RETRY = {"retry": RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, max_total=60)}
HEADERS = ["Record ID", "Company name", "Company Domain Name"]


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def mixed(server: SandboxServer, path: Path, n: int) -> tuple[Path, dict[int, str]]:
    """n unchanged, n renamed, n new rows; the planned action of each row (upsert on)."""
    existing = [a for a in server.state.all_accounts() if a["externalId"]][: 2 * n]
    rows, planned = [], {}
    for i, acc in enumerate(existing):
        renamed = i % 2 == 1
        rows.append([acc["externalId"], acc["name"] + (" Ltd" if renamed else ""),
                     acc["domain"]])
        planned[len(rows) + 1] = "update" if renamed else "unchanged"
    for j in range(n):
        rows.append([f"honest-{j:04d}", f"Honest {j}", f"honest{j}.example-honest.org"])
        planned[len(rows) + 1] = "create"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows)
    return path, planned


def posts(server: SandboxServer) -> int:
    return sum(1 for r in server.state.request_log
               if r.method == "POST" and r.path.endswith("/accounts"))


def report_column(history: History, run_id: int, column: str) -> dict[int, str]:
    headers, rows = iter_report_rows(history, run_id)
    at, row_at = headers.index(column), headers.index("recotap_row")
    return {int(r[row_at]): r[at] for r in rows}


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_plan_outcomes_and_the_second_import_with_faults(
    tmp_path: Path, history: History, edition: str
) -> None:
    faults = Faults(seed=16, rate_5xx=0.10, rate_drop_after=0.05)
    with SandboxServer(port=0, accounts=600, faults=faults) as server:
        conn = sandbox_conn(server, edition)
        upsert = edition == "external"  # the CRM API has no upsert
        path, planned = mixed(server, tmp_path / "accounts.csv", 150)
        if edition == "crm":
            # The CRM API cannot rename an existing account through an account import.
            planned = {r: "conflict" if p == "update" else p for r, p in planned.items()}
        names_before = {a["domain"]: a["name"] for a in server.state.all_accounts()}

        # 1. dry run: the plan of every row is exact and nothing is written
        before_posts = posts(server)
        dry = ImportRunner(build_plan(import_job("accounts", path, edition, upsert=upsert,
                                                 dry_run=True)),
                           conn, history, client_kwargs=RETRY).run()
        assert dry.state is RunState.FINISHED
        assert posts(server) == before_posts
        assert report_column(history, dry.run_id, "recotap_planned") == planned
        changes = report_column(history, dry.run_id, "recotap_changes")
        renamed = [r for r, p in planned.items() if p in ("update", "conflict")]
        assert all(" Ltd" in changes[r] and "\u2192" in changes[r] for r in renamed)
        # each row's message says what it would do: a conflict would fail, not be sent
        said = {o.row: o.message for o in history.iter_outcomes(dry.run_id)}
        for r, p in planned.items():
            if p == "conflict":
                assert said[r].startswith("Dry run: not sent: the account already exists"), said[r]
            elif p == "unchanged":
                assert said[r] == "Dry run: unchanged, would not be sent.", said[r]
            else:
                assert said[r] == "Dry run: would be sent.", said[r]

        # 2. the real run: outcomes exact, the sandbox holds what they say (answers to
        # writes lost often enough that repeated requests surely happen)
        faults.rate_drop_after = 0.4
        drops_before = server.state.fault_counts["drop_after"]
        posts_before = posts(server)
        result = ImportRunner(build_plan(import_job("accounts", path, edition, upsert=upsert,
                                                    concurrency=4)),
                              conn, history, client_kwargs=RETRY).run()
        assert result.state is RunState.FINISHED, result.message
        want = {"unchanged": "unchanged", "create": "created",
                "update": "updated", "conflict": "failed"}
        assert row_states(history, result.run_id) == {r: want[p] for r, p in planned.items()}
        faults.rate_drop_after = 0.05
        # answers to writes were lost: more POSTs than batches
        assert server.state.fault_counts["drop_after"] > drops_before
        assert posts(server) - posts_before > result.requests - result.isolation_requests
        with path.open(encoding="utf-8") as fh:
            file_rows = list(csv.reader(fh))[1:]
        for i, (_ext, name, domain) in enumerate(file_rows):
            acc = server.state.account_by_domain(domain)
            assert acc is not None
            if planned[i + 2] == "conflict":
                assert acc["name"] == names_before[domain]
            else:
                assert acc["name"] == name

        # 3. the same file again: not one POST /accounts
        before_posts = posts(server)
        again = ImportRunner(build_plan(import_job("accounts", path, edition, upsert=upsert)),
                             conn, history, client_kwargs=RETRY).run()
        assert posts(server) == before_posts
        states = set(row_states(history, again.run_id).values())
        assert states == ({"unchanged", "failed"} if edition == "crm" else {"unchanged"})


def _answer_lost_once(client, items, options, repeated):  # type: ignore[no-untyped-def]
    """Every request reaches the server, its answer is lost, and it is sent again."""
    from recotap_desktop.engine.senders import send_accounts

    send_accounts(client, items, options, repeated)
    return send_accounts(client, items, options, True)


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_every_answer_lost_once_still_gives_exact_outcomes(
    tmp_path: Path, history: History, edition: str
) -> None:
    with SandboxServer(port=0, accounts=300) as server:
        conn = sandbox_conn(server, edition)
        path, planned = mixed(server, tmp_path / "accounts.csv", 60)
        upsert = edition == "external"
        if edition == "crm":
            planned = {r: "conflict" if p == "update" else p for r, p in planned.items()}
        result = ImportRunner(build_plan(import_job("accounts", path, edition, upsert=upsert)),
                              conn, history, sender=_answer_lost_once).run()
        want = {"unchanged": "unchanged", "create": "created",
                "update": "updated", "conflict": "failed"}
        # Without the state before the run, created accounts whose answer was lost read
        # "updated" (external) and renamed existing ones "created" (crm, reconciled).
        assert row_states(history, result.run_id) == {r: want[p] for r, p in planned.items()}
        assert result.reconciled_rows == 60  # the created rows, read as such


class _LostOnce:
    """The first request reaches the server (its rows are processed), its answer is lost
    and the app gives up on it; later requests are answered."""

    def __init__(self, mutate=None) -> None:  # type: ignore[no-untyped-def]
        self.calls = 0
        self.mutate = mutate

    def __call__(self, client, items, options, repeated):  # type: ignore[no-untyped-def]
        from recotap_desktop.api import AmbiguousOutcome
        from recotap_desktop.engine.senders import send_accounts

        self.calls += 1
        outcomes = send_accounts(client, items, options, repeated)
        if self.calls == 1:
            if self.mutate is not None:
                self.mutate(items)
            raise AmbiguousOutcome("The answer was lost.")
        return outcomes


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_rows_without_an_answer_are_settled_by_reading_again(
    tmp_path: Path, history: History, edition: str
) -> None:
    with SandboxServer(port=0, accounts=300) as server:
        conn = sandbox_conn(server, edition)
        path, planned = mixed(server, tmp_path / "accounts.csv", 60)
        upsert = edition == "external"
        result = ImportRunner(build_plan(import_job("accounts", path, edition, upsert=upsert,
                                                    concurrency=1)),
                              conn, history, sender=_LostOnce()).run()
        # the first batch (100 rows) lost its answer; reading again settles every row
        if edition == "crm":
            planned = {r: "conflict" if p == "update" else p for r, p in planned.items()}
        want = {"unchanged": "unchanged", "create": "created", "update": "updated",
                "conflict": "failed"}
        outcomes = history.outcomes(result.run_id)
        settled = [r for r, o in outcomes.items() if (o.ids or {}).get("settled")]
        assert len(settled) >= 50  # the first request's rows (unchanged ones are not sent)
        for r, o in outcomes.items():
            if r in settled:
                assert o.state == want[planned[r]], (r, o)
            else:  # never sent (the run stopped after the lost answer) or decided before
                assert o.state in (want[planned[r]], "not sent"), (r, o)
        assert "settled by reading Recotap's accounts again" in result.message
        # a settled row keeps its plan from before the run, as an answered one does: the
        # report's columns, and the values an update replaced (what undo sends back)
        for r in settled:
            ids = outcomes[r].ids or {}
            assert ids.get("planned") == planned[r], (r, ids)
            if outcomes[r].state == "updated":
                assert "before" in ids and "changes" in ids, (r, ids)
        if edition == "external":
            from recotap_desktop.engine.revert import plan_revert

            undo = plan_revert(history, result.run_id, conn, tmp_path)
            settled_updates = {r for r in settled if outcomes[r].state == "updated"}
            assert settled_updates
            assert settled_updates <= {row.row for row in undo.rows if row.restores}


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_a_run_whose_every_row_is_settled_is_finished_not_aborted(
    tmp_path: Path, history: History, edition: str
) -> None:
    """One request, its answer lost, the run stops; reading Recotap again settles every
    row: nothing is left to resume, so the run is finished and says so (it said
    'aborted ... marked not sent ... resume' with exit 3)."""
    with SandboxServer(port=0, accounts=100) as server:
        conn = sandbox_conn(server, edition)
        path, planned = mixed(server, tmp_path / "accounts.csv", 20)  # one batch
        if edition == "crm":
            planned = {r: "conflict" if p == "update" else p for r, p in planned.items()}
        result = ImportRunner(build_plan(import_job("accounts", path, edition,
                                                    upsert=edition == "external")),
                              conn, history, sender=_LostOnce()).run()
        want = {"unchanged": "unchanged", "create": "created", "update": "updated",
                "conflict": "failed"}
        assert row_states(history, result.run_id) == {r: want[p] for r, p in planned.items()}
        assert result.state is RunState.FINISHED, result.message
        assert history.get_run(result.run_id).state == "finished"
        assert result.message.startswith("Every row has its outcome, although sending "
                                         "stopped early"), result.message
        assert "not sent" not in result.message and "resume" not in result.message


def test_a_row_changed_by_someone_else_meanwhile_is_unknown_and_retry_settles_it(
    tmp_path: Path, history: History
) -> None:
    with SandboxServer(port=0, accounts=100) as server:
        conn = sandbox_conn(server, "external")
        path, planned = mixed(server, tmp_path / "accounts.csv", 10)
        first_new = next(r for r, p in planned.items() if p == "create")

        def someone_renames(items):  # type: ignore[no-untyped-def]
            domain = next(i["domain"] for i in items if i["name"].startswith("Honest"))
            acc = server.state.account_by_domain(domain)
            server.state.accounts[acc["rtp_aid"]]["name"] = "Someone Else"
            server.state.touch(acc["rtp_aid"])

        result = ImportRunner(
            build_plan(import_job("accounts", path, "external", upsert=True)), conn, history,
            sender=_LostOnce(someone_renames)).run()
        states = row_states(history, result.run_id)
        assert states[first_new] == "unknown"
        assert list(states.values()).count("unknown") == 1
        from recotap_desktop.engine.jobs import retry, retryable_rows

        assert first_new in retryable_rows(history, result.run_id)
        again = retry(history, result.run_id, conn)
        assert row_states(history, again.run_id)[first_new] == "updated"
        assert server.state.account_by_domain("honest0.example-honest.org")["name"] == "Honest 0"


def test_without_recotaps_accounts_nothing_is_called_unchanged_or_not_found(
    tmp_path: Path, history: History
) -> None:
    from recotap_desktop.engine.baseline import prepare_baseline
    from recotap_desktop.engine.progress import CancelToken

    with SandboxServer(port=0, accounts=50) as server:
        conn = sandbox_conn(server, "crm")
        path, _planned = mixed(server, tmp_path / "accounts.csv", 5)
        plan = build_plan(import_job("accounts", path, "crm", dry_run=True))
        server.faults.rate_5xx = 1.0  # the accounts cannot be read
        fast = {"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)}
        baseline = prepare_baseline(plan, conn, tmp_path, cancel=CancelToken(),
                                    client_kwargs=fast)
        assert baseline is not None and not baseline.compared
        assert "could not be read" in baseline.note
        result = ImportRunner(plan, conn, history, client_kwargs=fast).run()
        outcomes = history.outcomes(result.run_id)
        assert not any("planned" in (o.ids or {}) for o in outcomes.values())
        assert "could not be read" in result.message


def test_a_failed_refresh_over_an_older_copy_says_what_is_compared_and_sends_every_row(
    tmp_path: Path, history: History
) -> None:
    """The accounts cannot be read now but an older local copy exists: the preview may
    use it (saying how old it is, for information), yet no row is left out as unchanged,
    and the words hold for a dry run too (nothing 'was sent')."""
    from recotap_desktop.engine.baseline import prepare_baseline
    from recotap_desktop.engine.mirror import mirror_for, refresh_mirror
    from recotap_desktop.engine.progress import CancelToken

    with SandboxServer(port=0, accounts=50) as server:
        conn = sandbox_conn(server, "crm")
        refresh_mirror(conn, mirror_for(conn, tmp_path))  # the older copy
        path, planned = mixed(server, tmp_path / "accounts.csv", 5)
        plan = build_plan(import_job("accounts", path, "crm", dry_run=True))
        server.faults.rate_5xx = 1.0
        fast = {"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)}
        baseline = prepare_baseline(plan, conn, tmp_path, cancel=CancelToken(),
                                    client_kwargs=fast)
        assert baseline is not None and baseline.compared and not baseline.fresh
        note = baseline.note
        assert "could not be read just now" in note
        assert "local copy of the accounts, refreshed" in note and "information only" in note
        assert "a run sends every row, unchanged or not" in note
        assert "was sent" not in note and "is from refreshed" not in note
        unchanged = [r for r, p in planned.items() if p == "unchanged"]
        plans = baseline.plans(list(_planned_items(plan)))
        assert not any(baseline.skips(p) for p in plans)
        assert unchanged  # the file had unchanged rows, and none is left out


def _planned_items(plan):  # type: ignore[no-untyped-def]
    from recotap_desktop.engine.plan import PlannedItem, iter_planned
    from recotap_desktop.files import sniff

    source = sniff(plan.job.path)
    return [e for e in iter_planned(plan.job, source) if isinstance(e, PlannedItem)]


#: A retry policy that gives up at once (the tests below make Recotap fail on purpose).
FAST = {"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_total=2)}


def _answer_lost_and_recotap_down(server, conn, history, tmp_path, edition):  # type: ignore[no-untyped-def]
    """One batch of new and changed rows whose answer is lost, after which Recotap
    answers 500 (so the run cannot read it again). Returns the run's result, every
    row's planned action and the rows that were sent."""
    path, planned = mixed(server, tmp_path / "accounts.csv", 20)  # one batch
    if edition == "crm":
        planned = {r: "conflict" if p == "update" else p for r, p in planned.items()}

    def recotap_goes_down(_items):  # type: ignore[no-untyped-def]
        server.faults.rate_5xx = 1.0

    result = ImportRunner(build_plan(import_job("accounts", path, edition,
                                                upsert=edition == "external")),
                          conn, history, sender=_LostOnce(recotap_goes_down),
                          client_kwargs=FAST).run()
    sent = {r for r, p in planned.items() if p in ("create", "update")}
    return result, planned, sent


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_retry_settles_rows_whose_answer_was_lost_in_their_own_run_first(
    tmp_path: Path, history: History, edition: str
) -> None:
    """The answer is lost and Recotap cannot be read again at the end of the run: the
    rows stay 'not sent' with their plan. A retry reads Recotap first: the accounts hold
    the rows' values, so the rows become 'created' / 'updated' in their own run (not
    'unchanged' in the retry, not 'already existed'), and nothing is sent."""
    from recotap_desktop.engine.jobs import NothingToRetry, retry, retryable_rows

    with SandboxServer(port=0, accounts=100) as server:
        conn = sandbox_conn(server, edition)
        result, planned, sent = _answer_lost_and_recotap_down(server, conn, history,
                                                              tmp_path, edition)
        states = row_states(history, result.run_id)
        assert {states[r] for r in sent} == {"not sent"}
        outcomes = history.outcomes(result.run_id)
        assert all((outcomes[r].ids or {}).get("planned") == planned[r] for r in sent)
        assert retryable_rows(history, result.run_id) == sent

        server.faults.rate_5xx = 0.0
        posts_before = posts(server)
        with pytest.raises(NothingToRetry, match="settled every row"):
            retry(history, result.run_id, conn, client_kwargs=FAST)
        assert posts(server) == posts_before  # nothing sent
        want = {"create": "created", "update": "updated"}
        states = row_states(history, result.run_id)
        assert {r: states[r] for r in sent} == {r: want[planned[r]] for r in sent}
        assert retryable_rows(history, result.run_id) == set()
        counts = history.get_run(result.run_id).counts
        assert counts.get("not sent", 0) == 0 and counts["created"] == 20


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_resume_settles_rows_whose_answer_was_lost_before_sending(
    tmp_path: Path, history: History, edition: str
) -> None:
    """As for retry: a resume reads Recotap first, so rows the lost request created end
    'created' (not 'updated', not 'unchanged') in the run itself, and nothing is sent
    again for them."""
    from recotap_desktop.engine.jobs import resume

    with SandboxServer(port=0, accounts=100) as server:
        conn = sandbox_conn(server, edition)
        result, planned, sent = _answer_lost_and_recotap_down(server, conn, history,
                                                              tmp_path, edition)
        assert {row_states(history, result.run_id)[r] for r in sent} == {"not sent"}
        server.faults.rate_5xx = 0.0
        posts_before = posts(server)
        again = resume(history, result.run_id, conn, client_kwargs=FAST)
        assert again.run_id == result.run_id and again.state is RunState.FINISHED
        assert posts(server) == posts_before  # nothing sent again
        want = {"create": "created", "update": "updated"}
        states = row_states(history, result.run_id)
        assert {r: states[r] for r in sent} == {r: want[planned[r]] for r in sent}
        assert history.unanswered_batches(result.run_id) == []
