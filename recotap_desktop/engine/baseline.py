"""What a run's rows name on the server just before it sends, and how answers are read
against it (Qt-free).

Before an import of accounts, account field values or ID mappings sends anything,
:func:`prepare_baseline` brings the connection's account mirror up to date (a delta: one
request when nothing changed; see :mod:`recotap_desktop.engine.mirror`) or, for a small
file on a connection without a mirror, looks its domains up with ``GET
/accounts?domains=`` (edition ``external``), whichever costs fewer requests. Each batch is
then planned against it (:func:`recotap_desktop.engine.preview.plan_items`), and:

* a row whose values Recotap already holds is not sent: it ends ``unchanged``, a success
  (unless a segment is chosen, which an unchanged account must still join, or the user
  asked to send unchanged rows);
* a row the documented API refuses for the account that exists (edition ``crm``: an
  existing ``externalId`` with other values; edition ``external`` without upsert: an
  existing domain with other values) is not sent either: it ends ``failed`` (already
  exists) with the values it would have changed, as the server would have answered;
* every sent row's outcome carries its plan (``planned``, ``changes``: the report's
  ``recotap_planned`` and ``recotap_changes``) and the values it replaced (``before``),
  which is what undoing the run's updates sends back;
* an answer to a request that may have been repeated is read against the state before
  the run, never guessed: an account that existed before the run is never ``created``
  (a duplicate answer then means it was there already), and one that did not exist but
  is answered ``updated`` was created by this run's earlier attempt whose answer was lost.

When the mirror cannot be refreshed, the run does not skip anything (a stale copy could
call a changed account unchanged): every row is sent, as without a mirror, and the run's
note says why.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from recotap_desktop.api import MAX_DOMAINS_PER_CALL, CancelledError, RecotapError
from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.mirror import mirror_for, refresh_mirror
from recotap_desktop.engine.plan import Plan, PlannedItem
from recotap_desktop.engine.preview import (
    HISTORY_KINDS,
    NOT_LISTED,
    PREVIEW_KINDS,
    AccountIndex,
    Change,
    Planned,
    RowPlan,
    SentBefore,
    date_fields,
    plan_from_history,
    plan_items,
    sent_before,
)
from recotap_desktop.engine.progress import CancelToken, ProgressSink
from recotap_desktop.engine.run_target import RunTarget
from recotap_desktop.engine.senders import exists_hint
from recotap_desktop.engine.states import ItemOutcome, Reason, RowState
from recotap_desktop.engine.wording import join_sentences
from recotap_desktop.store.mirror import MirrorAccount, MirrorError, listed_row

log = logging.getLogger(__name__)

__all__ = ["Baseline", "DomainLookup", "prepare_baseline"]

#: Without a mirror, a file whose domains fit in this many ``?domains=`` requests is looked
#: up instead of pulling every account first (when the tenant's size is not known).
LOOKUP_REQUESTS_MAX = 20

UNCHANGED_MESSAGE = "Unchanged: Recotap already holds these values, so the row was not sent."
EXISTED_MESSAGE = (
    "The account was already in Recotap before this run (the server answered that it "
    "exists); this run did not create it."
)
CREATED_MESSAGE = (
    "Created by this run: an earlier attempt whose answer was lost created the account, "
    "and the repeat updated it with the same values."
)


class DomainLookup:
    """An :class:`AccountIndex` of the file's domains, read with ``GET /accounts?domains=``."""

    def __init__(self, accounts: Mapping[str, MirrorAccount]) -> None:
        self._by_domain = dict(accounts)

    def by_domains(self, domains: Any) -> dict[str, MirrorAccount]:
        out = {}
        for d in domains:
            acc = self._by_domain.get(normalise_domain(d))
            if acc is not None:
                out[acc.domain] = acc
        return out

    def by_external_ids(self, ids: Any) -> dict[str, list[MirrorAccount]]:
        wanted = set(ids)
        out: dict[str, list[MirrorAccount]] = {}
        for acc in self._by_domain.values():
            if acc.external_id is not None and acc.external_id in wanted:
                out.setdefault(acc.external_id, []).append(acc)
        return out

    def by_rtp_aids(self, aids: Any) -> dict[str, MirrorAccount]:
        wanted = set(aids)
        return {a.rtp_aid: a for a in self._by_domain.values()
                if a.rtp_aid is not None and a.rtp_aid in wanted}


def _lookup_domains(connection: ConnectionSpec, domains: Sequence[str], cancel: CancelToken,
                    client_kwargs: Mapping[str, Any]) -> DomainLookup:
    found: dict[str, MirrorAccount] = {}
    with connection.open(cancel_event=cancel.stop_event, **dict(client_kwargs)) as client:
        for i in range(0, len(domains), MAX_DOMAINS_PER_CALL):
            chunk = domains[i : i + MAX_DOMAINS_PER_CALL]
            for page in client.iter_account_pages(domains=chunk, limit=100):
                for acc in page.accounts:
                    row = listed_row(acc.raw, True)
                    if row is None:
                        continue
                    aid, ext, domain, name, custom, _raw, key = row
                    found[domain] = MirrorAccount(aid, ext, domain, name, custom or "{}",
                                                  None, key)
    return DomainLookup(found)


@dataclass
class Baseline:
    """The state before the run and the rules that read answers against it."""

    kind: str
    plan: Plan
    index: AccountIndex
    #: The index was refreshed just now: rows it calls unchanged may be skipped.
    fresh: bool
    note: str = ""
    #: Kinds the API does not list: what this app sent before, by record identity.
    known: Mapping[str, SentBefore] | None = None
    #: Whether there is anything to compare with (``False``: Recotap's accounts could not
    #: be read and no earlier copy exists; nothing may be called unchanged or not found).
    compared: bool = True

    @property
    def _options(self) -> Any:
        return self.plan.job.options

    def plans(self, items: Sequence[PlannedItem]) -> list[RowPlan]:
        if self.known is not None:
            kind = self.plan.job.record_kind()
            ctx = self.plan.job.context()
            return [plan_from_history(i.payload, kind.item_key(i.payload, ctx), self.known)
                    for i in items]
        return plan_items(self.kind, self.plan.job.rules, [i.payload for i in items],
                          self.index, upsert=self._options.upsert,
                          date_fields=date_fields(self.plan.job.context()))

    def skips(self, row_plan: RowPlan) -> bool:
        """Whether a row planned ``row_plan`` is left out as unchanged."""
        if self.known is not None:
            return False  # what the API does not list is always sent
        if row_plan.action is not Planned.UNCHANGED or not self.fresh:
            return False
        if self._options.send_unchanged:
            return False
        return not (self.kind == "accounts" and self._options.segment_id)

    def refuses(self, row_plan: RowPlan) -> bool:
        """Whether the row is left out because the documented API refuses it (the account
        exists and cannot be changed this way): it fails without a request."""
        return row_plan.refused and self.fresh

    def refused_message(self, row_plan: RowPlan) -> str:
        changes = "; ".join(c.text() for c in row_plan.changes)
        return join_sentences(
            "Not sent: the account already exists",
            exists_hint(self.plan.job.rules),
            f"The row would change {changes}" if changes else "",
        )

    @staticmethod
    def ids(row_plan: RowPlan) -> dict[str, str]:
        """What an outcome records of its plan (report columns ``recotap_planned``, ...)."""
        ids = {"planned": row_plan.action.value}
        text = row_plan.changes_text()
        if text:
            ids["changes"] = text
        before = {
            c.field: c.old for c in row_plan.changes
            if not (isinstance(c.old, str) and c.old == "(not listed)")
        }
        if before and row_plan.before is not None:
            ids["before"] = json.dumps(before, ensure_ascii=False, default=str)
        return ids

    def honest(self, outcome: ItemOutcome, row_plan: RowPlan) -> ItemOutcome:
        """The outcome read against the state before the run (see the module doc)."""
        if self.known is not None:
            sent = row_plan.action in (Planned.SENT_SAME, Planned.SENT_OTHER)
            if outcome.state is RowState.CREATED and outcome.reconciled and sent:
                return replace(outcome, state=RowState.FAILED, reconciled=False,
                               reason=Reason.ALREADY_EXISTS, message=join_sentences(
                                   f"Already in Recotap: this app sent it in {row_plan.note} "
                                   "(the server answered that it exists); this run did not "
                                   "create it"))
            return outcome
        if self.kind != "accounts":
            return outcome
        existed = row_plan.before is not None
        if outcome.state is RowState.CREATED and outcome.reconciled and existed:
            return replace(outcome, state=RowState.FAILED, reconciled=False,
                           reason=Reason.ALREADY_EXISTS,
                           message=join_sentences(EXISTED_MESSAGE, _hint(row_plan)))
        if outcome.state is RowState.UPDATED and not existed and outcome.repeated:
            return replace(outcome, state=RowState.CREATED, reconciled=True,
                           reason=Reason.RECONCILED, message=CREATED_MESSAGE)
        return outcome


    def settle(
        self, items: Sequence[tuple[PlannedItem, RowPlan]], connection: ConnectionSpec,
        data_dir: Path, *, cancel: CancelToken, client_kwargs: Mapping[str, Any],
    ) -> list[tuple[PlannedItem, RowState, str]]:
        """Read again what rows without an answer name and say what happened to each.

        ``items`` were sent but got no answer (the request may have been processed).
        After re-reading (the mirror's delta, or the file's domains again): the account
        now holds the row's values -> ``created`` when it did not exist before the run,
        ``updated`` when it did; it is exactly as before -> nothing happened (the row
        stays "not sent": resume or retry sends it); anything else -> ``unknown``, with
        what was found. Raises the API's errors when Recotap cannot be read.
        """
        if self.kind != "accounts" or not items:
            return []
        if isinstance(self.index, DomainLookup):
            domains = [normalise_domain(str(i.payload.get("domain") or "")) for i, _p in items]
            index: AccountIndex = _lookup_domains(connection, domains, cancel, client_kwargs)
        else:
            refresh_mirror(connection, mirror_for(connection, data_dir), cancel=cancel,
                           client_kwargs=client_kwargs)
            index = self.index
        now = plan_items(self.kind, self.plan.job.rules, [i.payload for i, _p in items],
                         index, upsert=self._options.upsert,
                         date_fields=date_fields(self.plan.job.context()))
        out: list[tuple[PlannedItem, RowState, str]] = []
        for (item, before), after in zip(items, now, strict=True):
            # What the API lists is all that can be read back: values it does not list
            # (tags, shortName...) cannot tell whether the request was processed.
            if holds_row(after):
                if before.before is None:
                    out.append((item, RowState.CREATED, SETTLED_CREATED))
                else:
                    out.append((item, RowState.UPDATED, SETTLED_UPDATED))
            elif after.action is before.action and _listed(after.changes) == _listed(
                before.changes
            ) and after.before == before.before:
                continue  # not processed: stays "not sent"
            else:
                out.append((item, RowState.UNKNOWN, join_sentences(
                    "The answer was lost and Recotap's account now differs both from "
                    "before the run and from this row",
                    f"({after.changes_text()})" if after.changes_text() else "",
                    "Retry reads it again first and sends only what still differs.")))
        return out


def holds_row(row_plan: RowPlan) -> bool:
    """Whether the account a row names exists with every value of the row that Recotap
    lists (what a row planned now says once its request was processed)."""
    return row_plan.before is not None and not _listed(row_plan.changes)


def _listed(changes: Sequence[Change]) -> list[Change]:
    return [c for c in changes if not (isinstance(c.old, str) and c.old == NOT_LISTED)]


SETTLED_CREATED = (
    "Created: the answer was lost, and reading Recotap's accounts again shows the account "
    "with this row's values (it did not exist before the run)."
)
SETTLED_UPDATED = (
    "Updated: the answer was lost, and reading Recotap's accounts again shows this row's "
    "values."
)


def _hint(row_plan: RowPlan) -> str:
    return f"Planned: {row_plan.action.value}" + (
        f" ({row_plan.changes_text()})." if row_plan.changes_text() else "."
    )


def _file_domains(plan: Plan, cancel: CancelToken) -> list[str]:
    from recotap_desktop.engine.plan import iter_planned

    domains: dict[str, None] = {}
    for entry in iter_planned(plan.job, plan.source, cancel):
        if isinstance(entry, PlannedItem):
            d = normalise_domain(str(entry.payload.get("domain") or ""))
            if d:
                domains[d] = None
    return list(domains)


def prepare_baseline(
    plan: Plan,
    connection: ConnectionSpec,
    data_dir: Path,
    *,
    cancel: CancelToken,
    client_kwargs: Mapping[str, Any],
    progress: ProgressSink | None = None,
    tenant_size: int | None = None,
    history: Any = None,
) -> Baseline | None:
    """The state before the run of the rows of ``plan``: Recotap's accounts for the kinds
    it lists; for deals, pipelines and activities what this app sent before (``history``
    given), else ``None``. Raises :class:`~recotap_desktop.api.CancelledError`."""
    kind = plan.job.kind
    if kind in HISTORY_KINDS and history is not None:
        record = plan.job.record_kind()
        ctx = plan.job.context()
        known = sent_before(history, kind, RunTarget.of(connection),
                            lambda p: record.item_key(p, ctx))
        return Baseline(kind, plan, DomainLookup({}), fresh=False, known=known)
    if kind not in PREVIEW_KINDS:
        return None
    mirror = mirror_for(connection, data_dir)
    info = mirror.info()
    rules = connection.rules
    by_domain = kind in ("accounts", "id-mappings")
    if not info.exists and by_domain and rules.supports_domain_filter:
        lookups = math.ceil(plan.items / MAX_DOMAINS_PER_CALL)
        full = math.ceil(tenant_size / 100) if tenant_size else None
        if lookups <= (full if full is not None else LOOKUP_REQUESTS_MAX):
            try:
                domains = _file_domains(plan, cancel)
                index: AccountIndex = _lookup_domains(connection, domains, cancel,
                                                      client_kwargs)
                return Baseline(kind, plan, index, fresh=True)
            except CancelledError:
                raise
            except RecotapError as exc:
                return Baseline(kind, plan, DomainLookup({}), fresh=False,
                                note=_not_compared(exc.message), compared=False)
    try:
        refresh_mirror(connection, mirror, concurrency=plan.job.options.concurrency,
                       cancel=cancel, client_kwargs=client_kwargs, progress=progress)
        return Baseline(kind, plan, mirror, fresh=True)
    except CancelledError:
        raise
    except (RecotapError, MirrorError) as exc:
        log.warning("mirror refresh failed before a run: %s", exc.message)
        if not info.exists:
            return Baseline(kind, plan, DomainLookup({}), fresh=False,
                            note=_not_compared(exc.message), compared=False)
        return Baseline(kind, plan, mirror, fresh=False, note=_not_compared(
            exc.message, "The comparison uses the local copy of the accounts, "
            f"{info.describe_age()}, for information only"))


def _not_compared(reason: str, extra: str = "") -> str:
    """Why rows are not left out as unchanged; true before, during and after a run, and
    of a dry run (which sends nothing)."""
    return join_sentences(
        f"Recotap's accounts could not be read just now ({reason})",
        extra,
        "So no row is left out as unchanged: a run sends every row, unchanged or not.",
    )

