"""One time limit for a whole fetch: lookup, connect, TLS, every read, every redirect."""

from __future__ import annotations

import socket
import threading
import time


class _Deadline:
    """One time limit for a whole fetch. Past it, every socket of the fetch is shut down, so a read
    blocked on a server that answers a byte at a time returns at once."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + max(0.0, seconds)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.expired = False

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.remaining()), self._expire)
                self._timer.daemon = True
                self._timer.start()
            expired = self.expired
        if expired:
            self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
