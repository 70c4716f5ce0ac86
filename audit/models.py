"""One row per security event. No foreign keys: an entry outlives the user it names, and keeps
their id and username as they were."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    class Event(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGOUT = "logout", "Logged out"
        LOGIN_FAILED = "login_failed", "Failed login"
        PERMISSION_DENIED = "permission_denied", "Permission denied"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_DELETED = "token_deleted", "API token deleted"
        MEMBERSHIP_GRANTED = "membership_granted", "Membership granted"
        MEMBERSHIP_ROLE_CHANGED = "membership_role_changed", "Membership role changed"
        MEMBERSHIP_REVOKED = "membership_revoked", "Membership revoked"
        WORKSPACE_CREATED = "workspace_created", "Workspace created"
        WORKSPACE_CHANGED = "workspace_changed", "Workspace changed"
        WORKSPACE_MEMBERSHIP_GRANTED = "workspace_membership_granted", "Workspace membership granted"
        WORKSPACE_MEMBERSHIP_CHANGED = "workspace_membership_changed", "Workspace membership changed"
        WORKSPACE_MEMBERSHIP_REVOKED = "workspace_membership_revoked", "Workspace membership revoked"

    at = models.DateTimeField(default=timezone.now, editable=False)  # UTC (USE_TZ)
    event = models.CharField(max_length=40, choices=Event.choices)
    # Who: the user who acted (or was acted as); for a failed login, only the username tried.
    user_pk = models.BigIntegerField("user id", null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    # REMOTE_ADDR, or with API_NUM_PROXIES set the client's address in X-Forwarded-For (not
    # necessarily an IP address then: whatever the proxies wrote).
    source_address = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["at"], name="audit_by_time"),
            models.Index(fields=["event"], name="audit_by_event"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.username or '-'}"
