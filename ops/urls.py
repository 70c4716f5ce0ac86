"""The pages of an operation's live checks, under the operation's own URL, and the AWS environments
of the user's workspaces."""

from django.urls import path

from . import views

app_name = "ops"

urlpatterns = [
    path("operations/<slug:slug>/checks/", views.check_list, name="checks"),
    path("operations/<slug:slug>/checks/add/", views.check_add, name="check-add"),
    path("operations/<slug:slug>/checks/diagnose-ecs/", views.diagnose, name="diagnose"),
    path("operations/<slug:slug>/checks/<int:pk>/", views.check_detail, name="check-detail"),
    path("operations/<slug:slug>/checks/<int:pk>/edit/", views.check_edit, name="check-edit"),
    path("operations/<slug:slug>/checks/<int:pk>/delete/", views.check_delete, name="check-delete"),
    path("operations/<slug:slug>/checks/<int:pk>/run/", views.check_run_now, name="check-run"),
    path("aws-environments/", views.environment_list, name="environments"),
    path("aws-environments/add/", views.environment_add, name="environment-add"),
    path("aws-environments/<int:pk>/edit/", views.environment_edit, name="environment-edit"),
    path("aws-environments/<int:pk>/delete/", views.environment_delete, name="environment-delete"),
]
