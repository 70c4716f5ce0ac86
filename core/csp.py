"""django-csp's middleware with each policy's header built once, not on every response.

`csp.middleware.CSPMiddleware` rebuilds the header string from the settings twice per response
(the policy and the report-only one): about 250 µs of a 600 µs middleware stack (issue #18). The
string depends only on the policy (the settings, and what `@csp`, `@csp_update` or `@csp_replace`
put on the response) and on the request's nonce, so this subclass keeps django-csp's behaviour
and its decorators, and asks `csp.utils.build_policy` once per distinct policy:

- the key is the policy's content (directive names and sources, in order), not the identity of a
  dict, so a decorator's dict changed in place is a new policy, not a stale header;
- a response whose request used a nonce (`request.csp_nonce`) is built as django-csp builds it,
  uncached: a nonce is new on every request;
- the cache is emptied when a CSP setting changes (`override_settings` in tests) and holds at most
  `MAX_POLICIES` entries: a view that makes up a new policy per request is built each time, as
  before, instead of growing the cache.

Everything else (debug 404/500 pages left alone, `@csp_exempt`, EXCLUDE_URL_PREFIXES, a header
the view set itself, the nonce made unreadable after the header is written) is django-csp's code.
"""

from __future__ import annotations

import http.client
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

MAX_POLICIES = 64
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)

# (report_only, frozen config, frozen update, frozen replace) -> the header's value
_policies: dict[tuple, str] = {}


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        _policies.clear()


def _frozen(value: Any) -> Any:
    """A hashable copy of a policy part that compares equal exactly when the part would build the
    same header. Raises TypeError for a value it cannot freeze (then the header is built uncached)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        return tuple((key, _frozen(sources)) for key, sources in value.items())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *map(_frozen, value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(value))
    hash(value)  # csp.constants.NONCE, a lazy translation...: hashable, or TypeError
    return value


def cached_policy(config: Any, update: Any, replace: Any, *, report_only: bool) -> str:
    """`csp.utils.build_policy(config, update, replace, report_only=...)` without a nonce, built
    once per distinct policy."""
    try:
        key = (report_only, _frozen(config), _frozen(update), _frozen(replace))
        return _policies[key]
    except TypeError:
        return build_policy(config, update, replace, None, report_only=report_only)
    except KeyError:
        pass
    policy = build_policy(config, update, replace, None, report_only=report_only)
    if len(_policies) < MAX_POLICIES:
        _policies[key] = policy
    return policy


class CSPMiddleware(DjangoCSPMiddleware):
    """`csp.middleware.CSPMiddleware`, same headers, each distinct policy built once."""

    def process_response(self, request, response):
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response  # Django's technical 404/500 pages use inline styles and scripts
        nonce = getattr(request, "_csp_nonce", None)
        self._set(request, response, nonce, report_only=False)
        self._set(request, response, nonce, report_only=True)
        if nonce is None:
            # As django-csp: a nonce asked for after the header is written would not be in it.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def _set(self, request, response, nonce: str | None, *, report_only: bool) -> None:
        header, suffix, setting = (
            (HEADER_REPORT_ONLY, "_ro", _SETTINGS[1]) if report_only else (HEADER, "", _SETTINGS[0])
        )
        if header in response or getattr(response, "_csp_exempt" + suffix, False) is not False:
            return
        config = getattr(response, "_csp_config" + suffix, None)
        update = getattr(response, "_csp_update" + suffix, None)
        replace = getattr(response, "_csp_replace" + suffix, None)
        if nonce is None:
            policy = cached_policy(config, update, replace, report_only=report_only)
        else:
            policy = build_policy(config, update, replace, nonce, report_only=report_only)
        if not policy:
            return
        prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
        if not request.path_info.startswith(tuple(prefixes)):
            response[header] = policy
