"""Sessions, the logged-in user and flash messages only on the routes that use them.

Django's session, authentication and message middleware cost about 170 µs on every request
(issue #18; building the message storage alone, 114), also on the routes that never look at a
session: the inference routes and `/metrics` (a token or an allowed network), the health probes,
a missing static file, and the REST API called with `Authorization: Token <key>` (DRF's
TokenAuthentication is tried first, and a `Token` header either authenticates or is refused with
a 401: the session is never consulted). These subclasses skip their work there, decided once per
request from the path and that header, before any URL is resolved:

- `SESSIONLESS_PATHS`: a path ending in `/` is a prefix (`/v2/`), any other is matched exactly
  (`/healthz`), so an operation page such as `/v2-rollout/` keeps its session;
- `SESSIONLESS_TOKEN_PREFIXES`: paths where a request whose Authorization header's first word is
  `Token` needs no session (`/api/`). The same path with a session cookie and no token is a
  browser's call and keeps its session, its CSRF check and its user.

On a skipped route there is no `request.session`, `request.user` is the anonymous user (code that
reads it sees nobody logged in, never someone else; DRF replaces it with the token's user), and
messages are neither read nor written (`messages.get_messages` is empty there).
`tests/test_middleware_cost.py` holds these to it, login, the admin, CSRF-protected forms and
flash messages included.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware

# Set on a request that goes without a session; the two middleware after SessionMiddleware read it.
SESSIONLESS = "_sessionless"
DEFAULT_SESSIONLESS_PATHS = ("/v2", "/v2/", "/healthz", "/readyz", "/metrics", "/static/")
DEFAULT_SESSIONLESS_TOKEN_PREFIXES = ("/api/",)


class SessionlessRoutes:
    """Whether a request's route uses no session: two string tests, and a header read under /api/."""

    def __init__(self, paths, token_prefixes) -> None:
        paths = tuple(paths)
        self.exact = frozenset(path for path in paths if not path.endswith("/"))
        self.prefixes = tuple(path for path in paths if path.endswith("/"))
        self.token_prefixes = tuple(token_prefixes)

    @classmethod
    def from_settings(cls) -> SessionlessRoutes:
        return cls(
            getattr(settings, "SESSIONLESS_PATHS", DEFAULT_SESSIONLESS_PATHS),
            getattr(settings, "SESSIONLESS_TOKEN_PREFIXES", DEFAULT_SESSIONLESS_TOKEN_PREFIXES),
        )

    def __call__(self, request) -> bool:
        path = request.path_info
        if path in self.exact or path.startswith(self.prefixes):
            return True
        if self.token_prefixes and path.startswith(self.token_prefixes):
            return _token_scheme(request.META.get("HTTP_AUTHORIZATION", ""))
        return False


def _token_scheme(header: str) -> bool:
    """True for `Token <key>` (any case; DRF's TokenAuthentication splits on whitespace too)."""
    words = header.split(None, 1)
    return bool(words) and words[0].lower() == "token"


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except on sessionless routes: no session store, no cookie, no Vary: Cookie."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.sessionless = SessionlessRoutes.from_settings()

    def __call__(self, request):
        if self.sessionless(request):
            setattr(request, SESSIONLESS, True)
            return self.get_response(request)
        return super().__call__(request)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, except on sessionless routes, where the user is the anonymous one (until DRF
    authenticates the token)."""

    def __call__(self, request):
        if getattr(request, SESSIONLESS, False):
            request.user = AnonymousUser()
            request.auser = _anonymous
            return self.get_response(request)
        return super().__call__(request)


async def _anonymous() -> AnonymousUser:
    return AnonymousUser()


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's, except on sessionless routes: no message storage is built or saved."""

    def __call__(self, request):
        if getattr(request, SESSIONLESS, False):
            return self.get_response(request)
        return super().__call__(request)
