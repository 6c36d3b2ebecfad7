"""Backfill data sets: Recotap accounts without IDs and CRM exports to match them with."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from recotap_desktop.records.backfill_match import CrmIndex
from recotap_desktop.sandbox import SandboxServer

CRM_HEADERS = ("Record ID", "Company name", "Company Domain Name", "Industry")


@dataclass
class Dataset:
    """Recotap accounts without IDs, a CRM export, and what matching must find."""

    accounts: list[dict[str, str]] = field(default_factory=list)
    crm_rows: list[list[str]] = field(default_factory=list)
    domain: dict[str, str] = field(default_factory=dict)  # recotap domain -> id
    name: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, set[str]] = field(default_factory=dict)  # domain -> candidate ids
    none: set[str] = field(default_factory=set)

    def write_crm(self, path: Path, headers: tuple[str, ...] = CRM_HEADERS) -> Path:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(self.crm_rows)
        return path


def build_dataset(
    n_domain: int = 1700,
    n_name: int = 150,
    n_dup_domain: int = 20,
    n_dup_name: int = 20,
    n_twins: int = 5,
    n_none: int = 100,
    seed: int = 42,
) -> Dataset:
    """Accounts matching by domain (3 spellings), by name only (suffix/case/accents/
    punctuation variants), ambiguously (a domain in two rows with different ids, a name
    in two rows, two accounts whose names match one row) and not at all; shuffled."""
    ds = Dataset()
    spell = [
        lambda d: f"https://www.{d}/",
        lambda d: d.upper(),
        lambda d: f"www.{d}",
        lambda d: f"http://{d}/about?x=1",
    ]
    for i in range(n_domain):
        d = f"dom{i}.example.com"
        ds.accounts.append({"name": f"Domainco {i} Inc", "domain": d})
        ds.crm_rows.append([f"D-{i:05d}", f"Domainco {i}", spell[i % 3](d), "Software"])
        if i < 10:  # the same id twice: still one candidate, not ambiguous
            ds.crm_rows.append([f"D-{i:05d}", f"Domainco {i} Inc", spell[3](d), ""])
        ds.domain[d] = f"D-{i:05d}"
    recotap_suffix = [" GmbH", " Inc.", " Ltd", ""]
    crm_variant = [
        lambda i: f"NAMECO ASTROM {i}",
        lambda i: f"Nameco-Åström {i}, Inc.",
        lambda i: f"nameco  astrom {i} S.A.",
        lambda i: f"Nameco Åström {i} Limited",
        lambda i: f"the nameco åström {i} co.",
    ]
    for i in range(n_name):
        d = f"name{i}.example.org"
        ds.accounts.append({"name": f"Nameco Åström {i}{recotap_suffix[i % 4]}", "domain": d})
        crm_domain = "" if i % 2 else f"old-name{i}.example.net"
        ds.crm_rows.append([f"N-{i:04d}", crm_variant[i % 5](i), crm_domain, ""])
        ds.name[d] = f"N-{i:04d}"
    for i in range(n_dup_domain):
        d = f"dupdom{i}.example.com"
        ds.accounts.append({"name": f"Dupdom {i} LLC", "domain": d})
        ds.crm_rows.append([f"AD-{i}-a", f"Dupdom {i}", f"https://{d}", ""])
        ds.crm_rows.append([f"AD-{i}-b", f"Dupdom {i} (old)", d.upper(), ""])
        ds.ambiguous[d] = {f"AD-{i}-a", f"AD-{i}-b"}
    for i in range(n_dup_name):
        d = f"dupname{i}.example.com"
        ds.accounts.append({"name": f"Dupname {i} Corp", "domain": d})
        ds.crm_rows.append([f"AN-{i}-a", f"Dupname {i}", "", ""])
        ds.crm_rows.append([f"AN-{i}-b", f"DUPNAME {i} Corporation", f"other{i}.example.net", ""])
        ds.ambiguous[d] = {f"AN-{i}-a", f"AN-{i}-b"}
    for i in range(n_twins):
        for letter, suffix in (("a", "Inc"), ("b", "AB")):
            d = f"twin{i}{letter}.example.com"
            ds.accounts.append({"name": f"Twinco {i} {suffix}", "domain": d})
            ds.ambiguous[d] = {f"T-{i}"}
        ds.crm_rows.append([f"T-{i}", f"Twinco {i}", "", ""])
    for i in range(n_none):
        d = f"lonely{i}.example.com"
        ds.accounts.append({"name": f"Lonely {i} plc", "domain": d})
        ds.none.add(d)
    for i in range(200):  # CRM companies that are not in Recotap
        ds.crm_rows.append([f"X-{i}", f"Prospect {i}", f"prospect{i}.example.io", ""])
    ds.crm_rows.append(["", "No Id Ltd", "dom1.example.com", ""])  # no id: ignored
    ds.crm_rows.append(["Q-1", "", "", ""])  # nothing to match on
    rng = random.Random(seed)
    rng.shuffle(ds.accounts)
    rng.shuffle(ds.crm_rows)
    return ds


def realistic_crm(server: SandboxServer, path: Path, rng: random.Random) -> None:
    """A HubSpot-like export of the sandbox's accounts: most by domain in several
    spellings, some by name only, a few ambiguous, some missing."""
    accounts = sorted(server.state.all_accounts(), key=lambda a: a["domain"])
    rows: list[list[str]] = []
    spell = [lambda d: f"https://www.{d}/", lambda d: d.upper(), lambda d: f"www.{d}",
             lambda d: d]
    for i, acc in enumerate(accounts):
        rid = str(rng.randrange(4_000_000_000, 9_000_000_000))
        name, domain = acc["name"], acc["domain"]
        slot = i % 12
        if slot in (3, 8):  # name only: the CRM has an old domain
            rows.append([rid, name.upper() + ", Inc.", "old-" + domain.split(".")[0] + ".net"])
        elif slot == 5 and i < 40:  # the CRM holds the company twice
            rows.append([rid, name, domain])
            rows.append([str(rng.randrange(4_000_000_000, 9_000_000_000)), name + " (EMEA)",
                         "https://" + domain])
        elif slot in (10, 11):  # not in the CRM
            continue
        else:
            rows.append([rid, name, spell[i % 4](domain)])
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Record ID", "Company name", "Company Domain Name"])
        w.writerows(rows)


def crm_index(rows: Iterable[tuple[int, str, str, str]]) -> CrmIndex:
    """A CRM index of ``(row, external_id, name, domain)`` tuples."""
    index = CrmIndex()
    for row, ext, name, domain in rows:
        index.add(row, ext, name, domain)
    return index
