"""Pagination and throttles, named in REST_FRAMEWORK settings.

A module of its own because DRF imports these while defining its views: nothing here may import
`rest_framework.views` or the tracker's views. Throttles count in the default cache, which is Redis
in production, so every worker shares one count.
"""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.client import client_address


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class SettingsRateMixin:
    """Read the rate when asked, not at import: settings overrides (tests, env) take effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class ClientAddressMixin:
    """Count by `client_address`: DRF's own `get_ident` takes a whole X-Forwarded-For when
    NUM_PROXIES is unset, so a guesser who sends a new one each time would never be throttled."""

    def get_ident(self, request):
        return client_address(request)


class LoginThrottle(ClientAddressMixin, SettingsRateMixin, AnonRateThrottle):
    """Password guesses per client address, whoever they are for (so nobody can lock a user out)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(ClientAddressMixin, SettingsRateMixin, UserRateThrottle):
    """Changes per user (reads are not counted)."""

    scope = "write"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
