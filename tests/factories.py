"""Builders of realistic import files for tests and benchmarks."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row)
    return path


ACCOUNT_HEADERS = ("Record ID", "Company name", "Company Domain Name", "Tags")


def account_rows(n: int, *, prefix: str = "t", start: int = 0) -> list[list[str]]:
    return [
        [
            f"{prefix}-crm-{i:06d}",
            f"Testco {prefix} {i}",
            f"{prefix}{i}.testco-example.org",
            "enterprise;q2",
        ]
        for i in range(start, start + n)
    ]


DEAL_HEADERS = (
    "Deal ID",
    "Deal Name",
    "Amount",
    "Deal Stage",
    "Pipeline",
    "Close Date",
    "Owner Email",
    "Currency",
    "Company Domain Name",
)


def deal_rows(n: int, *, prefix: str = "d") -> list[list[str]]:
    return [
        [
            f"{prefix}-{i:06d}",
            f"Deal {i}",
            f"{1000 + i}",
            "Proposal Sent",
            "SMB Sales",
            "2026-06-30",
            f"rep{i % 7}@yourcompany.example",
            "USD",
            f"acct{i % 50}.example.org",
        ]
        for i in range(n)
    ]


ACTIVITY_HEADERS = (
    "Activity ID",
    "Activity Type",
    "Activity Date",
    "Company Domain Name",
    "Owner Email",
    "Subject",
    "Direction",
    "Contact Email",
    "Contact Name",
)


def activity_rows(n: int, *, prefix: str = "a") -> list[list[str]]:
    return [
        [
            f"{prefix}-{i:06d}",
            "call" if i % 2 else "email",
            "2026-04-22T10:30:00Z",
            f"acct{i % 50}.example.org",
            "jane@yourcompany.example",
            f"Touch {i}",
            "outbound" if i % 2 else "",
            f"contact{i}@acct.example.org",
            f"Contact {i}",
        ]
        for i in range(n)
    ]


# --------------------------------------------------------------- GUI wizard tests (added)
PIPELINE_HEADERS = ("Pipeline ID", "Pipeline", "Stage ID", "Stage")


def pipeline_rows(pipelines: int, stages: int = 3, *, prefix: str = "p") -> list[list[str]]:
    """``pipelines`` pipelines with ``stages`` stages each, one row per stage."""
    return [
        [f"{prefix}-pipe-{p}", f"Pipeline {prefix} {p}", f"{prefix}-{p}-s{s}", f"Stage {s}"]
        for p in range(pipelines)
        for s in range(stages)
    ]


ID_MAPPING_HEADERS = ("Website", "Record ID")


def id_mapping_rows(domains: Iterable[str], *, prefix: str = "m") -> list[list[str]]:
    """One mapping per domain (given as the sandbox knows it), written as a web address."""
    return [[f"https://www.{d}/about", f"{prefix}-{i:05d}"] for i, d in enumerate(domains)]


ACCOUNT_FIELD_HEADERS = ("Record ID", "Contract Value", "CRM Stage")


def account_field_rows(external_ids: Iterable[str], stage: str) -> list[list[str]]:
    """Contract values (1000, 2000, …) and one CRM stage for accounts by external id."""
    return [[x, str(1000 * (i + 1)), stage] for i, x in enumerate(external_ids)]
