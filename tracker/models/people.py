"""Who may see an operation: its members' roles and its public links."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .items import Operation, TimeStamped


class Membership(TimeStamped):
    """A user's role in one operation. Superusers see and do everything without one."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        EDITOR = "editor", "Editor"
        ADMIN = "admin", "Admin"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operation", "user"], name="one_membership_per_user_and_operation"),
        ]
        indexes = [
            # the operation list: every operation a user is a member of
            models.Index(fields=["user", "operation"], name="membership_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} of {self.operation}"


class PublicLink(TimeStamped):
    """A secret, revocable read-only URL for stakeholders without an account.

    Only a SHA-256 of the token is stored: the URL is shown once, when the link is made.
    """

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="public_links")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text="Who it is for, e.g. 'steering committee'.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Off by default: a link is for stakeholders, and ENI ids, private addresses, deployment and
    # account ids map the infrastructure for anyone the link is forwarded to.
    shows_infrastructure = models.BooleanField(
        "shows infrastructure identifiers",
        default=False,
        help_text="Show ENI ids, IP addresses, deployment and account ids in the live checks.",
    )

    def __str__(self) -> str:
        return f"Public link to {self.operation}" + (f" ({self.label})" if self.label else "")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
