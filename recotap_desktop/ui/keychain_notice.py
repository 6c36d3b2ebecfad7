"""macOS: the one-time explanation shown before the first keychain access of the GUI.

The keychain is read on worker threads (key lookups never block the window), but the
explanation must be on screen before macOS shows its own prompt. :class:`KeychainNotice`
is the KeyStore's ``before_first_use`` hook: on the GUI thread it shows the message at
once; on a worker it asks the GUI thread to show it and waits until the user closed it,
so no thread reaches the keychain first. The text and the "shown once" memory are the
Qt-free :class:`~recotap_desktop.store.platform_checks.FirstKeychainUse` (the CLI prints
the same words).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from recotap_desktop import APP_DISPLAY_NAME
from recotap_desktop.store.platform_checks import FirstKeychainUse
from recotap_desktop.ui.services import Services

log = logging.getLogger(__name__)

#: A worker waits at most this long for the message to be closed (a window that is
#: gone never answers); then it goes on to the keychain.
WORKER_WAIT_S = 600.0


class KeychainNotice(QObject):
    """Install with :meth:`install`; lives on the GUI thread."""

    _requested = Signal(object)  # the threading.Event a worker waits on

    def __init__(self, services: Services, parent: Callable[[], QWidget | None]) -> None:
        super().__init__()
        self._parent = parent
        self._first = FirstKeychainUse(services.settings, self._show)
        self._requested.connect(self._on_request)
        #: The message box while it is open (tests and the window look at it).
        self.box: QMessageBox | None = None

    @classmethod
    def install(cls, services: Services, parent: Callable[[], QWidget | None]) -> KeychainNotice:
        notice = cls(services, parent)
        services.keystore.before_first_use = notice.before_first_use
        return notice

    def before_first_use(self) -> None:
        """The KeyStore hook (any thread)."""
        if QThread.currentThread() is self.thread():
            self._first()
            return
        done = threading.Event()
        self._requested.emit(done)  # queued to the GUI thread
        if not done.wait(WORKER_WAIT_S):
            log.warning("the keychain explanation was not closed; going on")

    def _on_request(self, done: threading.Event) -> None:
        try:
            self._first()
        finally:
            done.set()

    def _show(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, f"{APP_DISPLAY_NAME}: keychain",
                          text, QMessageBox.StandardButton.Ok, self._parent())
        box.setObjectName("keychain-notice")
        self.box = box
        try:
            box.exec()
        finally:
            self.box = None
            box.deleteLater()
