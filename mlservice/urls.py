"""The inference routes (Open Inference Protocol v2) and the workspace page's model
forms; names for `reverse()`."""

from django.urls import path

from . import pages, views

app_name = "mlservice"

urlpatterns = [
    path("v2", views.server_metadata, name="server-metadata"),
    path("v2/health/live", views.live, name="live"),
    path("v2/health/ready", views.ready, name="ready"),
    path("v2/models/<slug:name>", views.model_metadata, name="model"),
    path("v2/models/<slug:name>/ready", views.model_ready, name="model-ready"),
    path("v2/models/<slug:name>/infer", views.infer, name="infer"),
    path("v2/models/<slug:name>/versions/<str:version>", views.model_metadata, name="version"),
    path("v2/models/<slug:name>/versions/<str:version>/ready", views.model_ready, name="version-ready"),
    path("v2/models/<slug:name>/versions/<str:version>/infer", views.infer, name="version-infer"),
    # The workspace page's model forms (its admins): after the hot /v2 routes.
    path("models/<slug:name>/alias/", pages.model_alias, name="model-alias"),
    path("models/<slug:name>/operation/", pages.model_operation, name="model-operation"),
]
