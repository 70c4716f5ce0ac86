"""Root URLs: the API (and its schema and docs), accounts, the admin, inference, and the tracker's pages."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health, metrics
from tracker.api.auth import ObtainToken
from tracker.views.accounts import ThrottledLoginView

# The admin's own login form would be a second, unthrottled door: send it to ours.
admin.site.login = login_required(admin.site.login)

# Swagger UI under the Content Security Policy: the split view serves its start-up script as a
# file (/api/docs/?script) instead of inline, templates/drf_spectacular/swagger_ui.html moves its
# inline style to a static file, and this page alone may load data: images (swagger-ui.css draws
# its icons as data: SVGs).
# GET and HEAD only: DRF's OPTIONS would render its metadata with the page's template renderer (a 500).
api_docs = csp_update({"img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"])
)

urlpatterns = [
    # First: an inference request is the hottest path, and resolving walks the list in order.
    path("", include("mlservice.urls")),
    # Probes from a load balancer or an orchestrator: no login, no CSRF, never redirected.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/", include("tracker.api.urls")),
    path("api/", include("ops.api")),
    path("api/", include("mlservice.api")),
    path("api/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("ops.urls")),
    path("", include("notify.urls")),
    path("", include("tracker.urls")),
]

handler403 = "core.http_errors.forbidden"
handler404 = "core.http_errors.not_found"
handler500 = "core.http_errors.server_error"
