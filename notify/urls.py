from django.urls import path

from . import views

app_name = "notify"


def _channel_routes(prefix: str, kind: str) -> list:
    """The channels page and its per-channel actions, under an operation or a workspace."""
    return [
        path(prefix, views.channels, name=f"{kind}-channels"),
        *(
            path(f"{prefix}<int:pk>/{action}/", getattr(views, f"channel_{action}"), name=f"{kind}-channel-{action}")
            for action in ("test", "edit", "resume", "delete")
        ),
    ]


urlpatterns = [
    *_channel_routes("operations/<slug:slug>/notifications/", "operation"),
    *_channel_routes("workspaces/<slug:workspace_slug>/notifications/", "workspace"),
    path("operations/<slug:slug>/reports/", views.report_list, name="reports"),
    path("operations/<slug:slug>/reports/send/", views.report_send_now, name="report-send"),
    path("operations/<slug:slug>/reports/<int:pk>/", views.report_detail, name="report"),
    path("operations/<slug:slug>/follow/", views.follow_set, name="follow"),
]
