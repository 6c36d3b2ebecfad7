"""A local Recotap API server for tests, benchmarks and the app's demo mode.

Serves both editions over one shared data set (Revision A under ``/api/v1/crm/``,
Revision B under ``/api/v1/``) on real sockets, with fault injection
(:class:`Faults`) and a loopback-only inspection route (``/_sandbox/...``).

Sandbox-only server-side rules that the client does NOT check (they exist so the
engine's batch isolation can be exercised): a deal's ``dealCurrencyCode`` must be
an ISO 4217 code from a fixed list (``validation.CURRENCY_CODES``, compared
case-insensitively); an account ``name`` and an activity ``subject`` may have at
most 255 characters. A violation rejects the whole request with the documented
400 validation envelope (``data: [{"property": "dealCurrencyCode", "constraints":
{"isISO4217CurrencyCode": "dealCurrencyCode must be a valid ISO 4217 currency
code"}}]``, ``maxLength`` for the lengths); nothing in that request is processed.

As strict as the reference wherever it states a rule: writes need
``Content-Type: application/json`` (400 otherwise), every request object refuses
properties it does not document (400 ``whitelistValidation``), a contact needs an
e-mail, each endpoint takes only its documented query parameters, and custom-field
keys come from the label as given (no trimming). ``Faults(shuffle_results=True)``
(``--shuffle-results``) answers per-item results in another order than the request's.

Modules: ``server`` (sockets, faults, inspection), ``routes`` (endpoints),
``state`` (data set and business rules), ``validation`` (class-validator style
checks), ``data`` (deterministic seed), ``faults``, ``fixtures``, ``cli``.
"""

from __future__ import annotations

from recotap_desktop.sandbox.faults import Faults
from recotap_desktop.sandbox.server import DEMO_API_KEY, SandboxServer
from recotap_desktop.sandbox.state import RequestRecord, SandboxState

__all__ = ["DEMO_API_KEY", "Faults", "RequestRecord", "SandboxServer", "SandboxState"]
