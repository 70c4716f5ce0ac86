from django.urls import path

from . import views

app_name = "notify"

_OPERATION = "operations/<slug:slug>/notifications/"

urlpatterns = [
    path("operations/<slug:slug>/notifications/", views.channels, name="operation-channels"),
    path("operations/<slug:slug>/notifications/<int:pk>/test/", views.channel_test, name="operation-channel-test"),
    path(
        "operations/<slug:slug>/notifications/<int:pk>/resume/", views.channel_resume, name="operation-channel-resume"
    ),
    path(
        "operations/<slug:slug>/notifications/<int:pk>/delete/", views.channel_delete, name="operation-channel-delete"
    ),
    path("workspaces/<slug:workspace_slug>/notifications/", views.channels, name="workspace-channels"),
    path(
        "workspaces/<slug:workspace_slug>/notifications/<int:pk>/test/",
        views.channel_test,
        name="workspace-channel-test",
    ),
    path(
        "workspaces/<slug:workspace_slug>/notifications/<int:pk>/resume/",
        views.channel_resume,
        name="workspace-channel-resume",
    ),
    path(
        "workspaces/<slug:workspace_slug>/notifications/<int:pk>/delete/",
        views.channel_delete,
        name="workspace-channel-delete",
    ),
    path("operations/<slug:slug>/reports/", views.report_list, name="reports"),
    path("operations/<slug:slug>/reports/send/", views.report_send_now, name="report-send"),
    path("operations/<slug:slug>/reports/<int:pk>/", views.report_detail, name="report"),
    path("operations/<slug:slug>/follow/", views.follow_set, name="follow"),
]
