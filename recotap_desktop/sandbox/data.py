"""Deterministic seed data for the sandbox: companies, segments, custom fields."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

JOURNEY_STAGES: tuple[str, ...] = ("Unaware", "Aware", "Consideration", "Opportunity",
                                   "Customer")

SCORE_FIELDS: tuple[str, ...] = (
    "rtp_account_score",
    "rtp_advertising_activity_score",
    "rtp_website_intent_score",
    "rtp_g2_intent_score",
    "rtp_bombora_intent_score",
)

_ADJECTIVES = (
    "Blue", "Bright", "Silver", "North", "Rapid", "Quantum", "Green", "Apex", "Nimble", "Clear",
    "Iron", "Summit", "Bold", "Crystal", "Golden", "Pacific", "Atlas", "Vivid", "Polar", "Red",
    "Prime", "Solar", "Urban", "Stellar", "Lunar", "Cobalt", "Crimson", "Evergreen", "Swift",
    "True", "Open", "Deep", "Silent", "Brave", "Noble", "Agile", "Zen", "Cedar", "Harbor", "Echo",
)
_NOUNS = (
    "River", "Peak", "Forge", "Harbor", "Ledger", "Pixel", "Beacon", "Orbit", "Cloud", "Field",
    "Stone", "Bridge", "Wave", "Signal", "Vector", "Anchor", "Matrix", "Grove", "Falcon", "Lake",
    "Spark", "Pulse", "Vertex", "Canyon", "Meadow", "Lantern", "Compass", "Horizon", "Circuit",
    "Quarry", "Path", "Nest", "Tide", "Summit", "Mill", "Works", "Gate", "Crest", "Loop", "Arc",
)
_SUFFIXES = (
    "Corp", "Inc", "Labs", "Systems", "Analytics", "Group", "Holdings", "Software", "Networks",
    "Logistics", "Health", "Energy", "Capital", "Foods", "Robotics", "Media", "Security",
    "Technologies", "Partners", "Industries",
)
_TLDS = (".com", ".com", ".com", ".io", ".co", ".net", ".ai", ".de", ".co.uk", ".fr")

_CRM_STAGES = ("Prospect", "POC", "Negotiation", "Customer", "Churned")
_PRODUCTS = ("Analytics", "Ads", "Intent", "Orchestration")
_OWNERS = ("Jane Smith", "Ravi Kumar", "Ana Souza", "Tom Becker", "Mei Chen", "Omar Haddad")
_TAGS = ("enterprise", "mid-market", "smb", "q2-target", "expansion", "partner")


@dataclass(frozen=True, slots=True)
class SeedCompany:
    """One generated company (before it becomes a sandbox account)."""

    name: str
    domain: str
    short_name: str


def companies(rng: random.Random, count: int, *, taken: set[str] | None = None
              ) -> list[SeedCompany]:
    """``count`` distinct companies with unique domains (not in ``taken``)."""
    seen = taken if taken is not None else set()
    out: list[SeedCompany] = []
    while len(out) < count:
        adj, noun, suffix = rng.choice(_ADJECTIVES), rng.choice(_NOUNS), rng.choice(_SUFFIXES)
        short = f"{adj}{noun.lower()}" if rng.random() < 0.5 else f"{adj} {noun}"
        stem = f"{adj}{noun}".lower()
        domain = stem + rng.choice(_TLDS)
        n = 2
        while domain in seen:
            domain = f"{stem}{n}{rng.choice(_TLDS)}"
            n += 1
        seen.add(domain)
        out.append(SeedCompany(name=f"{short} {suffix}", domain=domain, short_name=short))
    return out


def seed_segments() -> list[dict[str, Any]]:
    """Static and dynamic segments; only static active/draft ones are listed and usable."""
    rows = [
        ("Q2 Target Accounts", "active", "static"),
        ("Enterprise Expansion", "active", "static"),
        ("Draft Campaign List", "draft", "static"),
        ("EMEA Event Invitees", "active", "static"),
        ("Partner Referrals", "draft", "static"),
        ("Churn Risk 2025", "archived", "static"),
        ("Website Visitors (dynamic)", "active", "dynamic"),
    ]
    return [
        {"segmentId": f"65f0a1b2c3d4e5f6a7b8c{i:03x}", "name": name, "status": status,
         "type": kind}
        for i, (name, status, kind) in enumerate(rows, start=1)
    ]


def seed_custom_fields() -> list[dict[str, Any]]:
    """One active custom field of every ``labelType`` plus one inactive field."""
    def field(key: str, label: str, label_type: str, description: str | None,
              options: list[str] | None = None, status: str = "active") -> dict[str, Any]:
        return {"key": key, "label": label, "labelType": label_type, "description": description,
                "options": options or [], "objectType": "accounts", "status": status}

    return [
        field("ACCOUNT_OWNER_C", "Account Owner", "singleLineText", "Owning rep in the CRM"),
        field("NOTES_C", "Notes", "multiLineText", None),
        field("CRM_STAGE_C", "CRM Stage", "singleSelection", "Lifecycle stage in the CRM",
              list(_CRM_STAGES)),
        field("PRODUCT_INTEREST_C", "Product Interest", "multiSelection", None, list(_PRODUCTS)),
        field("CONTRACT_VALUE_C", "Contract Value", "number", "Total contract value in USD"),
        field("RENEWAL_DATE_C", "Renewal Date", "date", None),
        field("LEGACY_SCORE_C", "Legacy Score", "number", "Retired", status="inactive"),
    ]


def random_scores(rng: random.Random) -> dict[str, Any]:
    """Scores and journey stage of a scored account (a few exceed 100, as seen live)."""
    top = 120 if rng.random() < 0.01 else 100
    base = rng.randint(0, top)
    scores: dict[str, Any] = {"rtp_account_score": base}
    for name in SCORE_FIELDS[1:]:
        scores[name] = 0 if rng.random() < 0.2 else rng.randint(0, 100)
    scores["rtp_journey_stage"] = JOURNEY_STAGES[min(4, base * 5 // 101)]
    return scores


def unscored() -> dict[str, Any]:
    """Scores of a freshly pushed account: all 0, journey stage ``""``."""
    return {**{name: 0 for name in SCORE_FIELDS}, "rtp_journey_stage": ""}


def random_custom_values(rng: random.Random) -> dict[str, Any]:
    """Some custom-field values for a seeded account (unset keys are absent)."""
    values: dict[str, Any] = {}
    if rng.random() < 0.6:
        values["ACCOUNT_OWNER_C"] = rng.choice(_OWNERS)
    if rng.random() < 0.5:
        values["CRM_STAGE_C"] = rng.choice(_CRM_STAGES)
    if rng.random() < 0.3:
        values["PRODUCT_INTEREST_C"] = rng.sample(_PRODUCTS, rng.randint(1, 3))
    if rng.random() < 0.4:
        values["CONTRACT_VALUE_C"] = rng.randrange(5_000, 500_000, 500)
    if rng.random() < 0.3:
        values["RENEWAL_DATE_C"] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return values


def random_tags(rng: random.Random) -> list[str]:
    """Zero to two tags."""
    return rng.sample(_TAGS, rng.randint(0, 2))
