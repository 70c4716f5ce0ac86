"""Routes of the API: workspaces and their members; operations, and under each operation its
phases, tasks, findings, blockers, decisions, achievements, activity, members, webhooks and the
webhooks' delivery log."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import hooks, items, workspaces
from .operations import OperationViewSet
from .root import ApiRoot

router = SimpleRouter()
router.register("operations", OperationViewSet, basename="operation")
router.register("workspaces", workspaces.WorkspaceViewSet, basename="workspace")
router.register(
    r"workspaces/(?P<workspace_slug>[-a-zA-Z0-9_]+)/members",
    workspaces.WorkspaceMemberViewSet,
    basename="workspace-members",
)
NESTED = {
    "phases": items.PhaseViewSet,
    "tasks": items.TaskViewSet,
    "findings": items.FindingViewSet,
    "blockers": items.BlockerViewSet,
    "decisions": items.DecisionViewSet,
    "achievements": items.AchievementViewSet,
    "activity": items.ActivityViewSet,
    "members": items.MemberViewSet,
    "webhooks": hooks.WebhookViewSet,
    "webhook-deliveries": hooks.DeliveryViewSet,
}
for prefix, viewset in NESTED.items():
    router.register(rf"operations/(?P<operation_slug>[-a-zA-Z0-9_]+)/{prefix}", viewset, basename=f"operation-{prefix}")

urlpatterns = [path("", ApiRoot.as_view(), name="api-root"), path("", include(router.urls))]
