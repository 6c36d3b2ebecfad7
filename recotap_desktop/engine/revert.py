"""Undo a run's updates: send back the values it overwrote, unless someone changed them
since (Qt-free).

The API has no delete and no undo. What it can do is write a value again, so a run that
*changed* existing accounts can be reverted field by field, from what it recorded before
sending (each outcome's ``before``: the values the row replaced, read from the account
mirror just before the run, see :mod:`recotap_desktop.engine.baseline`) and what it sent
(``payload``).

:func:`plan_revert` refreshes the mirror (a delta) and, for every row the run
``updated``, decides per field:

``restore``    the server still holds the value the run wrote: send the old one back;
``changed``    the server's value is no longer the run's (someone changed it since):
               refused, and said so with both values;
``cannot``     the API offers no way to write this field back (edition ``crm``: no
               update of an account's name; an ``externalId`` cannot be removed; values
               the edition does not list were never known).

Accounts the run *created* cannot be removed (no delete): the plan lists them, and
:func:`write_created_list` writes them to a file for the user to handle in Recotap.

:func:`run_revert` sends the restores as a new run in the history (same kind, linked to
the reverted run, ``options.revert_of``) with one outcome per reverted row (the row
number of the original file): ``updated`` (every planned field restored), ``unchanged``
(already back at the old values), ``skipped`` (nothing could be restored: each field's
reason in the message) or ``failed`` (the server refused; its words). Custom-field values
go through ``PUT /accounts/:key``; a name (edition ``external``) through ``POST
/accounts`` with upsert; an ``externalId`` through ``PATCH /accounts/external-ids``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from recotap_desktop.api import NotFound, RecotapClient, RecotapError, RequestRejected
from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.mirror import mirror_for, refresh_mirror
from recotap_desktop.engine.preview import NOT_LISTED, same_value
from recotap_desktop.engine.progress import CancelToken, NullProgress, ProgressSink
from recotap_desktop.engine.run_target import RunTarget, check_run_target
from recotap_desktop.engine.states import RowState, RunState
from recotap_desktop.errors import UserError
from recotap_desktop.files.writers import TableWriter
from recotap_desktop.store.history import History, RowOutcome, RunInfo
from recotap_desktop.store.mirror import MirrorAccount

__all__ = [
    "FieldRevert",
    "RevertError",
    "RevertPlan",
    "RevertResult",
    "RowRevert",
    "Verdict",
    "plan_revert",
    "run_revert",
    "write_created_list",
]

REVERTIBLE_KINDS = frozenset({"accounts", "account-fields", "id-mappings"})


class RevertError(UserError):
    """The run cannot be reverted; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Verdict(StrEnum):
    RESTORE = "restore"
    CHANGED = "changed since"
    CANNOT = "cannot be written back"
    ALREADY = "already back"


@dataclass(frozen=True, slots=True)
class FieldRevert:
    field: str
    old: Any
    written: Any
    current: Any
    verdict: Verdict
    why: str = ""

    def text(self) -> str:
        if self.verdict is Verdict.RESTORE:
            return f"{self.field}: {_show(self.current)} \u2192 {_show(self.old)}"
        if self.verdict is Verdict.CHANGED:
            return (f"{self.field}: not restored, changed since this run (now "
                    f"{_show(self.current)}, the run wrote {_show(self.written)})")
        if self.verdict is Verdict.ALREADY:
            return f"{self.field}: already {_show(self.old)}"
        return f"{self.field}: not restored, {self.why}"


@dataclass
class RowRevert:
    """One row the reverted run updated: the account and each field's verdict."""

    row: int
    domain: str
    key: str | None
    account: MirrorAccount | None
    fields: list[FieldRevert] = field(default_factory=list)

    @property
    def restores(self) -> list[FieldRevert]:
        return [f for f in self.fields if f.verdict is Verdict.RESTORE]

    def text(self) -> str:
        return "; ".join(f.text() for f in self.fields)


@dataclass
class RevertPlan:
    run_id: int
    kind: str
    rows: list[RowRevert] = field(default_factory=list)
    #: Accounts the run created: ``(row, domain, externalId, rtp_aid)``.
    created: list[tuple[int, str, str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            for f in r.fields:
                out[f.verdict.value] = out.get(f.verdict.value, 0) + 1
        return out

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c.get(v.value, 0):,} {label}" for v, label in (
            (Verdict.RESTORE, "values to restore"),
            (Verdict.CHANGED, "changed since (not restored)"),
            (Verdict.CANNOT, "cannot be written back"),
            (Verdict.ALREADY, "already back"),
        ) if c.get(v.value)]
        text = (f"Undo run {self.run_id}: {len(self.rows):,} updated rows; "
                + (", ".join(parts) if parts else "nothing to restore") + ".")
        if self.created:
            n = len(self.created)
            text += (f" {n:,} account{'s' if n != 1 else ''} this run created cannot be "
                     "removed (the API has no delete).")
        return text


@dataclass
class RevertResult:
    run_id: int
    plan: RevertPlan
    counts: dict[str, int]
    state: RunState
    message: str = ""


def _show(value: Any) -> str:
    if value is None:
        return "\u2205"
    return json.dumps(value, ensure_ascii=False, default=str)


def _load(text: object) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _current(account: MirrorAccount | None, name: str) -> Any:
    if account is None:
        return None
    if name == "name":
        return account.name
    if name == "externalId":
        return account.external_id
    if name.startswith("customFields."):
        if account.custom_fields is None:
            return NOT_LISTED
        return account.custom_fields.get(name.split(".", 1)[1])
    return NOT_LISTED


def _written(payload: Mapping[str, Any], name: str) -> Any:
    if name.startswith("customFields."):
        return (payload.get("customFields") or {}).get(name.split(".", 1)[1])
    return payload.get(name)


def _why_not(name: str, old: Any, rules: Any) -> str:
    if name == "externalId" and old in (None, ""):
        return "an externalId cannot be removed through the API"
    if name == "name" and rules.requires_external_id:
        return "the CRM API cannot change an account's name"
    return ""


def plan_revert(
    history: History,
    run_id: int,
    connection: ConnectionSpec,
    data_dir: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressSink | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> RevertPlan:
    """What undoing run ``run_id`` would send, field by field (see the module doc)."""
    run = history.get_run(run_id)
    if run.kind not in REVERTIBLE_KINDS:
        raise RevertError(
            f"Run {run_id} imported {run.kind}; only runs that change accounts (accounts, "
            "account field values, ID mappings) can be undone."
        )
    check_run_target(run, connection)
    mirror = mirror_for(connection, data_dir)
    refresh_mirror(connection, mirror, cancel=cancel, progress=progress or NullProgress(),
                   client_kwargs=client_kwargs or {})
    rules = connection.rules
    plan = RevertPlan(run_id, run.kind)
    updated: list[tuple[RowOutcome, dict[str, Any], dict[str, Any]]] = []
    for o in history.iter_outcomes(run_id):
        ids = o.ids or {}
        payload = _load(ids.get("payload"))
        if o.state == RowState.CREATED.value and run.kind == "accounts":
            plan.created.append((o.row, str(payload.get("domain") or ids.get("domain") or ""),
                                 str(payload.get("externalId") or ids.get("externalId") or ""),
                                 str(ids.get("rtp_aid") or "")))
        elif o.state == RowState.UPDATED.value and ids.get("before"):
            updated.append((o, payload, _load(ids.get("before"))))
    domains = [normalise_domain(str(p.get("domain") or "")) for _o, p, _b in updated]
    by_domain = mirror.by_domains(d for d in domains if d)
    keys = [str(p.get("key") or "") for _o, p, _b in updated]
    if rules.account_update_key == "rtp_aid":
        by_key = mirror.by_rtp_aids(k for k in keys if k)
    else:
        by_key = {k: v[0] for k, v in mirror.by_external_ids(k for k in keys if k).items()}
    for (o, payload, before), domain, key in zip(updated, domains, keys, strict=True):
        account = by_domain.get(domain) if domain else by_key.get(key)
        row = RowRevert(o.row, account.domain if account else domain,
                        key or (account.rtp_aid if account else None), account)
        for name, old in before.items():
            current, written = _current(account, name), _written(payload, name)
            why = _why_not(name, old, rules)
            if account is None:
                verdict, why = Verdict.CANNOT, "the account is no longer listed"
            elif why:
                verdict = Verdict.CANNOT
            elif current == NOT_LISTED:
                verdict, why = Verdict.CANNOT, "its value cannot be read back in this edition"
            elif same_value(current, old):
                verdict = Verdict.ALREADY
            elif same_value(current, written):
                verdict = Verdict.RESTORE
            else:
                verdict = Verdict.CHANGED
            row.fields.append(FieldRevert(name, old, written, current, verdict, why))
        plan.rows.append(row)
    return plan


def write_created_list(plan: RevertPlan, path: Path) -> int:
    """The accounts the run created (which cannot be removed) as a CSV/XLSX file."""
    with TableWriter.open(path, ["recotap_row", "domain", "externalId", "rtp_aid"]) as writer:
        for entry in plan.created:
            writer.write_row(list(entry))
    return len(plan.created)


def write_revert_plan(plan: RevertPlan, path: Path) -> int:
    """What undoing the run would do, one line per field of every row it updated (a dry
    run's report): the value to send back, the one the run wrote, the one Recotap holds
    now, and whether it is restored (and why not). Returns the lines written."""
    columns = ["recotap_row", "domain", "key", "field", "send_back", "run_wrote", "now",
               "verdict", "why"]
    lines = 0
    with TableWriter.open(path, columns) as writer:
        for row in plan.rows:
            for f in row.fields:
                writer.write_row([row.row, row.domain, row.key or "", f.field, _show(f.old),
                                  _show(f.written), _show(f.current), f.verdict.value, f.why])
                lines += 1
    return lines


def _send_row(client: RecotapClient, rules: Any, row: RowRevert) -> tuple[str, str]:
    """Send one row's restores; the row's state and message."""
    restores = row.restores
    custom = {f.field.split(".", 1)[1]: f.old for f in restores
              if f.field.startswith("customFields.")}
    sent: list[str] = []
    try:
        name = next((f for f in restores if f.field == "name"), None)
        ext = next((f for f in restores if f.field == "externalId"), None)
        if name is not None and not rules.requires_external_id:
            result = client.create_accounts([{"domain": row.domain, "name": name.old}],
                                            upsert=True)
            item = result.items[0] if result.items else None
            if item is None or item.status not in ("updated", "created"):
                return RowState.FAILED.value, (item.error if item else "") or "No answer."
            sent.append(name.text())
        if ext is not None:
            client.map_external_ids([{"domain": row.domain, "externalId": str(ext.old)}])
            sent.append(ext.text())
        if custom:
            key = (row.account.rtp_aid if rules.account_update_key == "rtp_aid"
                   else row.account.external_id) if row.account else row.key
            client.update_account(str(key), custom)
            sent.extend(f.text() for f in restores if f.field.startswith("customFields."))
    except (RequestRejected, NotFound) as exc:
        done = f" Restored before the refusal: {'; '.join(sent)}." if sent else ""
        return RowState.FAILED.value, f"The server refused: {exc.server_message}.{done}"
    others = [f.text() for f in row.fields if f.verdict is not Verdict.RESTORE]
    return RowState.UPDATED.value, "; ".join(["Restored " + "; ".join(sent), *others])


def run_revert(
    history: History,
    plan: RevertPlan,
    connection: ConnectionSpec,
    *,
    cancel: CancelToken | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
) -> RevertResult:
    """Send ``plan`` as a new run linked to the reverted one; one outcome per row."""
    cancel = cancel or CancelToken()
    target = RunTarget.of(connection)
    original = history.get_run(plan.run_id)
    run_id = history.create_run(RunInfo(
        kind=plan.kind,
        file_name=f"Undo of run {plan.run_id}",
        options_json=json.dumps({"revert_of": plan.run_id}),
        profile=target.profile, edition=target.edition, host=target.host,
        base_url=target.base_url, total_rows=len(plan.rows), parent_run_id=plan.run_id,
    ))
    counts: dict[str, int] = {}
    outcomes: list[RowOutcome] = []
    state = RunState.FINISHED
    message = ""
    try:
        with connection.open(cancel_event=cancel.stop_event, **dict(client_kwargs or {})) as c:
            for row in plan.rows:
                if cancel.cancelled:
                    state = RunState.CANCELLED
                    outcomes.append(RowOutcome(row.row, RowState.NOT_SENT.value,
                                               "Not sent: the undo was cancelled."))
                    continue
                if not row.restores:
                    already = all(f.verdict is Verdict.ALREADY for f in row.fields)
                    s = RowState.UNCHANGED.value if already else RowState.SKIPPED.value
                    outcomes.append(RowOutcome(row.row, s, row.text(), _ids(row)))
                    continue
                s, text = _send_row(c, connection.rules, row)
                outcomes.append(RowOutcome(row.row, s, text, _ids(row)))
    except RecotapError as exc:
        state, message = RunState.ABORTED, exc.message
        done = {o.row for o in outcomes}
        outcomes.extend(RowOutcome(r.row, RowState.NOT_SENT.value, f"Not sent: {exc.message}")
                        for r in plan.rows if r.row not in done)
    history.set_outcomes(run_id, outcomes)
    for o in outcomes:
        counts[o.state] = counts.get(o.state, 0) + 1
    if plan.created and not message:
        message = (f"{len(plan.created):,} accounts run {plan.run_id} created cannot be "
                   "removed (the API has no delete).")
    history.finish_run(run_id, state.value, counts)
    history.set_note(run_id, message or f"Undo of run {plan.run_id} ({original.file_name}).")
    return RevertResult(run_id, plan, counts, state, message)


def _ids(row: RowRevert) -> dict[str, str]:
    ids = {"domain": row.domain, "planned": "revert", "changes": row.text()}
    if row.key:
        ids["key"] = row.key
    return ids


def describe_rows(rows: Sequence[RowRevert]) -> list[str]:
    """One line per row for a terminal or a confirmation dialog."""
    return [f"row {r.row} {r.domain}: {r.text()}" for r in rows]
