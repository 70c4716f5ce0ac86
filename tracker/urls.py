from django.urls import path

from . import views

app_name = "tracker"

urlpatterns = [
    path("", views.operation_list, name="operation-list"),
    path("operations/<slug:slug>/", views.operation_detail, name="operation"),
    path("operations/<slug:slug>/export.md", views.operation_export, {"fmt": "markdown"}, name="export-markdown"),
    path("operations/<slug:slug>/export.json", views.operation_export, {"fmt": "json"}, name="export-json"),
]
