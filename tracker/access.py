"""How the apps above tracker (ops, mlservice) reach an operation the way tracker's own pages and
API do: the same 404 for an outsider, the same 403 for a role too low. Part of tracker's public
surface with `services`, `selectors`, `models` and the hooks (see docs/architecture.md, "What other
apps may import from tracker"); the rest of tracker (its views, API, admin, webhooks, lib) is its
own, and `.importlinter` keeps it so.

- pages: `operation_for(request, slug, role)` and `get_object_in(model_or_queryset, operation, pk)`;
- API: `OperationScoped` (a view under `/api/operations/{operation_slug}/`) and `ItemViewSet` (list,
  read, add, change and delete one kind of item of it, each write through a service the subclass names).
"""

from __future__ import annotations

from .api.base import ItemViewSet, OperationScoped
from .views.pages import get_object_in, operation_for

__all__ = ["ItemViewSet", "OperationScoped", "get_object_in", "operation_for"]
