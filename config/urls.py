"""Root URLs: accounts (Django's auth views), the admin, and the tracker's pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls")),
]

handler403 = "tracker.views.pages.forbidden"
