"""Exit 0 when the server behind a postgres:// or redis:// URL accepts a connection, else 1.

`make test` uses it to decide whether to run the PostgreSQL + Redis pass of the suite.
"""

import socket
import sys
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379}


def main(url: str) -> int:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[parts.scheme]), 2).close()
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
