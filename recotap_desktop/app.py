"""GUI entry point: ``recotap-desktop [--demo] [--data-dir DIR] [--profile NAME]``.

Wires the services together (paths, settings, keychain, history, optional demo
server), sets up logging to a rotating file with the API key masked, installs an
exception hook that shows what happened instead of exiting silently, and opens
the main window.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from recotap_desktop import APP_DISPLAY_NAME, APP_NAME, ORG_NAME, __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from recotap_desktop.api.redact import SecretFilter
    from recotap_desktop.ui.main_window import MainWindow
    from recotap_desktop.ui.services import Services

log = logging.getLogger("recotap_desktop")

LOG_FILE_NAME = "recotap-desktop.log"


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the GUI."""
    parser = argparse.ArgumentParser(
        prog="recotap-desktop",
        description=f"{APP_DISPLAY_NAME}: move CRM files in and out of Recotap.",
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
    return parser


def setup_logging(log_dir: Path, secret_filter: SecretFilter) -> Path:
    """Log to ``<log_dir>/recotap-desktop.log`` (rotating), API keys masked; return the path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / LOG_FILE_NAME
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
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

    from recotap_desktop.ui.dialogs import CrashDialog

    class _Forwarder(QObject):
        crashed = Signal(str, str)

    forwarder = _Forwarder()
    dialogs: list[Any] = []

    def show(summary: str, details: str) -> None:
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


def app_icon() -> Any:
    """The app icon (SVG plus the PNG sizes), from resources/icons."""
    from PySide6.QtGui import QIcon

    from recotap_desktop.resources import resource_path

    icon = QIcon()
    icons = resource_path("icons")
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = icons / f"app-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = icons / "app.svg"
    if svg.exists():
        icon.addFile(str(svg))
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


def build_main_window(services: Services) -> MainWindow:
    """The main window for ``services`` (not shown yet)."""
    from recotap_desktop.ui.main_window import MainWindow

    window = MainWindow(services)
    window.setWindowIcon(app_icon())
    return window


def self_test(app: QApplication, window: MainWindow) -> int:
    """Hook for ``--self-test`` (packaging smoke test): show the window, then quit."""
    from PySide6.QtCore import QTimer

    seen: list[bool] = []

    def check() -> None:
        seen.append(window.isVisible() and window.card.name_label.text() != "")
        app.quit()

    window.show()
    QTimer.singleShot(500, check)
    code = app.exec()
    ok = code == 0 and seen == [True]
    print(f"{APP_NAME} {__version__} self-test: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI; returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))

    import os

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

    app = create_application([sys.argv[0]] if sys.argv else [APP_NAME])
    window_ref: list[Any] = []
    forwarder = install_excepthook(log_file, secret_filter,
                                   parent=lambda: window_ref[0] if window_ref else None)
    try:
        services = create_services(args, secret_filter)
    except Exception as exc:  # settings unreadable, folder not writable, port unavailable ...
        from PySide6.QtWidgets import QMessageBox

        message = getattr(exc, "message", None) or str(exc)
        log.error("cannot start: %s", message, exc_info=True)
        QMessageBox.critical(None, APP_DISPLAY_NAME,
                             f"{APP_DISPLAY_NAME} cannot start:\n\n{message}"
                             + (f"\n\nLog file: {log_file}" if log_file else ""))
        return 2
    app.aboutToQuit.connect(services.close)
    window = build_main_window(services)
    window_ref.append(window)
    if args.self_test:
        return self_test(app, window)
    window.show()
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, window.run_startup_checks)
    code = app.exec()
    del forwarder
    return int(code)
