"""Which edition a workspace speaks, found by asking it (issue 18, finding 8).

A user does not know whether their workspace answers the "CRM API (Revision A)" under
``…/api/v1/crm/`` or the "External API (Revision B)" under ``…/api/v1/``. Instead of
asking, :func:`detect_edition` makes the cheapest authenticated call
(``GET segments?limit=1``, :meth:`RecotapClient.verify`) on both base paths with the
key and picks the edition that answers. When neither does, :class:`Detection` says
plainly why, from the errors' types and status codes (key refused, path unknown,
server unreachable, server trouble), never from their text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from recotap_desktop.api.errors import (
    ApiStatusError,
    AuthError,
    NotFound,
    RecotapError,
    TransportError,
)
from recotap_desktop.api.urls import normalise_base_url
from recotap_desktop.domain.editions import CRM, EXTERNAL, Edition, EditionRules, rules_for

if TYPE_CHECKING:
    import httpx

__all__ = ["Detection", "Probe", "ProbeOutcome", "candidate_bases", "detect_edition"]


class ProbeOutcome(StrEnum):
    OK = "ok"
    KEY_REFUSED = "key_refused"  # 401
    NOT_FOUND = "not_found"  # 404: no such path on this server
    UNREACHABLE = "unreachable"  # no answer (connect, timeout, TLS, garbled)
    SERVER_TROUBLE = "server_trouble"  # any other status (5xx, 429, 400...)


@dataclass(frozen=True, slots=True)
class Probe:
    """One edition's answer: where it was asked and what came back."""

    rules: EditionRules
    base_url: str
    outcome: ProbeOutcome
    error: RecotapError | None = None


def _outcome(exc: RecotapError) -> ProbeOutcome:
    if isinstance(exc, AuthError):
        return ProbeOutcome.KEY_REFUSED
    if isinstance(exc, NotFound):
        return ProbeOutcome.NOT_FOUND
    if isinstance(exc, TransportError):
        return ProbeOutcome.UNREACHABLE
    return ProbeOutcome.SERVER_TROUBLE


@dataclass(frozen=True, slots=True)
class Detection:
    """The probes and the edition chosen from them (``None`` when neither answered)."""

    probes: tuple[Probe, ...]
    chosen: Probe | None

    @property
    def rules(self) -> EditionRules | None:
        return self.chosen.rules if self.chosen else None

    @property
    def both_answered(self) -> bool:
        return sum(p.outcome is ProbeOutcome.OK for p in self.probes) > 1

    def outcome_of(self, edition: Edition | str) -> ProbeOutcome:
        wanted = rules_for(edition).edition
        return next(p.outcome for p in self.probes if p.rules.edition is wanted)

    @property
    def message(self) -> str:
        """One paragraph for a person: what was found, or why nothing was."""
        if self.chosen is not None:
            text = f"the workspace speaks the {self.chosen.rules.title}"
            if self.both_answered:
                text = (f"both API editions answer; keeping the {self.chosen.rules.title} "
                        "(change it under Advanced)")
            return text
        outcomes = {p.outcome for p in self.probes}
        host = self.probes[0].base_url.split("/")[2] if self.probes else ""
        if ProbeOutcome.KEY_REFUSED in outcomes:
            return (f"{host} refused the API key (401) on every API path. Copy the key "
                    "again from Recotap (Settings → API), and check that API access is "
                    "enabled for the workspace.")
        if outcomes == {ProbeOutcome.UNREACHABLE}:
            first = self.probes[0].error
            why = f" ({first.message})" if first is not None else ""
            return (f"Could not reach {host}{why}. Check the network, a proxy or VPN, "
                    "and the base URL.")
        if outcomes == {ProbeOutcome.NOT_FOUND}:
            paths = " nor ".join(p.base_url + "segments" for p in self.probes)
            return (f"Neither API edition answered: {paths} is unknown to the server "
                    "(404). Check the base URL.")
        trouble = next((p for p in self.probes
                        if p.outcome is ProbeOutcome.SERVER_TROUBLE), None)
        if trouble is not None and isinstance(trouble.error, ApiStatusError):
            return (f"{host} answered with a problem ({trouble.error.status_code}) on the "
                    f"{trouble.rules.title} path; try again later.")
        return f"Neither API edition answered on {host}. Check the base URL."


def candidate_bases(base_url: str | None, allow_insecure_http: bool = False
                    ) -> dict[Edition, str]:
    """The base URL of each edition next to ``base_url`` (``None``: Recotap's defaults).

    ``…/api/v1/crm/`` and ``…/api/v1/`` are siblings: a URL ending in ``crm/`` gives
    its parent as the External base, any other URL gives ``crm/`` below it as the CRM
    base. Raises :class:`~recotap_desktop.api.errors.ConfigError` for an unusable URL.
    """
    if not (base_url or "").strip():
        return {CRM.edition: CRM.default_base_url, EXTERNAL.edition: EXTERNAL.default_base_url}
    url = normalise_base_url(base_url, None, allow_insecure_http)
    root = url[: -len("crm/")] if url.endswith("/crm/") else url
    return {CRM.edition: root + "crm/", EXTERNAL.edition: root}


def detect_edition(
    api_key: str,
    *,
    base_url: str | None = None,
    preferred: Edition | str | None = None,
    allow_insecure_http: bool = False,
    transport: httpx.BaseTransport | None = None,
    cancel_event: threading.Event | None = None,
    timeout: float = 15.0,
) -> Detection:
    """Ask both editions' base paths with ``api_key`` and choose the one that answers.

    When both answer, ``preferred`` (the connection's current edition, default CRM)
    is kept. Raises only :class:`ConfigError` (unusable URL or key) and
    :class:`CancelledError`; every other failure is a probe's outcome.
    """
    from recotap_desktop.api.client import RecotapClient, RetryPolicy
    from recotap_desktop.api.errors import CancelledError

    first = rules_for(preferred).edition
    bases = candidate_bases(base_url, allow_insecure_http)
    order = sorted(bases, key=lambda e: e is not first)
    probes: list[Probe] = []
    for edition in order:
        client = RecotapClient(
            api_key, base_url=bases[edition], edition=edition,
            allow_insecure_http=allow_insecure_http, timeout=timeout,
            retry=RetryPolicy(max_attempts=2, base_delay=0.5, max_total=2 * timeout),
            transport=transport, cancel_event=cancel_event,
        )
        with client:
            try:
                client.verify()
            except CancelledError:
                raise
            except RecotapError as exc:
                probes.append(Probe(rules_for(edition), client.base_url, _outcome(exc), exc))
            else:
                probes.append(Probe(rules_for(edition), client.base_url, ProbeOutcome.OK))
    chosen = next((p for p in probes if p.outcome is ProbeOutcome.OK), None)
    return Detection(tuple(probes), chosen)
