"""``build_plan`` counts blocks of clean rows in one step (block converter and block
duplicate check) and every other block row by row. The plan must be exactly the plan
of the row-by-row path: counts, Problems and their order, for files that mix clean
blocks with invalid, duplicate, blank and excluded rows."""

from __future__ import annotations

import csv
import hashlib
import random
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.plan import (
    ImportJob,
    ImportOptions,
    InvalidRow,
    PlanCancelled,
    PlannedItem,
    build_plan,
    iter_planned,
    iter_planned_blocks,
)
from recotap_desktop.engine.progress import CancelToken, ProgressSnapshot
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.records.accounts import AccountsKind

HEADERS = ["Record ID", "Company name", "Company Domain Name", "Tags", "LinkedIn Company Page"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def _awkward_rows(rnd: random.Random, n: int, trouble: float) -> list[list[str]]:
    rows = []
    for i in range(n):
        row = [f"r-{i}", f"Company {i}", f"https://www.c{i}.example.org/", "a;b",
               f"https://www.linkedin.com/company/c{i}"]
        if rnd.random() < trouble:
            what = rnd.randrange(7)
            if what == 0:
                row[2] = "not a domain"
            elif what == 1:
                row[0] = f"r-{rnd.randrange(max(1, i))}"  # an earlier externalId
            elif what == 2:
                row[2] = f"c{rnd.randrange(max(1, i))}.example.org"  # an earlier domain
            elif what == 3:
                row = ["", "", "", "", ""]  # blank: skipped
            elif what == 4:
                row[1] = ""  # required name missing
            elif what == 5:
                row[2] = f"ACME-{i}.COM"  # valid, but not for the block rule
            else:
                row[4] = "linkedin.com/company/x"  # valid, normalised by the parser
        rows.append(row)
    return rows


def _job(path: Path, edition: str, exclude: frozenset[int] = frozenset()) -> ImportJob:
    rules = rules_for(edition)
    kind = get_kind("accounts")
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(rules, []))
    return ImportJob(
        kind="accounts", path=path, mapping=mapping, rules=rules,
        options=ImportOptions(exclude_rows=exclude),
    )


def _plan_fields(plan: Any) -> dict[str, Any]:
    return {
        name: getattr(plan, name)
        for name in ("total_rows", "valid_rows", "invalid_rows", "excluded_rows",
                     "duplicate_rows", "items", "batches", "problem_count", "warning_count",
                     "problems")
    }


class _Sink:
    def __init__(self) -> None:
        self.snapshots: list[ProgressSnapshot] = []

    def update(self, snapshot: ProgressSnapshot) -> None:
        self.snapshots.append(snapshot)


@pytest.mark.parametrize("edition", ["crm", "external"])
@pytest.mark.parametrize("trouble", [0.0, 0.0005, 0.01, 0.3])
def test_block_plan_equals_row_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edition: str, trouble: float
) -> None:
    rnd = random.Random(f"{edition}-{trouble}")
    path = _write(tmp_path / "a.csv", _awkward_rows(rnd, 5000, trouble))
    exclude = frozenset(rnd.sample(range(2, 5002), 40))
    job = _job(path, edition, exclude)
    taken: list[bool] = []
    original = AccountsKind.compile_block

    def spy(self: AccountsKind, *args: Any) -> Any:
        to_items = original(self, *args)
        assert to_items is not None

        def counted(rows: Any) -> Any:
            got = to_items(rows)
            taken.append(got is not None)
            return got

        return counted

    monkeypatch.setattr(AccountsKind, "compile_block", spy)
    sink = _Sink()
    by_blocks = build_plan(job, progress=sink)
    stream_by_blocks = list(iter_planned(job, by_blocks.source))
    # The preview's read, a block at a time: the same entries, flattened in the same order
    flat: list[Any] = []
    for block in iter_planned_blocks(job, by_blocks.source):
        assert not (block.items and block.row_entries)  # a block is one form or the other
        flat += [PlannedItem((r,), i) for r, i in zip(block.rows, block.items, strict=True)]
        flat += block.row_entries
    assert flat == stream_by_blocks
    monkeypatch.setattr(AccountsKind, "compile_block", lambda self, *a: None)
    by_rows = build_plan(job)
    assert _plan_fields(by_blocks) == _plan_fields(by_rows)
    # the run's stream too: the same entries, in the same order
    assert stream_by_blocks == list(iter_planned(job, by_rows.source))
    assert by_rows.excluded_rows > 0
    if trouble == 0.0:
        assert all(taken) and by_rows.invalid_rows == 0
    elif trouble == 0.01:
        assert any(taken) and not all(taken)  # both paths were really used
    # progress went up to the end
    assert sink.snapshots[-1].done == by_rows.total_rows
    # the run's stream agrees with the plan
    entries = list(iter_planned(job, by_rows.source))
    assert sum(isinstance(e, InvalidRow) for e in entries) == by_rows.invalid_rows
    assert sum(isinstance(e, PlannedItem) for e in entries) == by_rows.items


def test_cancel_is_read_between_blocks(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", _awkward_rows(random.Random(1), 3000, 0.0))
    job = _job(path, "crm")
    token = CancelToken()
    seen: list[int] = []

    class Cancelling(_Sink):
        def update(self, snapshot: ProgressSnapshot) -> None:
            seen.append(snapshot.done)
            token.cancel()

    with pytest.raises(PlanCancelled):
        build_plan(job, progress=Cancelling(), cancel=token)
    assert seen and seen[0] < 3000


def test_duplicates_across_blocks_name_the_first_row(tmp_path: Path) -> None:
    rows = _awkward_rows(random.Random(2), 2000, 0.0)
    rows[1500][0] = "r-3"  # the externalId of spreadsheet row 5, three blocks earlier
    path = _write(tmp_path / "a.csv", rows)
    plan = build_plan(_job(path, "crm"))
    assert plan.duplicate_rows == 1 and plan.invalid_rows == 1
    (problem,) = plan.problems
    assert problem.row == 1502
    assert "already on row 5" in problem.reason


def test_plan_job_options_do_not_matter_for_the_block_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", _awkward_rows(random.Random(3), 1200, 0.0))
    job = _job(path, "crm")
    plain = build_plan(job)
    dry = build_plan(replace(job, options=ImportOptions(dry_run=True, concurrency=8)))
    assert _plan_fields(plain) == _plan_fields(dry)


def test_the_plan_carries_the_files_sha256(tmp_path: Path) -> None:
    """Computed on another thread while the rows are checked; it names the file in the
    history (the options page warns when this exact file was sent before)."""
    path = _write(tmp_path / "a.csv", _awkward_rows(random.Random(4), 2500, 0.0))
    plan = build_plan(_job(path, "crm"))
    assert plan.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(PlanCancelled):  # a cancelled plan leaves no thread behind
        token = CancelToken()
        token.cancel()
        build_plan(_job(path, "crm"), cancel=token)
    assert not [t for t in threading.enumerate() if t.name.startswith("recotap-sha256")]


def test_grouped_kinds_are_not_read_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "activities.csv"
    path.write_text("Domain,Type,Date\nacme.com,email,2026-01-02\n", encoding="utf-8")
    rules = rules_for("crm")
    kind = get_kind("activities")
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(rules, []))
    job = ImportJob(kind="activities", path=path, mapping=mapping, rules=rules)
    with pytest.raises(ValueError, match="grouped"):
        next(iter_planned_blocks(job, sniff(path)))
