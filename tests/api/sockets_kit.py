"""Tiny misbehaving HTTP servers on 127.0.0.1 for tests of the wire rules (real sockets).

:class:`RawServer` accepts connections and hands each one, after reading the request
head and body, to ``answer(conn, head)``; it records that a request arrived
(``arrived``) and whether the client went away (``client_left``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

Answer = Callable[["RawServer", socket.socket, bytes], None]


class RawServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.arrived = threading.Event()
        self.client_left = threading.Event()
        self.stop = threading.Event()
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def base_url(self, edition: str = "crm") -> str:
        suffix = "/api/v1/crm/" if edition == "crm" else "/api/v1/"
        return f"http://127.0.0.1:{self.port}{suffix}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join()
        self._sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    want = int(line.split(b":")[1])
                    while len(body) < want:
                        body += conn.recv(65536)
            self.requests += 1
            self.arrived.set()
            try:
                self.answer(self, conn, head)
            except OSError:
                self.client_left.set()

    def hold(self, conn: socket.socket) -> None:
        """Answer nothing until the client goes away (or the server stops)."""
        conn.settimeout(0.1)
        while not self.stop.is_set():
            try:
                if conn.recv(1) == b"":
                    self.client_left.set()
                    return
            except TimeoutError:
                continue

    def trickle(self, conn: socket.socket, *, every: float, most: int) -> None:
        """An answer whose body comes one byte every ``every`` s (``most`` bytes at most)."""
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % most)
        for _ in range(most):
            if self.stop.is_set():
                return
            time.sleep(every)
            conn.sendall(b" ")

    def stream(self, conn: socket.socket, status: str, *, declared: int, most: int) -> None:
        """Declare a body of ``declared`` bytes and send zeros until ``most`` or the client
        leaves (a test never makes the whole huge body)."""
        conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        block = b"0" * 65536
        sent = 0
        while sent < most and not self.stop.is_set():
            conn.sendall(block)
            sent += len(block)
