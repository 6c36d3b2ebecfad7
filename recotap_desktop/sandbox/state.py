"""The sandbox's data set and business rules, shared by both API editions.

All public methods take the state's re-entrant lock, so the HTTP handler threads
and a test reading the state never see half-applied changes. Read helpers return
copies. Times are timezone-aware UTC ``datetime`` objects from a strictly
increasing clock, so an account changed after a response was built always has an
``updated_at`` later than that response's ``syncTimestamp``.

Account records (``state.accounts[rtp_aid]``) are dicts with the keys
``rtp_aid, externalId, name, domain, shortName, linkedinUrl, tags, customFields,
rtp_account_score, rtp_journey_stage, rtp_advertising_activity_score,
rtp_website_intent_score, rtp_g2_intent_score, rtp_bombora_intent_score,
created_at, updated_at``.
"""

from __future__ import annotations

import bisect
import copy
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.domain.editions import EditionRules
from recotap_desktop.sandbox import data
from recotap_desktop.sandbox.errors import ApiError, business_error

_AID_BASE = int("663abc000000000000000000", 16)
_AID = re.compile(r"^[0-9a-f]{24}$")
_USABLE_SEGMENT_STATUSES = ("active", "draft")


class RequestRecord(NamedTuple):
    """One request to an ``/api/`` route; ``status`` 0 means no answer was sent."""

    method: str
    path: str
    status: int


def iso(ts: datetime) -> str:
    """``2026-04-30T10:00:00.000Z`` (milliseconds, truncated, UTC)."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def custom_field_key(label: str) -> str:
    """§8.3: spaces become underscores, uppercase, ``_C`` appended; nothing else changes.

    The label is not trimmed: `` Region `` gives ``_REGION__C``.
    """
    return label.replace(" ", "_").upper() + "_C"


def is_rtp_aid(value: str) -> bool:
    """True for the 24-hex-character form of an ``rtp_aid``."""
    return bool(_AID.match(value))


class SandboxState:
    """Accounts, segments, custom fields, deals, pipelines and activities."""

    def __init__(self, *, accounts: int = 3000, seed: int = 7,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last_now: datetime | None = None
        self.rng = random.Random(seed)
        self.seed = seed
        self.accounts: dict[str, dict[str, Any]] = {}
        self.segments: dict[str, dict[str, Any]] = {}
        self.segment_members: dict[str, set[str]] = {}
        self.custom_fields: dict[str, dict[str, Any]] = {}
        self.deals: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.activities: dict[str, dict[str, Any]] = {}
        self.request_log: deque[RequestRecord] = deque(maxlen=20_000)
        self.fault_counts: Counter[str] = Counter()
        self._aids: list[str] = []
        self._by_domain: dict[str, str] = {}
        self._by_external_id: dict[str, str] = {}
        self._next_aid = 0
        self._seed(accounts)

    # ---- clock and ids -------------------------------------------------------

    def now(self) -> datetime:
        """Current time, strictly later than any time handed out before."""
        with self.lock:
            now = self._clock()
            if self._last_now is not None and now <= self._last_now:
                now = self._last_now + timedelta(microseconds=1)
            self._last_now = now
            return now

    def _new_aid(self) -> str:
        aid = f"{_AID_BASE + self._next_aid:024x}"
        self._next_aid += 1
        return aid

    # ---- seeding ---------------------------------------------------------------

    def _seed(self, count: int) -> None:
        rng = random.Random(self.seed)
        for seg in data.seed_segments():
            self.segments[seg["segmentId"]] = seg
            self.segment_members[seg["segmentId"]] = set()
        for field in data.seed_custom_fields():
            self.custom_fields[field["key"]] = field
        start = self.now()
        for i, company in enumerate(data.companies(rng, count)):
            scored = rng.random() >= 0.05
            record = {
                "externalId": None if rng.random() < 0.10 else f"crm-{i + 1:05d}",
                "name": company.name,
                "domain": company.domain,
                "shortName": company.short_name,
                "linkedinUrl": "https://www.linkedin.com/company/"
                + company.domain.split(".")[0],
                "tags": data.random_tags(rng),
                "customFields": data.random_custom_values(rng),
                **(data.random_scores(rng) if scored else data.unscored()),
            }
            when = start - timedelta(days=90) + timedelta(seconds=rng.randrange(89 * 86400))
            self._insert(record, when)
        listed = [s for s in self.segments.values() if s["status"] in _USABLE_SEGMENT_STATUSES
                  and s["type"] == "static"]
        aids = list(self._aids)
        for seg in listed:
            self.segment_members[seg["segmentId"]].update(
                rng.sample(aids, min(len(aids), rng.randint(0, 40))))

    def _insert(self, record: dict[str, Any], when: datetime) -> str:
        aid = self._new_aid()
        full = {"rtp_aid": aid, "externalId": None, "shortName": None, "linkedinUrl": None,
                "tags": [], "customFields": {}, **data.unscored(), **record,
                "created_at": when, "updated_at": when}
        full["rtp_aid"] = aid
        self.accounts[aid] = full
        self._aids.append(aid)  # ids only grow, so the list stays sorted
        self._by_domain[full["domain"]] = aid
        if full["externalId"]:
            self._by_external_id[full["externalId"]] = aid
        return aid

    # ---- helpers for tests -----------------------------------------------------

    def account_by_domain(self, domain: str) -> dict[str, Any] | None:
        """A copy of the account with this (normalised) domain, or ``None``."""
        with self.lock:
            aid = self._by_domain.get(normalise_domain(domain))
            return copy.deepcopy(self.accounts[aid]) if aid else None

    def account_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """A copy of the account with this ``externalId``, or ``None``."""
        with self.lock:
            aid = self._by_external_id.get(external_id)
            return copy.deepcopy(self.accounts[aid]) if aid else None

    def get_account(self, rtp_aid: str) -> dict[str, Any] | None:
        """A copy of one account, or ``None``."""
        with self.lock:
            acc = self.accounts.get(rtp_aid)
            return copy.deepcopy(acc) if acc else None

    def all_accounts(self) -> list[dict[str, Any]]:
        """Copies of every account, in ``rtp_aid`` order."""
        with self.lock:
            return [copy.deepcopy(self.accounts[a]) for a in self._aids]

    def add_accounts(self, items: int | Iterable[Mapping[str, Any]], *, scored: bool = True
                     ) -> list[str]:
        """Add accounts directly (no HTTP). ``items`` is a count (generated companies) or
        dicts with at least ``name`` and ``domain``. Returns the new ``rtp_aid`` values."""
        with self.lock:
            if isinstance(items, int):
                rng = self.rng
                made = data.companies(rng, items, taken=set(self._by_domain))
                records: list[dict[str, Any]] = [
                    {"name": c.name, "domain": c.domain, "shortName": c.short_name,
                     **(data.random_scores(rng) if scored else {})}
                    for c in made
                ]
            else:
                records = [dict(i) for i in items]
            out = []
            for rec in records:
                rec["domain"] = normalise_domain(str(rec["domain"]))
                if rec["domain"] in self._by_domain:
                    raise ValueError(f"domain {rec['domain']!r} already exists")
                out.append(self._insert(rec, self.now()))
            return out

    def touch(self, rtp_aid: str) -> datetime:
        """Bump one account's updated time; returns it."""
        with self.lock:
            when = self.now()
            self.accounts[rtp_aid]["updated_at"] = when
            return when

    def rescore(self, n: int, rng: random.Random | None = None) -> list[str]:
        """Give ``n`` random accounts new scores and journey stage; bump their updated time.

        Returns the changed ``rtp_aid`` values.
        """
        with self.lock:
            rng = rng or self.rng
            chosen = rng.sample(self._aids, min(n, len(self._aids)))
            for aid in chosen:
                acc = self.accounts[aid]
                acc.update(data.random_scores(rng))
                acc["updated_at"] = self.now()
            return chosen

    def members_of(self, segment_id: str) -> set[str]:
        """``rtp_aid`` values in a segment."""
        with self.lock:
            return set(self.segment_members.get(segment_id, set()))

    def counts(self) -> dict[str, int]:
        """Sizes of every collection (the inspection route's ``/_sandbox/state``)."""
        with self.lock:
            return {
                "accounts": len(self.accounts),
                "accounts_without_external_id": sum(
                    1 for a in self.accounts.values() if not a["externalId"]),
                "segments": len(self.segments),
                "custom_fields": len(self.custom_fields),
                "deals": len(self.deals),
                "pipelines": len(self.pipelines),
                "activities": len(self.activities),
                "requests": len(self.request_log),
            }

    def log_request(self, method: str, path: str, status: int) -> None:
        """Append to :attr:`request_log`."""
        with self.lock:
            self.request_log.append(RequestRecord(method, path, status))

    def count_fault(self, name: str) -> None:
        """Count one injected fault (``latency``, ``429``, ``5xx``, ``drop_before``...)."""
        with self.lock:
            self.fault_counts[name] += 1

    # ---- 9.1 GET /accounts --------------------------------------------------------

    def account_item(self, acc: Mapping[str, Any], rules: EditionRules) -> dict[str, Any]:
        """The wire form of one account for ``GET /accounts``."""
        item: dict[str, Any] = {
            "externalId": acc["externalId"],
            "name": acc["name"],
            "domain": acc["domain"],
            "rtp_aid": acc["rtp_aid"],
            "rtp_account_score": acc["rtp_account_score"],
            "rtp_journey_stage": acc["rtp_journey_stage"],
            "rtp_advertising_activity_score": acc["rtp_advertising_activity_score"],
            "rtp_website_intent_score": acc["rtp_website_intent_score"],
            "rtp_g2_intent_score": acc["rtp_g2_intent_score"],
            "rtp_bombora_intent_score": acc["rtp_bombora_intent_score"],
            "rtp_last_account_date": iso(acc["updated_at"]),
        }
        if rules.accounts_have_custom_fields:
            values = acc["customFields"]
            item["customFields"] = {
                key: copy.deepcopy(values.get(key))
                for key, f in self.custom_fields.items() if f["status"] == "active"
            }
        return item

    def list_accounts(self, rules: EditionRules, *, limit: int, cursor: str | None,
                      last_sync: datetime | None, domains: Sequence[str] | None
                      ) -> dict[str, Any]:
        """One page of accounts in ``rtp_aid`` order (keyset or offset paging)."""
        with self.lock:
            wanted = {normalise_domain(d) for d in domains} if domains is not None else None

            def keep(aid: str) -> bool:
                acc = self.accounts[aid]
                if last_sync is not None and not acc["updated_at"] > last_sync:
                    return False
                return wanted is None or acc["domain"] in wanted

            if rules.paging == "cursor":
                start = 0
                if cursor:
                    if not is_rtp_aid(cursor):
                        raise business_error(400, f"Invalid cursor '{cursor}'")
                    start = bisect.bisect_right(self._aids, cursor)
                rows: list[str] = []
                for aid in self._aids[start:]:
                    if keep(aid):
                        rows.append(aid)
                        if len(rows) > limit:
                            break
                has_next = len(rows) > limit
                rows = rows[:limit]
                next_cursor = rows[-1] if rows else None
            else:
                offset = _offset(cursor)
                if last_sync is None and wanted is None:  # every account: no scan needed
                    matching = self._aids
                else:
                    matching = [aid for aid in self._aids if keep(aid)]
                rows = matching[offset:offset + limit]
                has_next = offset + limit < len(matching)
                next_cursor = None
            items = [self.account_item(self.accounts[a], rules) for a in rows]
            return {"data": items, "nextCursor": next_cursor, "hasNextPage": has_next,
                    "syncTimestamp": iso(self.now())}

    # ---- 9.2 POST /accounts ---------------------------------------------------------

    def _active_keys(self) -> set[str]:
        return {k for k, f in self.custom_fields.items() if f["status"] == "active"}

    def check_segment(self, segment_id: str) -> None:
        """Raise the documented 400 unless the segment is static and active/draft."""
        seg = self.segments.get(segment_id)
        if seg is None or seg["type"] != "static" or seg["status"] not in _USABLE_SEGMENT_STATUSES:
            raise business_error(
                400, f"Segment '{segment_id}' is not active or draft and cannot accept new members")

    def create_accounts(self, rules: EditionRules, accounts: Sequence[Mapping[str, Any]], *,
                        segment_id: str | None, upsert: bool) -> dict[str, Any]:
        """Create (or, external edition with ``upsert``, update) accounts one by one."""
        with self.lock:
            if segment_id is not None:
                self.check_segment(segment_id)
            active = self._active_keys()
            results = []
            summary = {"total": len(accounts), "created": 0, "updated": 0, "failed": 0}
            for item in accounts:
                result = self._create_one(rules, item, active, upsert)
                summary[result["status"]] += 1
                if segment_id is not None and result["status"] in ("created", "updated"):
                    self.segment_members[segment_id].add(result["rtp_aid"])
                results.append(result)
            return {"results": results, "summary": summary}

    def _create_one(self, rules: EditionRules, item: Mapping[str, Any], active: set[str],
                    upsert: bool) -> dict[str, Any]:
        raw_domain = str(item["domain"])
        domain = normalise_domain(raw_domain)
        external_id = item.get("externalId") or None
        result: dict[str, Any] = {"rtp_aid": None, "domain": domain or raw_domain,
                                  "externalId": external_id, "status": "failed"}

        def fail(message: str, aid: str | None = None) -> dict[str, Any]:
            result["rtp_aid"] = aid
            result["error"] = message
            return result

        fields = item.get("customFields") or {}
        unknown = [k for k in fields if k not in active]
        if unknown:
            return fail(f"Custom field key(s) not found: {', '.join(unknown)}. "
                        "Unable to add this account.")
        if not domain or "." not in domain:
            return fail(f"Domain '{raw_domain}' is not a valid domain.")
        existing = self._by_domain.get(domain)
        owner = self._by_external_id.get(external_id) if external_id else None
        if rules.requires_external_id:
            # Revision A: externalId is the identity. An existing account with the same
            # domain and no externalId is adopted (this is what "updated" means there).
            if owner is not None:
                return fail(f"Account with externalId '{external_id}' already exists", owner)
            if existing is not None:
                if self.accounts[existing]["externalId"]:
                    return fail(f"Account with domain '{domain}' already exists", existing)
                self._apply(existing, item, fields)
                result.update(rtp_aid=existing, status="updated")
                return result
        else:
            if existing is not None:
                if not upsert:
                    return fail(f"Account with domain '{domain}' already exists. "
                                f"Use PUT /accounts/{existing} to update it.", existing)
                if owner is not None and owner != existing:
                    return fail(f"Account with externalId '{external_id}' already exists", owner)
                self._apply(existing, item, fields)
                result.update(rtp_aid=existing, status="updated",
                              externalId=self.accounts[existing]["externalId"])
                return result
            if owner is not None:
                return fail(f"Account with externalId '{external_id}' already exists", owner)
        record = {
            "externalId": external_id,
            "name": item["name"],
            "domain": domain,
            "shortName": item.get("shortName"),
            "linkedinUrl": item.get("linkedinUrl"),
            "tags": list(item.get("tags") or []),
            "customFields": copy.deepcopy(dict(fields)),
        }
        result.update(rtp_aid=self._insert(record, self.now()), status="created")
        return result

    def _apply(self, aid: str, item: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
        acc = self.accounts[aid]
        acc["name"] = item["name"]
        for prop in ("shortName", "linkedinUrl"):
            if item.get(prop) is not None:
                acc[prop] = item[prop]
        if item.get("tags") is not None:
            acc["tags"] = list(item["tags"])
        external_id = item.get("externalId") or None
        if external_id and external_id != acc["externalId"]:
            if acc["externalId"]:
                self._by_external_id.pop(acc["externalId"], None)
            acc["externalId"] = external_id
            self._by_external_id[external_id] = aid
        acc["customFields"].update(copy.deepcopy(dict(fields)))
        acc["updated_at"] = self.now()

    # ---- 9.3 PUT /accounts/:key ------------------------------------------------------

    def update_account(self, rules: EditionRules, key: str, custom_fields: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """Merge ``custom_fields`` into one account found by rtp_aid or externalId."""
        with self.lock:
            if rules.account_update_key == "rtp_aid":
                aid: str | None = key if key in self.accounts else None
            else:
                aid = self._by_external_id.get(key)
            if aid is None:
                raise business_error(
                    404, f"Account with {rules.account_update_key} '{key}' not found")
            active = self._active_keys()
            unknown = [k for k in custom_fields if k not in active]
            if unknown:
                raise business_error(400, f"Custom field key(s) not found: {', '.join(unknown)}")
            if custom_fields:
                acc = self.accounts[aid]
                acc["customFields"].update(copy.deepcopy(dict(custom_fields)))
                acc["updated_at"] = self.now()
            return {"message": "Account updated successfully"}

    # ---- 9.4 / 9.5 ------------------------------------------------------------------

    def missing_external_ids(self, limit: int) -> list[dict[str, Any]]:
        """Accounts without ``externalId`` (``name``, ``domain``), first ``limit``."""
        with self.lock:
            out = []
            for aid in self._aids:
                acc = self.accounts[aid]
                if not acc["externalId"]:
                    out.append({"name": acc["name"], "domain": acc["domain"]})
                    if len(out) >= limit:
                        break
            return out

    def map_external_ids(self, mappings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Write external ids onto accounts found by normalised domain (later mapping wins).

        ``matched`` counts distinct domains found; ``updated`` those whose ``externalId``
        actually changed. An ``externalId`` already held by another account is not
        written (matched, not updated), so ids stay unique.
        """
        with self.lock:
            final: dict[str, str] = {}
            for m in mappings:
                domain = normalise_domain(str(m["domain"]))
                final.pop(domain, None)
                final[domain] = str(m["externalId"])
            matched = updated = 0
            not_found: list[str] = []
            for domain, external_id in final.items():
                aid = self._by_domain.get(domain)
                if aid is None:
                    not_found.append(domain)
                    continue
                matched += 1
                acc = self.accounts[aid]
                holder = self._by_external_id.get(external_id)
                if acc["externalId"] == external_id or (holder is not None and holder != aid):
                    continue
                if acc["externalId"]:
                    self._by_external_id.pop(acc["externalId"], None)
                acc["externalId"] = external_id
                self._by_external_id[external_id] = aid
                acc["updated_at"] = self.now()
                updated += 1
            return {"matched": matched, "updated": updated, "notFound": not_found}

    # ---- 9.6 / 9.7 custom fields ---------------------------------------------------------

    def list_custom_fields(self) -> list[dict[str, Any]]:
        """Active custom-field definitions."""
        with self.lock:
            return [copy.deepcopy(f) for f in self.custom_fields.values()
                    if f["status"] == "active"]

    def create_custom_field(self, label: str, label_type: str, description: str | None,
                            options: Sequence[str] | None) -> list[dict[str, Any]]:
        """Create one definition; 409 when an active one has the same key."""
        with self.lock:
            key = custom_field_key(label)
            old = self.custom_fields.get(key)
            if old is not None and old["status"] == "active":
                raise business_error(409, f"Custom field with key '{key}' already exists")
            field = {
                "key": key, "label": label, "labelType": label_type,
                "description": description,
                "options": list(options or []) if label_type in (
                    "singleSelection", "multiSelection") else [],
                "objectType": "accounts", "status": "active",
            }
            self.custom_fields.pop(key, None)
            self.custom_fields[key] = field
            return [copy.deepcopy(field)]

    # ---- 9.8 segments ----------------------------------------------------------------------

    def list_segments(self, rules: EditionRules, *, limit: int, cursor: str | None
                      ) -> dict[str, Any]:
        """Static active/draft segments, paged like accounts."""
        with self.lock:
            listed = sorted(
                (s for s in self.segments.values() if s["type"] == "static"
                 and s["status"] in _USABLE_SEGMENT_STATUSES),
                key=lambda s: s["segmentId"])
            if rules.paging == "cursor":
                ids = [s["segmentId"] for s in listed]
                if cursor and not is_rtp_aid(cursor):
                    raise business_error(400, f"Invalid cursor '{cursor}'")
                start = bisect.bisect_right(ids, cursor) if cursor else 0
                page = listed[start:start + limit]
                has_next = start + limit < len(listed)
                next_cursor = page[-1]["segmentId"] if page else None
            else:
                offset = _offset(cursor)
                page = listed[offset:offset + limit]
                has_next = offset + limit < len(listed)
                next_cursor = None
            rows = [{"segmentId": s["segmentId"], "name": s["name"], "status": s["status"]}
                    for s in page]
            return {"data": rows, "nextCursor": next_cursor, "hasNextPage": has_next}

    # ---- 9.9 deals ---------------------------------------------------------------------

    def upsert_deals(self, deals: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Create or replace deals by ``externalDealId``."""
        with self.lock:
            results = []
            for deal in deals:
                record = copy.deepcopy(dict(deal))
                linked = []
                for acc in record.get("associatedAccounts") or []:
                    aid = None
                    if acc.get("domain"):
                        aid = self._by_domain.get(normalise_domain(acc["domain"]))
                    if aid is None and acc.get("externalId"):
                        aid = self._by_external_id.get(acc["externalId"])
                    linked.append(aid)
                record["linkedAccountIds"] = linked
                record["updated_at"] = self.now()
                self.deals[record["externalDealId"]] = record
                results.append({"externalDealId": record["externalDealId"], "status": "upserted"})
            return {"results": results,
                    "summary": {"total": len(deals), "upserted": len(results), "failed": 0}}

    # ---- 9.10 deal stages --------------------------------------------------------------

    def create_pipelines(self, rules: EditionRules, pipelines: Sequence[Mapping[str, Any]]
                         ) -> dict[str, Any]:
        """All-or-nothing create; 409 naming every pipelineId that already exists."""
        with self.lock:
            ids = [str(p["pipelineId"]) for p in pipelines]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise business_error(
                    400, f"Duplicate pipelineId(s) in request: {', '.join(repeated)}")
            for p in pipelines:
                stage_ids = [str(s["stageId"]) for s in p["stages"]]
                twice = sorted({i for i in stage_ids if stage_ids.count(i) > 1})
                if twice:
                    raise business_error(400, f"Duplicate stageId(s) in pipeline "
                                              f"'{p['pipelineId']}': {', '.join(twice)}")
            existing = [i for i in ids if i in self.pipelines]
            if existing:
                message = f"Pipeline(s) already exist: {', '.join(existing)}"
                if rules.requires_external_id:  # Revision A wording
                    message += ". Use the update endpoint to modify existing pipelines."
                raise business_error(409, message)
            for p in pipelines:
                self.pipelines[str(p["pipelineId"])] = {
                    "pipelineId": p["pipelineId"], "pipelineLabel": p["pipelineLabel"],
                    "stages": [{"stageId": s["stageId"], "stageLabel": s["stageLabel"]}
                               for s in p["stages"]],
                }
            return {"results": [{"pipelineId": i, "status": "created"} for i in ids],
                    "summary": {"total": len(ids), "created": len(ids)}}

    def list_pipelines(self) -> list[dict[str, Any]]:
        """Registered pipelines with their stages."""
        with self.lock:
            return copy.deepcopy(list(self.pipelines.values()))

    # ---- 9.11 sales activities ---------------------------------------------------------

    def create_activities(self, activities: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Create-only by ``externalActivityId``; other types than call/email are skipped."""
        with self.lock:
            results = []
            summary = {"total": len(activities), "created": 0, "failed": 0, "skipped": 0}
            for act in activities:
                ext_id = act["externalActivityId"]
                result: dict[str, Any] = {"externalActivityId": ext_id}
                if act["activityType"] not in ("call", "email"):
                    result.update(status="skipped",
                                  error=f"Unsupported activityType '{act['activityType']}'")
                elif ext_id in self.activities:
                    result.update(status="failed", error=f"Activity with externalActivityId "
                                                         f"'{ext_id}' already exists")
                else:
                    record = copy.deepcopy(dict(act))
                    record["rtp_aid"] = self._by_domain.get(normalise_domain(act["domain"]))
                    record["created_at"] = self.now()
                    self.activities[ext_id] = record
                    result["status"] = "created"
                summary[result["status"]] += 1
                results.append(result)
            return {"results": results, "summary": summary}


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise ApiError(400, f"Invalid cursor '{cursor}': expected a non-negative integer offset")
    return int(cursor)
