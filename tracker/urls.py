from django.urls import path
from django.views.generic import RedirectView

from .views import edits, imports, pages, people, workspaces

app_name = "tracker"

urlpatterns = [
    path("", pages.operation_list_page, name="operation-list"),
    path("import/", imports.import_page, name="import"),
    path("workspaces/", workspaces.workspace_list, name="workspaces"),
    path("workspaces/<slug:workspace_slug>/", workspaces.workspace_page, name="workspace"),
    path("workspaces/<slug:workspace_slug>/members/", workspaces.workspace_member_set, name="workspace-member-set"),
    path(
        "workspaces/<slug:workspace_slug>/members/<int:pk>/remove/",
        workspaces.workspace_member_remove,
        name="workspace-member-remove",
    ),
    path("workspaces/<slug:workspace_slug>/egress/", workspaces.workspace_egress, name="workspace-egress"),
    path("p/<str:token>/", pages.public_dashboard, name="public"),
    # Where a person who trims an operation's address expects its list to be.
    path("operations/", RedirectView.as_view(pattern_name="tracker:operation-list"), name="operations"),
    path("operations/<slug:slug>/", pages.dashboard, name="operation"),
    path("operations/<slug:slug>/live/", pages.dashboard_live, name="operation-live"),
    path("operations/<slug:slug>/export.md", pages.operation_export, {"fmt": "markdown"}, name="export-markdown"),
    path("operations/<slug:slug>/export.json", pages.operation_export, {"fmt": "json"}, name="export-json"),
    path("operations/<slug:slug>/tasks/<int:pk>/toggle/", edits.task_toggle, name="task-toggle"),
    path("operations/<slug:slug>/blockers/add/", edits.blocker_add, name="blocker-add"),
    path("operations/<slug:slug>/blockers/<int:pk>/edit/", edits.blocker_edit, name="blocker-edit"),
    path("operations/<slug:slug>/blockers/<int:pk>/resolve/", edits.blocker_resolve, name="blocker-resolve"),
    path("operations/<slug:slug>/blockers/<int:pk>/reopen/", edits.blocker_reopen, name="blocker-reopen"),
    path("operations/<slug:slug>/findings/add/", edits.finding_add, name="finding-add"),
    path("operations/<slug:slug>/decisions/add/", edits.decision_add, name="decision-add"),
    path("operations/<slug:slug>/achievements/add/", edits.achievement_add, name="achievement-add"),
    path("operations/<slug:slug>/current-phase/", edits.current_phase, name="current-phase"),
    path("operations/<slug:slug>/sharing/", people.sharing, name="sharing"),
    path("operations/<slug:slug>/sharing/members/<int:pk>/role/", people.membership_role, name="member-role"),
    path("operations/<slug:slug>/sharing/members/<int:pk>/remove/", people.membership_remove, name="member-remove"),
    path("operations/<slug:slug>/sharing/links/", people.public_link_create, name="link-create"),
    path("operations/<slug:slug>/sharing/links/<int:pk>/revoke/", people.public_link_revoke, name="link-revoke"),
    path("operations/<slug:slug>/sharing/webhooks/", people.webhook_create, name="webhook-create"),
    path("operations/<slug:slug>/sharing/webhooks/<int:pk>/delete/", people.webhook_delete, name="webhook-delete"),
]
