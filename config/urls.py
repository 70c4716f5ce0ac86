"""Root URLs: the API (and its schema and docs), accounts, the admin, and the tracker's pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tracker.api.auth import ObtainToken

urlpatterns = [
    path("api/", include("tracker.api.urls")),
    path("api/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls")),
]

handler403 = "tracker.views.pages.forbidden"
handler404 = "config.api_errors.not_found"
handler500 = "config.api_errors.server_error"
