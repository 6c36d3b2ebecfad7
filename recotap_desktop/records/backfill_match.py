"""Match Recotap accounts that have no external ID to rows of a CRM export (pure, no I/O).

Used by the external-ID backfill assistant (:mod:`recotap_desktop.engine.backfill`).
For each unmapped account we look for the CRM row that holds the same company and
propose writing that row's ID onto the account:

1. **Domain** — the account's domain equals a CRM row's domain after
   :func:`~recotap_desktop.domain.domains.normalise_domain` (``https://www.x.com/``,
   ``X.COM`` and ``www.x.com`` are all ``x.com``).
2. **Name** — only when no CRM row has the domain: the company names are equal after
   :func:`company_key` (case, accents, punctuation, spacing and legal suffixes such as
   Inc, Ltd, GmbH or S.A. ignored). A name match is a weaker guess: it is proposed,
   never accepted without the user's say-so.
3. Otherwise **none**.

A proposal is **ambiguous** — shown for the user to choose a candidate or skip, never
guessed — when

* one domain (or, failing a domain, one company name) appears in several CRM rows that
  carry *different* IDs (rows repeating the same ID are one candidate);
* one CRM ID would go to several Recotap accounts (two accounts whose names normalise
  alike, or a name match to a row that another account already matches by domain: the
  domain match keeps the ID and the name match becomes ambiguous);
* the ID was already written to another account earlier in the same backfill.

Every proposal carries its candidates as ``(crm_row, external_id, name, domain)``
tuples (:class:`Candidate`) and a sentence saying how it was found.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import NamedTuple, Protocol

from recotap_desktop.domain.domains import normalise_domain

__all__ = [
    "LEGAL_SUFFIXES",
    "AcceptedMapping",
    "AccountLike",
    "Candidate",
    "CrmIndex",
    "MatchKind",
    "Proposal",
    "auto_decisions",
    "check_decisions",
    "company_key",
    "domain_key",
    "match_accounts",
]


class MatchKind(StrEnum):
    """How a proposal was found."""

    DOMAIN = "domain"
    NAME = "name"
    AMBIGUOUS = "ambiguous"
    NONE = "none"


#: Legal-form words ignored at the end of a company name (after dots are removed,
#: so ``S.A.`` is ``sa`` and ``Inc.`` is ``inc``).
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "ag", "sa", "sas", "bv",
        "nv", "plc", "corp", "corporation", "co", "company", "pty", "oy", "ab",
        # a few more common forms
        "llp", "lp", "kg", "srl", "sarl", "spa", "oyj", "pte", "pvt", "ltda", "sl", "se",
        "aps", "asa", "as", "kk", "private",
    }
)  # fmt: skip
_DROPPED_WORDS = frozenset({"and"})
_REMOVED_CHARS = re.compile(r"[.'’‘`´]")
_TOKEN = re.compile(r"[^\W_]+")


def company_key(name: str) -> str:
    """A comparison key for a company name: equal keys are taken as the same company.

    Accents are removed, case is folded, dots and apostrophes vanish (``S.A.`` ->
    ``sa``), every other punctuation mark separates words, ``&``/``and`` and a leading
    ``the`` are dropped, and legal suffixes (:data:`LEGAL_SUFFIXES`) are stripped from
    the end, repeatedly (``Acme Holdings Pty. Ltd.`` -> ``acme holdings``). A name that
    is nothing but a suffix keeps it. Returns ``""`` for a blank name.

    >>> company_key("  Ärzte-Partner, GmbH & Co. KG ")
    'arzte partner'
    >>> company_key("ACME S.A.") == company_key("Acme") == company_key("acme, inc.")
    True
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _REMOVED_CHARS.sub("", text).replace("&", " ")
    tokens = [t for t in _TOKEN.findall(text) if t not in _DROPPED_WORDS]
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1:
        if tokens[-1] in LEGAL_SUFFIXES:
            tokens.pop()
            continue
        # "S A" / "B V" written with spaces: a run of single letters at the end.
        run = 0
        while run < len(tokens) - 1 and len(tokens[-1 - run]) == 1:
            run += 1
        if run >= 2 and "".join(tokens[-run:]) in LEGAL_SUFFIXES:
            del tokens[-run:]
            continue
        break
    return " ".join(tokens)


def domain_key(value: str) -> str:
    """The normalised domain, or ``""`` when the value holds no usable domain name."""
    domain = normalise_domain(value)
    if not domain or "." not in domain or " " in domain:
        return ""
    return domain


class Candidate(NamedTuple):
    """One CRM row that could supply an account's ID."""

    crm_row: int
    external_id: str
    name: str
    domain: str


class AccountLike(Protocol):
    """What matching needs of an unmapped account (``api.models.UnmappedAccount``)."""

    @property
    def name(self) -> str: ...

    @property
    def domain(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AcceptedMapping:
    """A mapping the user accepted: write ``external_id`` onto the account ``domain``."""

    domain: str
    external_id: str
    crm_row: int
    match: MatchKind
    name: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the assistant suggests for one unmapped account.

    ``domain`` and ``name`` are the Recotap account's (the domain normalised: it is
    what is sent). For ``domain``/``name`` matches ``candidates`` holds exactly one
    entry, for ``ambiguous`` the choices (one per distinct ID), for ``none`` nothing.
    ``previous_external_id`` is the ID an earlier run of this connection wrote onto
    this domain, when the history knows one (the engine fills it in).
    """

    name: str
    domain: str
    match: MatchKind
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""
    previous_external_id: str | None = None

    @property
    def external_id(self) -> str | None:
        """The proposed ID for a domain or name match; ``None`` otherwise."""
        if self.match in (MatchKind.DOMAIN, MatchKind.NAME) and self.candidates:
            return self.candidates[0].external_id
        return None

    @property
    def would_overwrite(self) -> bool:
        """True when an earlier run wrote a *different* ID onto this domain."""
        new = self.external_id
        return (
            bool(self.previous_external_id)
            and new is not None
            and (new != self.previous_external_id)
        )

    def accept(self, choice: int = 0) -> AcceptedMapping:
        """Accept candidate ``choice`` (the only one for domain/name matches).

        Raises ``ValueError`` when there is nothing to accept (no candidates or no
        domain to send) or ``choice`` is out of range.
        """
        if not self.domain:
            raise ValueError(f"The account {self.name!r} has no domain: it cannot be mapped.")
        if not self.candidates:
            raise ValueError(f"No CRM row matches {self.domain}: there is nothing to accept.")
        if not 0 <= choice < len(self.candidates):
            raise ValueError(
                f"{self.domain} has {len(self.candidates)} candidates; choice {choice} "
                "does not exist."
            )
        c = self.candidates[choice]
        return AcceptedMapping(self.domain, c.external_id, c.crm_row, self.match, self.name)

    def auto_accepted(self, include_name_matches: bool = False) -> bool:
        """Accepted without asking: domain matches, and name matches when allowed.
        Ambiguous proposals never are."""
        if not self.domain or not self.candidates:
            return False
        if self.match is MatchKind.DOMAIN:
            return True
        return self.match is MatchKind.NAME and include_name_matches


@dataclass
class CrmIndex:
    """The CRM export, indexed by normalised domain and by :func:`company_key`.

    Rows without an ID are counted and left out; a row needs a domain or a name
    to be found.
    """

    by_domain: dict[str, list[Candidate]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[Candidate]] = field(default_factory=lambda: defaultdict(list))
    rows: int = 0
    rows_indexed: int = 0
    rows_without_id: int = 0
    rows_without_keys: int = 0
    bad_domains: int = 0

    def add(self, row: int, external_id: str, name: str = "", domain: str = "") -> None:
        """Index one CRM row (values as read; they are trimmed and normalised here)."""
        self.rows += 1
        ext = external_id.strip()
        if not ext:
            self.rows_without_id += 1
            return
        dkey = domain_key(domain) if domain.strip() else ""
        if domain.strip() and not dkey:
            self.bad_domains += 1
        nkey = company_key(name)
        if not dkey and not nkey:
            self.rows_without_keys += 1
            return
        cand = Candidate(row, ext, name.strip(), dkey)
        if dkey:
            self.by_domain[dkey].append(cand)
        if nkey:
            self.by_name[nkey].append(cand)
        self.rows_indexed += 1


def _distinct_ids(cands: Sequence[Candidate]) -> tuple[Candidate, ...]:
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(c.external_id, c)
    return tuple(seen.values())


def _rows(cands: Sequence[Candidate]) -> str:
    return ", ".join(f"row {c.crm_row} (ID {c.external_id})" for c in cands)


def _first_pass(account: AccountLike, index: CrmIndex) -> Proposal:
    domain = domain_key(account.domain)
    name = account.name
    if not domain:
        return Proposal(
            name,
            "",
            MatchKind.NONE,
            (),
            "The Recotap account has no usable domain; "
            "IDs are written by domain, so it cannot be mapped here.",
        )
    by_domain = _distinct_ids(index.by_domain.get(domain, ()))
    if len(by_domain) == 1:
        c = by_domain[0]
        return Proposal(
            name, domain, MatchKind.DOMAIN, by_domain, f"Same domain as CRM row {c.crm_row}."
        )
    if len(by_domain) > 1:
        return Proposal(
            name,
            domain,
            MatchKind.AMBIGUOUS,
            by_domain,
            f"{len(by_domain)} CRM rows with different IDs have this domain: "
            f"{_rows(by_domain)}. Choose one or skip.",
        )
    key = company_key(name)
    by_name = _distinct_ids(index.by_name.get(key, ())) if key else ()
    if len(by_name) == 1:
        c = by_name[0]
        other = f" (its domain is {c.domain})" if c.domain else ""
        return Proposal(
            name,
            domain,
            MatchKind.NAME,
            by_name,
            f"Same company name as CRM row {c.crm_row} ({c.name!r}){other}; "
            "no CRM row has the account's domain.",
        )
    if len(by_name) > 1:
        return Proposal(
            name,
            domain,
            MatchKind.AMBIGUOUS,
            by_name,
            f"No CRM row has the domain and {len(by_name)} CRM rows with different IDs "
            f"have this company name: {_rows(by_name)}. Choose one or skip.",
        )
    return Proposal(name, domain, MatchKind.NONE, (), "No CRM row has this domain or company name.")


def match_accounts(
    accounts: Iterable[AccountLike],
    index: CrmIndex,
    *,
    taken_ids: Mapping[str, str] | None = None,
) -> list[Proposal]:
    """One :class:`Proposal` per account, in the given order (see the module notes).

    ``taken_ids`` maps IDs already written in this backfill to their domain: a
    proposal that would reuse one on another domain becomes ambiguous.
    """
    proposals = [_first_pass(a, index) for a in accounts]
    taken = taken_ids or {}
    by_id: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(proposals):
        ext = p.external_id
        if ext is not None:
            by_id[ext].append(i)
    for ext, positions in by_id.items():
        owner = taken.get(ext)
        if owner is not None and any(proposals[i].domain != owner for i in positions):
            for i in positions:
                p = proposals[i]
                if p.domain != owner:
                    proposals[i] = replace(
                        p,
                        match=MatchKind.AMBIGUOUS,
                        reason=f"CRM row {p.candidates[0].crm_row} (ID {ext}) matches by "
                        f"{p.match.value}, but that ID was already written to {owner} in "
                        "this backfill. Choose or skip.",
                    )
            continue
        if len(positions) < 2:
            continue
        domain_hits = [i for i in positions if proposals[i].match is MatchKind.DOMAIN]
        keep = domain_hits[0] if len(domain_hits) == 1 else None
        others = ", ".join(proposals[i].domain for i in positions)
        for i in positions:
            if i == keep:
                continue
            p = proposals[i]
            if keep is not None:
                reason = (
                    f"Matches CRM row {p.candidates[0].crm_row} (ID {ext}) by name, but that "
                    f"row matches {proposals[keep].domain} by domain. Choose or skip."
                )
            else:
                reason = (
                    f"CRM row {p.candidates[0].crm_row} (ID {ext}) matches {len(positions)} "
                    f"Recotap accounts ({others}); an ID can go to one account only. "
                    "Choose or skip."
                )
            proposals[i] = replace(p, match=MatchKind.AMBIGUOUS, reason=reason)
    return proposals


def auto_decisions(
    proposals: Iterable[Proposal], *, include_name_matches: bool = False
) -> list[AcceptedMapping]:
    """The mappings accepted without asking: domain matches (and name matches when
    ``include_name_matches``); ambiguous and unmatched accounts are left out."""
    return [p.accept() for p in proposals if p.auto_accepted(include_name_matches)]


def check_decisions(
    decisions: Sequence[AcceptedMapping], *, taken_ids: Mapping[str, str] | None = None
) -> list[str]:
    """Problems that make a set of decisions unsafe to send (empty list: fine).

    Each domain may appear once, each ID once (Recotap keeps one account per ID, and
    the server lets the later of two mappings for a domain win silently), and no ID
    may already have been written to another domain in this backfill.
    """
    problems: list[str] = []
    domains: dict[str, AcceptedMapping] = {}
    ids: dict[str, AcceptedMapping] = {}
    taken = taken_ids or {}
    for d in decisions:
        dom = domain_key(d.domain)
        if not dom:
            problems.append(f"{d.domain!r} is not a domain name; nothing can be mapped to it.")
            continue
        if not d.external_id.strip():
            problems.append(f"The ID for {dom} is empty.")
            continue
        if dom in domains:
            problems.append(
                f"{dom} is mapped twice (IDs {domains[dom].external_id} and {d.external_id}); "
                "keep one."
            )
        else:
            domains[dom] = d
        ext = d.external_id.strip()
        if ext in ids and domain_key(ids[ext].domain) != dom:
            problems.append(
                f"The ID {ext} is given to {ids[ext].domain} and {dom}; an ID can go to one "
                "account only."
            )
        else:
            ids.setdefault(ext, d)
        owner = taken.get(ext)
        if owner is not None and owner != dom:
            problems.append(f"The ID {ext} was already written to {owner} in this backfill.")
    return problems
