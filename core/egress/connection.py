"""Connecting to the very address that was judged, never to a second lookup of the host name."""

from __future__ import annotations

import socket
from typing import Any

import urllib3.exceptions
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

# The package, not this module: `_new_conn` calls `core.egress._connect`, so whoever wraps the one
# function that opens sockets (the security tests count every connection) wraps it everywhere.
import core.egress

from .addresses import IP, _ip
from .deadline import _Deadline
from .errors import Refused


def _connect(conn: HTTPConnection, addresses: tuple[IP, ...], deadline: _Deadline) -> socket.socket:
    errors: list[OSError] = []
    for address in addresses:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise urllib3.exceptions.ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.")
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            limit = conn.timeout if isinstance(conn.timeout, int | float) else remaining
            sock.settimeout(max(0.001, min(remaining, limit)))
            sock.connect((str(address), conn.port))
            peer = _ip(sock.getpeername()[0])
        except TimeoutError:
            sock.close()
            raise urllib3.exceptions.ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.") from None
        except OSError as error:
            sock.close()
            errors.append(error)
            continue
        if peer != address:  # cannot happen: connect() was given this address
            sock.close()
            raise Refused(conn.host, "another address than the one judged", never=True, is_literal=False)
        deadline.watch(sock)
        return sock
    raise urllib3.exceptions.NewConnectionError(conn, f"Failed to establish a new connection: {errors[-1]}")


class _Pinned:
    """Connects to the pre-judged addresses, never to a fresh lookup of the host name."""

    def __init__(self, *args: Any, egress_addresses: tuple[IP, ...] = (), egress_deadline: _Deadline, **kwargs: Any):
        self._egress_addresses = egress_addresses
        self._egress_deadline = egress_deadline
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        return core.egress._connect(self, self._egress_addresses, self._egress_deadline)


class _PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    """TLS is negotiated with the host name (SNI) and the certificate checked against it."""


class _PinnedPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedSecurePool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection
