"""Signal receivers: every audit entry comes from a signal, and this app imports no other app.

Django's and DRF's signals give the logins, logouts, failed logins and API tokens; core's
(`core.signals`) give the rest: `permission_denied` from the 403 handlers of the pages and the API
(core.http_errors), and `security_event` from the apps' services, which know the actor (the
tracker's: workspaces created or changed, memberships granted, changed or revoked, the ones that go
with their user or operation too)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ObjectDoesNotExist
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save

from core import signals

from . import context, record
from .models import AuditEntry

Event = AuditEntry.Event


def logged_in(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    record(Event.LOGIN, request=request, user=user)


def logged_out(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    if user is not None:  # logging out without being logged in is nothing
        record(Event.LOGOUT, request=request, user=user)


def login_failed(sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **_: Any) -> None:
    # Only the username: `credentials` holds the password (masked by Django, but still not ours).
    credentials = credentials or {}
    tried = credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username", ""))
    record(Event.LOGIN_FAILED, request=request, username=str(tried or ""))


def _owner(token: Any) -> Any:
    try:
        return token.user
    except ObjectDoesNotExist:
        return None


def token_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False, **_: Any) -> None:
    if created and not raw:
        record(Event.TOKEN_CREATED, user=_owner(instance), owner_id=instance.user_id)


def token_deleted(sender: Any, instance: Any, **_: Any) -> None:
    record(Event.TOKEN_DELETED, user=_owner(instance), owner_id=instance.user_id)


def permission_denied(sender: Any, request: Any = None, user: Any = None, signal: Any = None, **details: Any) -> None:
    record(Event.PERMISSION_DENIED, request=request, user=user, **details)


def security_event(
    sender: Any, event: str, user: Any = None, request: Any = None, signal: Any = None, **details: Any
) -> None:
    record(event, request=request, user=user, **details)


def connect() -> None:
    from rest_framework.authtoken.models import Token, TokenProxy

    request_started.connect(context.request_started, dispatch_uid="audit.request_started")
    request_finished.connect(context.request_finished, dispatch_uid="audit.request_finished")
    user_logged_in.connect(logged_in, dispatch_uid="audit.logged_in")
    user_logged_out.connect(logged_out, dispatch_uid="audit.logged_out")
    user_login_failed.connect(login_failed, dispatch_uid="audit.login_failed")
    signals.permission_denied.connect(permission_denied, dispatch_uid="audit.permission_denied")
    signals.security_event.connect(security_event, dispatch_uid="audit.security_event")
    # The admin edits tokens as TokenProxy, and a proxy's signals name the proxy as their sender.
    for model in (Token, TokenProxy):
        post_save.connect(token_saved, sender=model, dispatch_uid=f"audit.token_saved.{model.__name__}")
        post_delete.connect(token_deleted, sender=model, dispatch_uid=f"audit.token_deleted.{model.__name__}")
