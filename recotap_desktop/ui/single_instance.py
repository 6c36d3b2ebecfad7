"""One window per user and data folder: a second launch hands its files to the first.

``recotap-desktop FILE…`` started while the app already runs (a double-click in the file
manager, "Open with Recotap Desktop") connects to the running instance through a
:class:`QLocalServer` whose name is private to the user and the data folder (so a
``--data-dir`` session is its own instance), sends the absolute paths, waits for the
acknowledgement and exits. The message is one line of JSON, at most
:data:`MAX_MESSAGE` bytes; anything longer or malformed is dropped unread.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

#: Bytes one hand-over message may take (paths of a few hundred files).
MAX_MESSAGE = 64 * 1024
#: How long a second launch waits for the running window, in milliseconds.
HANDOVER_WAIT_MS = 5_000
_ACK = b"ok\n"


def socket_name(data_dir: Path | str) -> str:
    """The local socket's name for this user and data folder (no path separators)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password database
        user = "user"
    digest = hashlib.sha256(f"{user}\0{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"recotap-desktop-{digest}"


def encode(paths: Sequence[Path | str]) -> bytes:
    """The message for ``paths`` (raises ``ValueError`` past :data:`MAX_MESSAGE`)."""
    data = json.dumps({"open": [str(Path(p).absolute()) for p in paths]}).encode() + b"\n"
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"too many or too long file names ({len(data)} bytes)")
    return data


def decode(data: bytes) -> list[Path] | None:
    """The paths of one message, or ``None`` when it is not one."""
    if len(data) > MAX_MESSAGE or not data.endswith(b"\n"):
        return None
    try:
        doc = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    items = doc.get("open") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(isinstance(p, str) and p for p in items):
        return None
    return [Path(p) for p in items]


def hand_over(name: str, paths: Sequence[Path | str], wait_ms: int = HANDOVER_WAIT_MS) -> bool:
    """Give ``paths`` to the instance listening on ``name``; ``True`` once it acknowledged."""
    message = encode(paths)
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(wait_ms):
        return False
    try:
        sock.write(message)
        if not sock.waitForBytesWritten(wait_ms):
            return False
        answer = b""
        while len(answer) < len(_ACK) and sock.waitForReadyRead(wait_ms):
            answer += bytes(sock.readAll().data())
        return answer.startswith(_ACK)
    finally:
        sock.disconnectFromServer()


class InstanceServer(QObject):
    """Listens for later launches; emits :attr:`files_received` with their paths."""

    files_received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; a socket file left by a crashed instance is removed once."""
        if self.server.listen(self.name):
            log.info("single instance: listening on %s", self.name)
            return True
        if self.server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            # Only reached after hand_over() found nobody answering: the name is stale.
            QLocalServer.removeServer(self.name)
            if self.server.listen(self.name):
                log.info("single instance: listening on %s (a stale name was removed)",
                         self.name)
                return True
        log.warning("single instance: cannot listen on %s: %s", self.name,
                    self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            if sock is None:
                return
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    def _forget(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        if sock not in self._buffers:
            return
        data = self._buffers[sock] + bytes(sock.read(MAX_MESSAGE + 1).data())
        if len(data) > MAX_MESSAGE:
            log.warning("single instance: a message over %d bytes was dropped", MAX_MESSAGE)
            self._buffers.pop(sock, None)
            sock.abort()
            return
        self._buffers[sock] = data
        if not data.endswith(b"\n"):
            return
        paths = decode(data)
        self._buffers[sock] = b""
        if paths is None:
            log.warning("single instance: a malformed message was dropped")
            sock.abort()
            return
        sock.write(_ACK)
        sock.flush()
        self.files_received.emit(paths)


class FileOpenFilter(QObject):
    """macOS: Finder's "Open With" arrives as a :class:`QFileOpenEvent` on the application."""

    files_received = Signal(list)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file()
            if path:
                self.files_received.emit([Path(path)])
                return True
        return super().eventFilter(watched, event)
