"""`GET /api/`: where everything is, for someone who starts at the top (issue #15 found a 404 here).

The collections are named by their route names, not imported: ops and mlservice add theirs to the
same `/api/` prefix, and the tracker never imports them.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

# (key, route name) of each top-level collection, in the order a newcomer would read them.
COLLECTIONS = (
    ("workspaces", "workspace-list"),
    ("operations", "operation-list"),
    ("import", "operation-import-document"),
    ("aws-environments", "aws-environment-list"),
    ("models", "model-list"),
    ("token", "api-token"),
    ("schema", "api-schema"),
    ("docs", "api-docs"),
)


@extend_schema(exclude=True)  # the schema itself is what it points to
class ApiRoot(APIView):
    """The top-level routes of the API, and its schema and browsable docs."""

    http_method_names = ["get", "head", "options"]

    def get(self, request):
        routes = {}
        for key, name in COLLECTIONS:
            try:
                routes[key] = request.build_absolute_uri(reverse(name))
            except NoReverseMatch:  # an app that adds it is not installed
                continue
        return Response(routes)
