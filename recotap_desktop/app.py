"""GUI entry point: ``recotap-desktop [--demo] [--data-dir DIR] [--profile NAME]``.

Wires the services together (paths, settings, keychain, history, optional demo
server), sets up logging to a rotating file with the API key masked, installs an
exception hook that shows what happened instead of exiting silently, and opens
the main window.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from recotap_desktop import APP_DISPLAY_NAME, APP_NAME, ORG_NAME, __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from recotap_desktop.api.redact import SecretFilter
    from recotap_desktop.ui.main_window import MainWindow
    from recotap_desktop.ui.services import Services

log = logging.getLogger("recotap_desktop")

LOG_FILE_NAME = "recotap-desktop.log"


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter at a fixed width: argparse makes one for every option it
    adds, and the default asks for the terminal's width (importing shutil) each time,
    which the GUI pays for at every start."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=88)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the GUI."""
    parser = argparse.ArgumentParser(
        prog="recotap-desktop",
        description=f"{APP_DISPLAY_NAME}: move CRM files in and out of Recotap.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--demo", action="store_true",
                        help="start a built-in demo server with sample data (no account needed)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="keep settings, history and logs under DIR instead of the "
                             "usual per-user folders")
    parser.add_argument("--profile", metavar="NAME",
                        help="use the connection NAME for this session")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, check it works, close it and report (for "
                             "installers and support)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="open the import wizard on FILE (CSV, TSV or XLSX); when the "
                             "app already runs, its window gets the file")
    return parser


class RotatingLog(logging.FileHandler):
    """A log file that rolls over like ``logging.handlers.RotatingFileHandler``: before a
    record would take the file past ``max_bytes``, ``name.(N-1)`` becomes ``name.N`` …
    ``name`` becomes ``name.1`` and a new file starts; ``backups`` old files are kept.

    Written on ``logging.FileHandler`` because importing ``logging.handlers`` (socket,
    pickle, queue) costs the GUI several milliseconds at every start (bench_startup.py).
    """

    #: Line ends of the log file: the platform's (CRLF on Windows, so Notepad and support
    #: tools show it as lines), written out explicitly rather than left to text mode.
    newline = "\r\n" if os.name == "nt" else "\n"

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        super().__init__(path, encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups

    def _open(self) -> Any:
        """The log file, created private to the user (``0600`` on POSIX)."""
        from recotap_desktop.store.platform_checks import private_opener

        return open(self.baseFilename, self.mode, encoding=self.encoding,
                    errors=self.errors, newline=self.newline, opener=private_opener)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._should_roll(record):
                self._roll()
        except Exception:  # as logging does: report on stderr, never raise
            self.handleError(record)
            return
        super().emit(record)

    def _should_roll(self, record: logging.LogRecord) -> bool:
        if self.max_bytes <= 0:
            return False
        base = self.baseFilename
        if os.path.exists(base) and not os.path.isfile(base):
            return False  # e.g. /dev/null: nothing to roll
        if self.stream is None:
            self.stream = self._open()
        size = self.stream.tell()
        return size > 0 and size + len(self.format(record)) + 1 >= self.max_bytes

    def _roll(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        base = self.baseFilename
        for i in range(self.backups - 1, 0, -1):
            older = f"{base}.{i}"
            if os.path.exists(older):
                os.replace(older, f"{base}.{i + 1}")
        if os.path.exists(base):  # it may have been deleted while the app ran
            if self.backups > 0:
                os.replace(base, f"{base}.1")
            else:
                os.remove(base)
        self.stream = self._open()


def setup_logging(log_dir: Path, secret_filter: SecretFilter) -> Path:
    """Log to ``<log_dir>/recotap-desktop.log`` (rotating), API keys masked; return the path."""
    from recotap_desktop.store.platform_checks import make_private_dir, make_private_file

    make_private_dir(log_dir)
    log_file = log_dir / LOG_FILE_NAME
    make_private_file(log_file)  # also a log written before the app made its files private
    handler = RotatingLog(log_file, max_bytes=2_000_000, backups=3)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(secret_filter)
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return log_file


def format_exception(exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None, secret_filter: SecretFilter | None) -> str:
    """The traceback text, with registered secrets masked, plus version information."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    text = f"{APP_NAME} {__version__}, Python {sys.version.split()[0]}\n\n{text}"
    return secret_filter.redact(text) if secret_filter is not None else text


def install_excepthook(log_file: Path | None, secret_filter: SecretFilter | None,
                       parent: Callable[[], Any] = lambda: None) -> Any:
    """Show unexpected errors in a dialog (with the log location and Copy details).

    Errors in other threads are logged and shown too (the dialog opens on the GUI
    thread). Returns the QObject that forwards them (keep it alive).
    """
    from PySide6.QtCore import QObject, Signal

    class _Forwarder(QObject):
        crashed = Signal(str, str)

    forwarder = _Forwarder()
    dialogs: list[Any] = []

    def show(summary: str, details: str) -> None:
        # Imported when needed: the dialogs module costs start-up time (bench_startup.py).
        from recotap_desktop.ui.dialogs import CrashDialog

        dialog = CrashDialog(summary, details, log_file, parent())
        dialogs.append(dialog)
        dialog.finished.connect(lambda _r: dialogs.remove(dialog))
        dialog.open()

    forwarder.crashed.connect(show)

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        details = format_exception(exc_type, exc, tb, secret_filter)
        log.critical("unexpected error\n%s", details)
        summary = f"{exc_type.__name__}: {exc}"
        if secret_filter is not None:
            summary = secret_filter.redact(summary)
        forwarder.crashed.emit(summary, details)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return forwarder


#: Longest a thread keeps the GIL while another asks for it (CPython's default: 5 ms).
SWITCH_INTERVAL = 0.001
#: Young-generation threshold of the cyclic collector (CPython's default: 700).
GC_THRESHOLD = (10_000, 20, 100)


def tune_interpreter() -> None:
    """Keep the window smooth while workers run big imports and loads.

    - The GUI thread calls into Python many times per repaint (models, painters, slots)
      and must take the GIL back from a busy worker each time; at the default switch
      interval every one of those waits can last 5 ms, so a repaint took 100-200 ms
      while a results grid loaded. At 1 ms it waits at most 1 ms.
    - CPython's cyclic collector stops every thread while it runs. Objects alive after
      start-up are moved out of its way (``gc.freeze``); young collections run every
      10 000 allocations instead of 700 (fewer pauses), but not so rarely that one
      pause is long (50 000 gave 50-65 ms each). Memory is still reclaimed by
      reference counting as usual.

    Measured by bench/bench_gui_responsiveness.py ("tuned" is this function).
    """
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def create_application(argv: Sequence[str]) -> QApplication:
    """The QApplication with name, organisation, version and window icon set."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_DISPLAY_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    app.setWindowIcon(app_icon())
    return app


#: Sizes of resources/icons/app-N.png put in the window icon. Window managers take
#: 16 to 256 pixels (X11 receives every size as raw pixels when a window is shown, so
#: 512 would cost a megabyte per window); the 512 PNG and the SVG are for installers.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> Any:
    """The app icon (the PNG sizes of ICON_SIZES), from resources/icons."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    from recotap_desktop.resources import resource_path

    icon = QIcon()
    icons = resource_path("icons")
    for size in ICON_SIZES:
        png = icons / f"app-{size}.png"
        if png.exists():
            icon.addFile(str(png), QSize(size, size))
    return icon


def create_services(args: argparse.Namespace, secret_filter: SecretFilter | None = None,
                    **kwargs: Any) -> Services:
    """Services for the options: ``--data-dir``, ``--demo``, ``--profile``."""
    from recotap_desktop.ui.services import Services, open_demo

    services = Services.open(
        args.data_dir, register_secret=secret_filter.add if secret_filter else None, **kwargs)
    if args.demo:
        open_demo(services)
    if args.profile:
        try:
            services.use_profile_for_session(args.profile)
        except KeyError:
            services.settings.warnings.append(
                f"There is no connection called “{args.profile}” (--profile). "
                "The saved active connection is used instead.")
    return services


def install_keychain_notice(services: Services, window: Any) -> Any:
    """macOS: explain the keychain prompt once, before the first keychain access (from
    any thread); elsewhere nothing (no import). Returns the object to keep alive."""
    from recotap_desktop.store.platform_checks import keychain_notice

    if keychain_notice() is None:
        return None
    from recotap_desktop.ui.keychain_notice import KeychainNotice

    return KeychainNotice.install(services, lambda: window)


def preload_qt_free_modules() -> None:
    """Import the Qt-free modules the main window uses, before PySide6 (see :func:`main`)."""
    import recotap_desktop.engine.progress
    import recotap_desktop.resources
    import recotap_desktop.ui.kinds
    import recotap_desktop.ui.messages
    import recotap_desktop.ui.run_format  # noqa: F401


def start_single_instance(args: argparse.Namespace, services: Services | None) -> Any:
    """Hand ``args.files`` to a window already open on the same data folder (``False``:
    handed over, this process ends), else listen for later launches (the server, or
    ``None`` when listening failed; the app then simply runs on its own)."""
    from recotap_desktop.store.paths import app_paths
    from recotap_desktop.ui.single_instance import InstanceServer, hand_over, socket_name

    name = socket_name(app_paths(args.data_dir).data_dir)
    try:
        handed = hand_over(name, list(args.files))
    except ValueError as exc:  # too many file names for one message
        print(f"{APP_NAME}: {exc}", file=sys.stderr)
        handed = False
    if handed:
        log.info("handed %d file(s) to the running window", len(args.files))
        print(f"{APP_NAME}: already running; its window opens "
              + (", ".join(str(f) for f in args.files) or "in front"), flush=True)
        if services is not None:
            services.close()
        return False
    server = InstanceServer(name)
    return server if server.listen() else None


def connect_open_with(app: QApplication, window: MainWindow, instance: Any,
                      files: list[Path]) -> Any:
    """Files from the command line, later launches and macOS Finder go to the window."""
    from PySide6.QtCore import QTimer

    from recotap_desktop.ui.single_instance import FileOpenFilter

    if instance:
        instance.setParent(window)
        instance.files_received.connect(window.open_files)
    file_open = FileOpenFilter(window)
    file_open.files_received.connect(window.open_files)
    if sys.platform == "darwin":  # an application-wide filter costs every event elsewhere
        app.installEventFilter(file_open)
    if files:
        QTimer.singleShot(0, lambda: window.open_files(files))
    return file_open


def build_main_window(services: Services) -> MainWindow:
    """The main window for ``services`` (not shown yet)."""
    from recotap_desktop.ui.main_window import MainWindow

    return MainWindow(services)  # its icon is the application's (create_application)


#: Environment variable: exit as soon as the main window has painted once, printing
#: ``first-paint`` (used by bench/bench_startup.py to time start-up; not for users).
EXIT_AFTER_SHOW_ENV = "RECOTAP_EXIT_AFTER_SHOW"
#: The line printed in that mode once the main window has painted (the benchmark waits for it).
FIRST_PAINT_MARKER = "first-paint"
#: Rows of the accounts file the self-test imports into the sandbox.
SELF_TEST_ROWS = 20
#: The window check gives up after this long, so a broken display never hangs an installer.
SELF_TEST_WINDOW_TIMEOUT_MS = 30_000


def use_offscreen_without_display(env: MutableMapping[str, str] | None = None) -> bool:
    """On Linux without ``DISPLAY``/``WAYLAND_DISPLAY`` choose Qt's offscreen platform.

    Only when ``QT_QPA_PLATFORM`` is not set already; must run before the QApplication
    exists. Returns whether it switched.
    """
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return False
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return False
    env["QT_QPA_PLATFORM"] = "offscreen"
    return True


class SelfTestReport:
    """Collects the self-test's checks; prints one line per check, as it finishes."""

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.results: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str) -> bool:
        """Record and print one check: ``ok   name: detail`` or ``FAIL name: detail``."""
        self.results.append((name, ok, detail))
        line = f"{'ok  ' if ok else 'FAIL'} {name}: {detail}"
        (log.info if ok else log.error)("self-test: %s", line)
        if self.out is not None:
            print(line, file=self.out, flush=True)
        return ok

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run ``check`` (returns the detail for the ``ok`` line; raises on failure)."""
        try:
            detail = check()
        except Exception as exc:  # every failure becomes a FAIL line, never a crash
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return self.add(name, False, str(message))
        return self.add(name, True, detail)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(ok for _name, ok, _detail in self.results)


def _check_window(app: QApplication, window: MainWindow) -> str:
    """Show the main window and wait (event loop) until it has painted."""
    from PySide6.QtCore import QTimer

    painted: list[bool] = []  # on first paint: was the window visible and filled in?

    def done() -> None:
        painted.append(window.isVisible() and bool(window.card.name_label.text()))
        app.quit()

    from recotap_desktop.ui.main_window import when_first_painted

    watcher = when_first_painted(window, done)
    QTimer.singleShot(SELF_TEST_WINDOW_TIMEOUT_MS, app.quit)
    window.show()
    code = app.exec()
    del watcher
    platform = app.platformName()
    if not painted:
        raise RuntimeError(f"the main window did not paint within "
                           f"{SELF_TEST_WINDOW_TIMEOUT_MS // 1000} s on Qt platform {platform!r}")
    if code != 0 or painted != [True]:
        raise RuntimeError(f"the main window opened but is incomplete (Qt platform {platform!r})")
    return f"main window shown and painted (Qt platform {platform})"


def _check_icons() -> str:
    """The bundled icons load: SVG through Qt's image plugin, PNG sizes, the window icon."""
    from PySide6.QtGui import QImage

    from recotap_desktop.resources import resource_path

    svg = resource_path("icons", "app.svg")
    if QImage(str(svg)).isNull():
        raise RuntimeError(f"cannot load {svg} (is Qt's SVG image plugin missing?)")
    pngs = [p for p in (resource_path("icons", f"app-{n}.png") for n in (16, 32, 256))
            if not QImage(str(p)).isNull()]
    if len(pngs) != 3:
        raise RuntimeError(f"PNG icons missing or unreadable in {svg.parent}")
    if app_icon().pixmap(64, 64).isNull():
        raise RuntimeError("the window icon is empty")
    return f"app icon loads (SVG and PNG) from {svg.parent}"


def _check_keychain() -> str:
    """Write, read back and delete an entry in the OS keychain under a throw-away name."""
    import secrets
    import uuid

    from recotap_desktop.store.secrets import KeyStore

    store = KeyStore()
    profile = f"self-test-{uuid.uuid4().hex}"
    value = f"self-test-{secrets.token_hex(16)}"
    try:
        store.set(profile, value)
        if store.get(profile) != value:
            raise RuntimeError(f"{store.backend_name()} returned another value than was written")
    finally:
        store.delete(profile)
    if store.get(profile) is not None:
        raise RuntimeError(f"{store.backend_name()} still has the entry after deleting it")
    return f"wrote, read and deleted an entry in {store.backend_name()}"


def _check_files(folder: Path) -> str:
    """XLSX written with openpyxl and read back with python-calamine; a cp1252 CSV detected."""
    from recotap_desktop.files import iter_rows, sniff
    from recotap_desktop.files.writers import TableWriter

    rows = [["Société Générale", "3"], ["Zürich Versicherung", "4"]]
    xlsx = folder / "self-test.xlsx"
    with TableWriter.open(xlsx, ["Name", "Count"]) as writer:
        for row in rows:
            writer.write_row(row)
    back = [values for _n, values in iter_rows(sniff(xlsx))]
    if back != rows:
        raise RuntimeError(f"the XLSX file read back differently: {back!r}")
    legacy = folder / "self-test-cp1252.csv"
    legacy.write_bytes("Name;Count\r\n".encode("cp1252")
                      + "".join(f"{a};{b}\r\n" for a, b in rows).encode("cp1252"))
    info = sniff(legacy)
    back = [values for _n, values in iter_rows(info)]
    if back != rows:
        raise RuntimeError(f"a cp1252 CSV read back as {back!r} (encoding {info.encoding})")
    return (f"wrote and read an XLSX file; detected a legacy CSV's encoding "
            f"({info.encoding}) and delimiter")


def _write_accounts_csv(path: Path, tag: str) -> list[str]:
    """A small accounts export; returns its domains."""
    import csv

    domains = [f"self-test-{i:02d}-{tag}.example.com" for i in range(SELF_TEST_ROWS)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Record ID", "Company name", "Company Domain Name"])
        for i, domain in enumerate(domains):
            writer.writerow([f"st-{tag}-{i:02d}", f"Self-test Company {i}", domain])
    return domains


def _check_import(folder: Path, report: SelfTestReport) -> None:
    """Start the sandbox, import a small accounts file through the engine, check each row."""
    import uuid
    from dataclasses import replace

    from recotap_desktop.api import RecotapClient
    from recotap_desktop.engine.connection import ConnectionSpec
    from recotap_desktop.engine.jobs import run_import
    from recotap_desktop.engine.plan import ImportJob
    from recotap_desktop.files import sniff
    from recotap_desktop.platform_self_test import check_reports
    from recotap_desktop.records import ColumnMapping, get_kind
    from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
    from recotap_desktop.store.history import History

    server = SandboxServer(port=0, accounts=10)

    def start() -> str:
        server.start()
        with RecotapClient(DEMO_API_KEY, base_url=server.base_url("crm")) as client:
            client.verify()  # an authenticated request over a real socket (httpx)
        return f"local API server started and answering on {server.root_url}"

    if not report.run("sandbox", start):
        server.stop()
        return

    def run() -> str:
        tag = uuid.uuid4().hex[:8]
        csv_path = folder / "self-test-accounts.csv"
        domains = _write_accounts_csv(csv_path, tag)
        connection = ConnectionSpec(base_url=server.base_url("crm"), edition="crm",
                                    api_key=DEMO_API_KEY, profile="self-test")
        kind = get_kind("accounts")
        job = ImportJob(kind=kind.name, path=csv_path, mapping=ColumnMapping({}, {}),
                        rules=connection.rules)
        source = sniff(csv_path)
        job = replace(job, mapping=kind.automap(source.headers, job.context()),
                      encoding=source.encoding, delimiter=source.delimiter)
        history = History(folder / "history.sqlite3")
        opened.append(history)
        result = run_import(job, connection, history)
        outcomes = history.outcomes(result.run_id)
        run_ids.append(result.run_id)
        created = sum(1 for o in outcomes.values() if o.state == "created")
        missing = [d for d in domains if server.state.account_by_domain(d) is None]
        if not result.all_succeeded or created != SELF_TEST_ROWS or missing:
            raise RuntimeError(
                f"{created} of {SELF_TEST_ROWS} rows created (run {result.state.value}"
                f"{': ' + result.message if result.message else ''}); "
                f"{len(missing)} accounts missing in the sandbox")
        return (f"{created} of {SELF_TEST_ROWS} accounts created in the sandbox "
                f"through the engine ({result.requests} request(s))")

    opened: list[History] = []
    run_ids: list[int] = []
    try:
        if report.run("import", run):
            report.run("reports", lambda: check_reports(
                folder, opened[0], run_ids[0], SELF_TEST_ROWS))
    finally:
        for history in opened:
            history.close()
        server.stop()


def self_test(app: QApplication, window: MainWindow, out: TextIO | None = None) -> int:
    """``--self-test``: prove that this copy works on this machine; returns the exit code.

    For installers, packaging CI and support. One line per check (``ok   …`` or
    ``FAIL …``) on standard output and in the log file:

    - window: the main window opens and paints on the current Qt platform;
    - icons: the bundled icons load (Qt's SVG and PNG support);
    - keychain: an entry is written, read back and deleted in the OS keychain
      (a throw-away ``self-test-<uuid>`` connection name);
    - data: the data folder in use (per-user or ``--data-dir``) holds a working SQLite
      database in WAL mode, is private to the user (POSIX), and whether it is in OneDrive;
    - files: an XLSX file is written and read back, a legacy-encoded CSV is detected;
    - sandbox / import: the built-in sandbox server starts and a 20-row accounts file
      goes through the engine into it, every row created (temporary history);
    - reports: that run's results written as CSV (CRLF, BOM), failures-only CSV and XLSX
      into a folder named with spaces and accents, and read back;
    - gatekeeper (macOS app bundle only): what Gatekeeper will say, from the quarantine
      attribute (see :mod:`recotap_desktop.platform_self_test`).

    Exit code 0 only if every check passed. A Windows GUI executable has no console:
    there, read the exit code and the log file (``--data-dir DIR`` puts it in ``DIR/logs``).
    """
    import tempfile

    from recotap_desktop.platform_self_test import check_data_dir, check_gatekeeper

    out = sys.stdout if out is None else out
    report = SelfTestReport(out)
    report.run("window", lambda: _check_window(app, window))
    report.run("icons", _check_icons)
    report.run("keychain", _check_keychain)
    services = window.services
    report.run("data", lambda: check_data_dir(services.paths, services.history_problem))
    with tempfile.TemporaryDirectory(prefix="recotap-self-test-",
                                     ignore_cleanup_errors=True) as tmp:
        report.run("files", lambda: _check_files(Path(tmp)))
        _check_import(Path(tmp), report)
    gatekeeper = check_gatekeeper()
    if gatekeeper is not None:
        report.add("gatekeeper", True, gatekeeper)
    failed = [name for name, ok, _detail in report.results if not ok]
    summary = "ok" if report.ok else f"FAILED ({', '.join(failed)})"
    if out is not None:
        print(f"{APP_NAME} {__version__} self-test: {summary}", file=out, flush=True)
    log.info("self-test: %s", summary)
    return 0 if report.ok else 1


def exit_after_first_paint(app: QApplication, window: MainWindow, out: TextIO | None) -> Any:
    """For the start-up benchmark: print ``first-paint`` once the window has painted, quit."""

    def done() -> None:
        if out is not None:
            print(FIRST_PAINT_MARKER, file=out, flush=True)
        app.quit()

    from recotap_desktop.ui.main_window import when_first_painted

    return when_first_painted(window, done)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI; returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))

    from recotap_desktop.api.redact import SecretFilter
    from recotap_desktop.store.paths import app_paths
    from recotap_desktop.store.secrets import ENV_VAR

    secret_filter = SecretFilter()
    secret_filter.add(os.environ.get(ENV_VAR, "").strip())
    log_file: Path | None
    try:
        log_file = setup_logging(app_paths(args.data_dir).log_dir, secret_filter)
    except OSError as exc:
        print(f"{APP_NAME}: cannot write the log file ({exc}); continuing without it",
              file=sys.stderr)
        log_file = None
    log.info("%s %s starting (demo=%s)", APP_NAME, __version__, args.demo)

    if args.self_test and use_offscreen_without_display():
        print(f"{APP_NAME}: no display found; the self-test uses Qt's offscreen platform",
              flush=True)
    # The Qt-free part first (settings, history, the modules the window needs): PySide6
    # inspects the source of every module imported after it (for its __feature__ imports),
    # 4-8 ms at start-up that these modules do not need.
    services: Services | None = None
    problem = ""
    try:
        services = create_services(args, secret_filter)
    except Exception as exc:  # settings unreadable, folder not writable, port unavailable ...
        problem = getattr(exc, "message", None) or str(exc)
        log.error("cannot start: %s", problem, exc_info=True)
    preload_qt_free_modules()
    app = create_application([sys.argv[0]] if sys.argv else [APP_NAME])
    instance = None if args.self_test else start_single_instance(args, services)
    if instance is False:
        return 0
    window_ref: list[Any] = []
    forwarder = install_excepthook(log_file, secret_filter,
                                   parent=lambda: window_ref[0] if window_ref else None)
    if services is None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, APP_DISPLAY_NAME,
                             f"{APP_DISPLAY_NAME} cannot start:\n\n{problem}"
                             + (f"\n\nLog file: {log_file}" if log_file else ""))
        return 2
    app.aboutToQuit.connect(services.close)
    window = build_main_window(services)
    window_ref.append(window)
    if args.self_test:
        return self_test(app, window)
    notice = install_keychain_notice(services, window)
    watcher = None
    if os.environ.get(EXIT_AFTER_SHOW_ENV, "") not in ("", "0"):
        watcher = exit_after_first_paint(app, window, sys.stdout)
    window.show()
    from PySide6.QtCore import QTimer

    if watcher is None:
        QTimer.singleShot(0, window.run_startup_checks)
    file_open = connect_open_with(app, window, instance, list(args.files))
    tune_interpreter()
    code = app.exec()
    del forwarder, notice, file_open
    return int(code)
