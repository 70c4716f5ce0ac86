"""Hiding infrastructure identifiers on a public link's page (ops.redact).

`{% hides_infrastructure as hide %}` is true on a page drawn for a public link (`public` in the
context) unless that link shows infrastructure (`PublicLink.shows_infrastructure`); it fails
closed: a public page whose link cannot be found hides. `{{ text|redacted:hide }}` and
`{{ value|redacted_value:hide }}` then apply `ops.redact` when `hide` is true.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import template

from tracker.models import PublicLink

from ..redact import redact, redact_value

register = template.Library()


def link_shows_infrastructure(request) -> bool:
    """Whether the active public link this request opens shows infrastructure identifiers."""
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if not token:
        return False
    digest = hashlib.sha256(str(token).encode()).hexdigest()
    found = PublicLink.objects.filter(token_hash=digest, revoked_at__isnull=True)
    return bool(found.values_list("shows_infrastructure", flat=True).first())


@register.simple_tag(takes_context=True)
def hides_infrastructure(context) -> bool:
    if not context.get("public"):
        return False  # a member's page: they see their own infrastructure
    if "shows_infrastructure" in context:  # the view said so
        return not context["shows_infrastructure"]
    return not link_shows_infrastructure(context.get("request"))


@register.filter
def redacted(text: Any, hide: bool) -> Any:
    return redact(str(text)) if hide and text not in (None, "") else text


@register.filter
def redacted_value(value: Any, hide: bool) -> Any:
    return redact_value(value) if hide else value
