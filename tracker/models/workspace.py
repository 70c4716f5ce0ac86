"""Workspaces: the teams that own operations, AWS environments and models.

A workspace is the trust boundary. Everything a team keeps (its operations and what is in them,
the AWS environments its checks may look at, the models it serves) belongs to one workspace, and
nothing of it is visible, callable or even confirmed to exist from outside: an outsider gets the
same 404 as for a thing that does not exist. Inside, operation roles (viewer, editor, admin) work
as before; a workspace admin is an admin of every operation in it and manages its members,
environments, models and egress allow-list. Instance superusers create workspaces.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Workspace(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    # Internal CIDRs, addresses or host names (each optionally with :port) that this workspace's
    # checks may reach although they are not public (core.egress). Empty: public addresses only.
    egress_allow = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkspaceMembership(models.Model):
    """A user in a workspace. Members create operations in it; admins also manage it."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Admin"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user_and_workspace"),
        ]
        indexes = [
            # every scoping query: the workspaces a user belongs to (and those they administer)
            models.Index(fields=["user", "role", "workspace"], name="workspace_membership_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} of {self.workspace}"
