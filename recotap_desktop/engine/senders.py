"""Send one batch of payload items of one import kind and turn the answer into outcomes.

A sender maps an import kind to its endpoint and reads the server's per-item answers.
Whole-request errors are raised (the runner decides: isolate, abort, or journal for
resume). Reconciliation of repeated writes lives here because only here do we know
what a duplicate answer looks like for each endpoint:

* accounts / activities: a repeat of a write whose first answer was lost comes back
  per item as ``failed ... already exists``; when the request may have been repeated
  (the client says so, or the batch was journaled without an answer before a crash)
  that answer means *delivered* and the row is marked ``created`` (reconciled).
* deals, ID mappings and account fields are idempotent upserts: a repeat is harmless.
* pipelines (``POST /deal-stages``) are all-or-nothing and create-only: a 409 names
  the pipelines that exist. On a possible repeat they count as delivered; otherwise
  they fail with the server's message, and the rest of the batch is sent again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from recotap_desktop.api import (
    BulkResult,
    Conflict,
    NotFound,
    RecotapClient,
    RequestRejected,
)
from recotap_desktop.domain.editions import EditionRules
from recotap_desktop.engine.states import ItemOutcome, Reason, RowState, state_from_server
from recotap_desktop.engine.wording import join_sentences

#: A per-item error that says the record already exists: the server's words are the only
#: source, so they are read here, once, and become :attr:`Reason.ALREADY_EXISTS`.
_DUPLICATE_RE = re.compile(r"already exist|duplicate", re.IGNORECASE)
#: Where a 409 of ``POST /deal-stages`` starts listing the pipelines that exist.
_PIPELINES_LIST_RE = re.compile(r"already exists?\s*:?", re.IGNORECASE)

RECONCILED_MESSAGE = (
    "Delivered: an earlier attempt reached the server but its answer was lost; "
    "the server's duplicate answer confirms it (reconciled)."
)


def _reconciled(ids: dict[str, str]) -> ItemOutcome:
    return ItemOutcome(
        RowState.CREATED, RECONCILED_MESSAGE, ids, True, Reason.RECONCILED, repeated=True
    )


@dataclass(frozen=True, slots=True)
class SendOptions:
    segment_id: str | None = None
    upsert: bool = False


Sender = Callable[
    [RecotapClient, Sequence[Mapping[str, Any]], SendOptions, bool], list[ItemOutcome]
]


def _bulk_outcomes(result: BulkResult, repeated: bool) -> list[ItemOutcome]:
    repeated = repeated or result.possibly_repeated
    outcomes: list[ItemOutcome] = []
    for item in result.items:
        state = state_from_server(item.status)
        message = item.error or ""
        if state is None:
            state = RowState.FAILED
            message = (
                f"The server answered with an unknown status {item.status!r}. {message}".strip()
            )
        exists = state is RowState.FAILED and bool(_DUPLICATE_RE.search(message))
        if exists and repeated:
            outcomes.append(_reconciled(item.ids))
            continue
        if state is RowState.FAILED and not message:
            message = "The server reported this item as failed without giving a reason."
        reason = Reason.ALREADY_EXISTS if exists else Reason.NONE
        outcomes.append(ItemOutcome(state, message, item.ids, reason=reason, repeated=repeated))
    return outcomes


def exists_hint(rules: EditionRules) -> str:
    """What to do about an account row refused because the account exists."""
    if rules.supports_upsert:
        return "To update existing accounts, send again with upsert (update existing) switched on."
    return (
        "The CRM API cannot update an existing account through an account import; "
        "its custom-field values can be changed with an account field values import."
    )


def send_accounts(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    result = client.create_accounts(
        list(items), segment_id=options.segment_id, upsert=options.upsert
    )
    hint = exists_hint(client.rules)
    return [
        replace(o, message=join_sentences(o.message, hint))
        if o.reason is Reason.ALREADY_EXISTS else o
        for o in _bulk_outcomes(result, repeated)
    ]


def send_deals(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    return _bulk_outcomes(client.push_deals(list(items)), repeated)


def send_activities(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    return _bulk_outcomes(client.push_sales_activities(list(items)), repeated)


def send_pipelines(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    outcomes: dict[int, ItemOutcome] = {}
    pending = list(range(len(items)))
    while pending:
        try:
            result = client.push_deal_stages([items[i] for i in pending])
        except Conflict as exc:
            named = conflicting_pipelines(exc, [str(items[i].get("pipelineId")) for i in pending])
            hit = [i for i in pending if str(items[i].get("pipelineId")) in named]
            if not hit and len(pending) == 1:
                hit = pending  # a one-pipeline request: the conflict is about it
            if not hit:
                # The answer names none of them in a way we can read: send each alone, so
                # that every 409 is about one pipeline (all-or-nothing: nothing was created).
                for i in pending:
                    outcomes[i] = send_pipelines(client, [items[i]], options, repeated)[0]
                break
            was_repeat = repeated or bool(getattr(exc, "possibly_repeated", False))
            for i in hit:
                ids = {"pipelineId": str(items[i]["pipelineId"])}
                if was_repeat:
                    outcomes[i] = _reconciled(ids)
                else:
                    outcomes[i] = ItemOutcome(
                        RowState.FAILED,
                        join_sentences(
                            exc.server_message,
                            "The documented API cannot change an existing pipeline; its "
                            "stages stay as they are in Recotap.",
                        ),
                        ids,
                        reason=Reason.ALREADY_EXISTS,  # a 409: the pipeline exists
                    )
            pending = [i for i in pending if i not in hit]
            continue
        for i, outcome in zip(pending, _bulk_outcomes(result, repeated), strict=True):
            outcomes[i] = outcome
        break
    return [outcomes[i] for i in range(len(items))]


def conflicting_pipelines(exc: Conflict, sent: Sequence[str]) -> set[str]:
    """Which of the ``sent`` pipeline ids a 409 of ``POST /deal-stages`` names as existing.

    From the answer's structure when it lists them (``data`` holding ids or objects with
    ``pipelineId``); else from the text after "already exist(s):", where each sent id
    is looked for whole (so ``sales.v2`` is neither cut at its dot nor taken for
    ``sales``): it must stand between the list's separators (a comma, the end, or a
    full stop that ends the sentence).
    """
    wanted = set(sent)
    listed = {str(v) for v in _ids_in(exc.data)} & wanted
    if listed:
        return listed
    text = exc.server_message or ""
    found = _PIPELINES_LIST_RE.search(text)
    if not found:
        return set()
    tail = text[found.end():]
    named: set[str] = set()
    for pid in wanted:
        pattern = r"(?:^|[\s,;\[(\"'])" + re.escape(pid) + r"(?=$|[\s,;\])\"']|\.(?:\s|$))"
        if pid and re.search(pattern, tail):
            named.add(pid)
    return named


def _ids_in(data: object) -> list[object]:
    if isinstance(data, Mapping):
        for key in ("pipelineIds", "pipelines", "existing", "conflicts"):
            if key in data:
                return _ids_in(data[key])
        return [data["pipelineId"]] if "pipelineId" in data else []
    if isinstance(data, list):
        out: list[object] = []
        for entry in data:
            if isinstance(entry, str | int):
                out.append(entry)
            elif isinstance(entry, Mapping) and "pipelineId" in entry:
                out.append(entry["pipelineId"])
        return out
    return []


def send_id_mappings(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    result = client.map_external_ids(
        [{"domain": i["domain"], "externalId": i["externalId"]} for i in items]
    )
    not_found = {d.strip().lower() for d in result.not_found}
    unwritten = max(0, result.matched - result.updated)
    note = (
        f"Matched; the server reported writing {result.updated} of {result.matched} matched "
        "accounts in this request (an account may already have had this ID)."
        if unwritten
        else ""
    )
    outcomes = []
    for item in items:
        ids = {"domain": str(item["domain"]), "externalId": str(item["externalId"])}
        if str(item["domain"]).lower() in not_found:
            outcomes.append(
                ItemOutcome(
                    RowState.FAILED,
                    f"No Recotap account has the domain {item['domain']}; nothing was written.",
                    ids,
                )
            )
        else:
            outcomes.append(ItemOutcome(RowState.UPDATED, note, ids))
    return outcomes


def send_account_fields(
    client: RecotapClient, items: Sequence[Mapping[str, Any]], options: SendOptions, repeated: bool
) -> list[ItemOutcome]:
    outcomes = []
    for item in items:
        key = str(item["key"])
        ids = {client.rules.account_update_key: key}
        try:
            message = client.update_account(key, item["customFields"])
        except NotFound as exc:
            if exc.server_message.startswith("Cannot "):
                raise  # the server does not know the path: wrong edition or base URL
            outcomes.append(
                ItemOutcome(
                    RowState.FAILED,
                    f"No Recotap account with {client.rules.account_update_key} {key!r}. "
                    f"({exc.server_message})",
                    ids,
                )
            )
            continue
        except RequestRejected as exc:
            # A PUT carries one account: its 400 is about this row only.
            outcomes.append(ItemOutcome(RowState.FAILED, exc.server_message, ids))
            continue
        outcomes.append(
            ItemOutcome(RowState.UPDATED, "" if "success" in message.lower() else message, ids)
        )
    return outcomes


SENDERS: dict[str, Sender] = {
    "accounts": send_accounts,
    "deals": send_deals,
    "pipelines": send_pipelines,
    "activities": send_activities,
    "id-mappings": send_id_mappings,
    "account-fields": send_account_fields,
}

#: Kinds whose request carries several rows and is validated as a whole by the server:
#: a validation 400 is isolated by splitting the batch.
BULK_KINDS = frozenset({"accounts", "deals", "pipelines", "activities", "id-mappings"})
