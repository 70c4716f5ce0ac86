"""`python scripts/healthcheck.py [PATH]`: exit 0 when the gunicorn of this container answers PATH with a 2xx.

docker-compose.yml's web healthcheck, on /readyz (core/health.py; the default). The request goes
to gunicorn's own port on loopback (GUNICORN_BIND, default 0.0.0.0:8000) dressed as one the TLS
proxy forwards: a Host from DJANGO_ALLOWED_HOSTS, or Django would refuse it, and `X-Forwarded-Proto:
https`, so that any path works, not only those production exempts from its https redirect.
Redirects are not followed. Standard library only: it runs every few seconds and must not cost a
Django start-up.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def allowed_host() -> str:
    """The first of DJANGO_ALLOWED_HOSTS, as a Host header it matches."""
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    if first in ("", "*"):
        return "localhost"
    return first.lstrip(".")  # ".example.org" matches example.org itself


def main(path: str = "/readyz") -> int:
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    if not 200 <= status < 300:
        print(f"{path}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
