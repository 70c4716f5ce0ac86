"""requests sessions that refuse to talk to some addresses, judged on the socket itself.

Checking a URL's host before sending is not enough: DNS may answer differently a moment later
(rebinding). These sessions check the address each connection really reached, after DNS and
before a byte is sent, with the caller's rule (webhooks: public addresses only; HTTP checks:
never link-local). They ignore proxy settings (through a proxy the peer would be the proxy) and
do not retry.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# address -> why it is refused, or None to allow it
Rule = Callable[[str], str | None]


class AddressRefused(Exception):
    """The connection reached an address the rule refuses. Not an OSError, so urllib3 does not retry it."""


def guarded_session(rule: Rule) -> requests.Session:
    def check(sock: socket.socket) -> socket.socket:
        address = sock.getpeername()[0]
        reason = rule(address)
        if reason:
            sock.close()
            raise AddressRefused(f"the connection reached {address}, {reason}")
        return sock

    class Connection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return check(super()._new_conn())

    class SecureConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return check(super()._new_conn())

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", Adapter(max_retries=0))
    session.mount("https://", Adapter(max_retries=0))
    return session
