"""The connection a run belongs to: recorded when it starts, checked before it continues.

A run sends its rows to one workspace. Its connection (name, normalised base URL and
edition; never the key) is recorded in the history when it starts, and a resume or a
retry goes to exactly that connection: :func:`check_run_target` refuses any other,
before anything is sent. Sending the remaining rows somewhere else is only done when the
user chose that connection explicitly (``other_connection=True`` in
:mod:`recotap_desktop.engine.jobs`), and then as a new run on the chosen connection,
linked to the old one, so every run keeps exactly one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from recotap_desktop.api.errors import ConfigError
from recotap_desktop.api.urls import normalise_base_url
from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.plan import PlanError

if TYPE_CHECKING:
    from recotap_desktop.engine.connection import ConnectionSpec
    from recotap_desktop.store.history import RunRecord

__all__ = ["RunTarget", "WrongConnection", "check_run_target", "run_host", "run_target_problem"]


def comparable_base_url(base_url: str | None, edition: str) -> str:
    """``base_url`` as the client uses it (the edition's default when empty): lower-case
    scheme and host, one trailing slash. A URL the client would refuse is kept as typed
    (stripped), so it can still be compared and shown."""
    try:
        return normalise_base_url(base_url, edition, allow_insecure_http=True)
    except ConfigError:
        return (base_url or "").strip()


@dataclass(frozen=True, slots=True)
class RunTarget:
    """Where a run sends its rows: the connection's name, base URL and edition."""

    profile: str
    base_url: str
    edition: str

    @classmethod
    def make(cls, profile: str, base_url: str | None, edition: str | None) -> RunTarget:
        name = rules_for(edition).name
        return cls(profile, comparable_base_url(base_url, name), name)

    @classmethod
    def of(cls, spec: ConnectionSpec) -> RunTarget:
        """The target of a connection about to be used."""
        return cls.make(spec.profile, spec.base_url, spec.edition)

    @classmethod
    def of_run(cls, run: RunRecord) -> RunTarget | None:
        """The connection ``run`` was started on; ``None`` when it is not known (a run
        recorded before the history kept the base URL)."""
        if not run.base_url or run.profile is None or not run.edition:
            return None
        return cls(run.profile, run.base_url, rules_for(run.edition).name)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def title(self) -> str:
        """``“B” (host, CRM API (Revision A))`` for messages."""
        return f"“{self.profile}” ({self.host}, {rules_for(self.edition).title})"


def run_host(run: RunRecord) -> str:
    """The host ``run`` sent its rows to, as the history knows it."""
    recorded = RunTarget.of_run(run)
    if recorded is not None:
        return recorded.host
    return run.host or "host not recorded"


class WrongConnection(PlanError):
    """A run may only be continued on its own connection; nothing was sent.

    ``reason``: ``"other"`` (the connection given is not the run's: another name, base
    URL or edition) or ``"unknown"`` (the run was recorded without its connection).
    ``recorded`` is the run's target (``None`` when unknown), ``recorded_host`` the host
    the history names for it, ``given`` the target that was refused.
    """

    def __init__(
        self, message: str, *, run_id: int, reason: str, recorded: RunTarget | None,
        recorded_host: str | None, given: RunTarget,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.reason = reason
        self.recorded = recorded
        self.recorded_host = recorded_host
        self.given = given


def run_target_problem(run: RunRecord, target: RunTarget) -> WrongConnection | None:
    """Why ``run`` must not be continued on ``target`` (None: it is the run's own)."""
    recorded = RunTarget.of_run(run)
    if recorded == target:
        return None
    if recorded is None:
        where = f" to {run.host}" if run.host else ""
        name = f" as “{run.profile}”" if run.profile else ""
        return WrongConnection(
            f"Run {run.id} was recorded before runs remembered their connection (it was sent"
            f"{name}{where}), so it is not known which workspace has its rows. Nothing was "
            f"sent. Choose the connection for its remaining rows explicitly.",
            run_id=run.id, reason="unknown", recorded=None, recorded_host=run.host,
            given=target,
        )
    if recorded.profile == target.profile:
        now = f"now points to {target.host}" if recorded.host != target.host else (
            f"now uses {target.base_url} ({rules_for(target.edition).title})")
        change = f"the connection “{target.profile}” {now}"
    else:
        change = f"the connection given now is {target.title}"
    return WrongConnection(
        f"Run {run.id} sent its rows to {recorded.title}; {change}. A run is only continued "
        f"on its own connection, so nothing was sent. To send its remaining rows to another "
        f"connection, choose that connection explicitly.",
        run_id=run.id, reason="other", recorded=recorded, recorded_host=recorded.host,
        given=target,
    )


def check_run_target(run: RunRecord, spec: ConnectionSpec) -> None:
    """Raise :class:`WrongConnection` unless ``spec`` is the connection ``run`` belongs to."""
    problem = run_target_problem(run, RunTarget.of(spec))
    if problem is not None:
        raise problem
