"""What every command shares: the context (paths, settings, connection, history),
the error that ends a command, progress on the terminal, Ctrl-C as a cancel, the
confirmation question, the checks of the paths a run writes, and its report files."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.progress import (
    CancelMode,
    CancelToken,
    ProgressSnapshot,
    format_duration,
)
from recotap_desktop.engine.report import failures_path, write_report_file
from recotap_desktop.engine.states import SUCCESS_STATES
from recotap_desktop.errors import (
    EXIT_API,
    EXIT_USAGE,
    UserError,
)
from recotap_desktop.files.targets import TargetProblem, check_data_dir, check_target
from recotap_desktop.session import NoApiKey, Overrides, Session
from recotap_desktop.store.history import History
from recotap_desktop.store.paths import AppPaths, DataDirError, app_paths
from recotap_desktop.store.platform_checks import FirstKeychainUse, data_dir_warnings
from recotap_desktop.store.secrets import KeychainUnavailable, KeyStore
from recotap_desktop.store.settings import Settings, SettingsError

DEFAULT_PROFILE = "default"


class CliError(UserError):
    """A command cannot do what was asked; ends the command with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # per instance here


# ---------------------------------------------------------------- context
class Context:
    """What every command needs: paths, settings, the connection, the history. The
    connection rule, the keys and the settings are the :class:`Session`'s, as in the app.

    ``client_kwargs`` (for tests and embedding, see :func:`recotap_desktop.cli.main`)
    go to every API client a command opens for its work: the commands pass
    :attr:`client_kwargs` on to :meth:`ConnectionSpec.open` and to the engine.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        env: dict[str, str],
        *,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.args = args
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.env = env
        #: Extra keyword arguments of every API client the commands open (none by default).
        self.client_kwargs: dict[str, Any] = dict(client_kwargs or {})
        self.paths: AppPaths = app_paths(args.data_dir)
        self._settings: Settings | None = None
        self._history: History | None = None
        self.keystore = KeyStore(before_first_use=self._explain_keychain)
        self.session = Session(
            self.paths, self.keystore, env=env,
            overrides=Overrides(base_url=args.base_url, edition=args.edition,
                                allow_insecure_http=bool(args.allow_insecure_http)),
        )
        for warning in data_dir_warnings(self.paths, env):  # every command, once
            self.err(f"warning: {warning}")

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self.ensure_paths()
            try:
                self._settings = self.session.settings
            except SettingsError as exc:
                raise CliError(exc.message) from exc
            for warning in self._settings.warnings:
                self.err(f"warning: {warning}")
        return self._settings

    def ensure_paths(self) -> AppPaths:
        """The app's folders, created; exit 2 with the reason when they cannot be."""
        try:
            return self.paths.ensure()
        except DataDirError as exc:
            raise CliError(exc.message) from exc

    @property
    def history(self) -> History:
        """The history; opening it marks runs whose owner is gone as interrupted."""
        if self._history is None:
            self._history = History.open(self.ensure_paths())
        return self._history

    def _explain_keychain(self) -> None:
        """macOS: say why the OS may now ask for the keychain (once per user)."""
        FirstKeychainUse(self.settings, lambda text: self.err(f"note: {text}"))()

    def close(self) -> None:
        if self._history is not None:
            self._history.close()

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr, flush=True)

    @property
    def profile_name(self) -> str:
        return self.args.profile or self.settings.active_profile or DEFAULT_PROFILE

    def base_url_overridden(self) -> bool:
        """Whether ``--base-url`` or ``RECOTAP_BASE_URL`` says where to send, so that a
        connection needs no saved profile."""
        return bool(self.args.base_url or self.session.env_base_url())

    def connection(self, *, need_key: bool = True, name: str | None = None) -> ConnectionSpec:
        """The connection of profile ``name`` (default: ``--profile`` or the active one), with
        ``--base-url``/``--edition``/``RECOTAP_BASE_URL`` applied over its settings (the
        session's rule, the same as the app's)."""
        name = name or self.profile_name
        self.settings  # noqa: B018  # read here: its errors and warnings are the command's
        try:
            return self.session.connection(name, need_key=need_key)
        except KeychainUnavailable as exc:
            raise CliError(exc.message, EXIT_API) from exc
        except NoApiKey as exc:
            raise CliError(
                f"No API key for connection {name!r}. Store one with "
                f"`recotap --profile {name} auth set`, or set RECOTAP_API_KEY.",
                EXIT_API,
            ) from exc


# ---------------------------------------------------------------- progress
class TerminalProgress:
    """A live bar on a terminal, plain lines every few seconds otherwise (on stderr)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0
        self._lock = threading.Lock()
        self._drawn = False

    def update(self, snapshot: ProgressSnapshot) -> None:
        now = time.monotonic()
        with self._lock:
            final = snapshot.total is not None and snapshot.done >= snapshot.total
            if not final and now - self._last < (0.2 if self.tty else 5.0):
                return
            self._last = now
            rate = f"{snapshot.rate:,.0f} rows/s" if snapshot.rate else "-- rows/s"
            total = f"{snapshot.total:,}" if snapshot.total is not None else "?"
            line = (
                f"{self.label} [{snapshot.phase.value}] {snapshot.done:,}/{total} rows, {rate}, "
                f"ETA {format_duration(snapshot.eta)}"
            )
            if self.tty:
                frac = snapshot.fraction or 0.0
                bar = "#" * int(frac * 30)
                self.stream.write(f"\r[{bar:<30}] {line}\x1b[K")
                self._drawn = True
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self.tty and self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


class _SigintCancel:
    """First Ctrl-C: finish batches in flight; second: stop now. Restores the handler."""

    def __init__(self, token: CancelToken, ctx: Context) -> None:
        self.token = token
        self.ctx = ctx
        self._previous: Any = None

    def __enter__(self) -> _SigintCancel:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.token.cancelled:
            self.token.cancel(CancelMode.STOP_NOW)
            self.ctx.err("\nStopping now.")
        else:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)
            self.ctx.err(
                "\nCancelling: finishing the requests in flight (Ctrl-C again to stop now)."
            )

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


# ---------------------------------------------------------------- commands


def _preflight(
    ctx: Context,
    value: str | None,
    *,
    inputs: Sequence[str | Path | None] = (),
    label: str = "--report",
    failures: bool = True,
) -> Path | None:
    """Every path the run will write, checked before its first request (exit 2, nothing
    sent): the data folder (journal), and ``value`` with its failures-only file beside it
    (see :mod:`recotap_desktop.files.targets`). Returns the checked path, if any."""
    try:
        check_data_dir(ctx.ensure_paths().data_dir)
        if not value:
            return None
        target = check_target(value, inputs=inputs, label=label)
        if failures:
            check_target(failures_path(target), inputs=inputs,
                         label=f"The failures-only file of {label}")
        return target
    except TargetProblem as exc:
        raise CliError(f"{exc.message} Nothing was sent.") from exc



@dataclass
class Written:
    """The files a command wrote (or could not write), for its closing lines."""

    files: list[tuple[str, Path, Path]] = field(default_factory=list)  # (what, asked, path)
    error: str = ""

    def lines(self) -> list[str]:
        out = []
        for what, asked, path in self.files:
            if path != asked:
                out.append(f"{asked} could not be replaced (it is open in another program, "
                           f"such as Excel): the {what.lower()} was written to {path} instead.")
            out.append(f"{what}: {path}")
        if self.error:
            out.append(self.error)
        return out


def _write_reports(
    ctx: Context, run_id: int, report: Path | None, *, dry_run: bool = False
) -> Written:
    """Write the results (and failures-only) files; what was written, and the error."""
    written = Written()
    if report is None:
        return written
    try:
        path, _n = write_report_file(report, ctx.history, run_id)
        written.files.append(("Report", report, path))
        result_counts = ctx.history.counts(run_id)
        failed = any(
            n for s, n in result_counts.items() if s not in {x.value for x in SUCCESS_STATES}
        )
        if failed and not dry_run:
            asked = failures_path(report)
            path, _n = write_report_file(asked, ctx.history, run_id, failures_only=True)
            written.files.append(("Failures only (fix and import again as it is)", asked, path))
    except OSError as exc:
        written.error = (
            f"error: could not write the report {report}: {exc.strerror or exc}. The run itself is "
            f"in the history: `recotap history {run_id} --report OTHER.csv` writes it again."
        )
    return written


def _confirm(ctx: Context, question: str) -> bool:
    if ctx.args.yes or not ctx.stdin.isatty():
        return True
    ctx.err(question + " [y/N] ")
    answer = ctx.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


