"""Valid request bodies for every route that takes one, so that a refused request is refused for the
reason under test (no CSRF token, not a member) and not because its body was wrong: the same body
with the token, or from a member, really changes something.

`form_fields(route)`: the fields a form posting to a page route needs (merged over the fields the
page's form already has, or sent alone where no page form is at hand). `api_body(route, method)`:
a JSON body (or `(content_type, bytes)`) for a REST API route. A route that takes a body but has no
entry here fails the sweeps with the line to add.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests import cast
from tracker.lib.samples import large_document

from .sweep import Route
from .world import WEBHOOK_URL, Side, World

NEW_PASSWORD = "sweep-New-password-2"
NO_BODY = object()  # an API write that takes no body


def imported_document(name: str = "Operation Sweep Import") -> bytes:
    return large_document(phases=1, tasks=1, name=name).encode()


def _check_fields(name: str) -> dict[str, str]:
    return {
        "name": name,
        "type": "http_endpoint",
        "environment": "",
        "region": "",
        "params": json.dumps({"url": "http://127.0.0.1:9/sweep"}),
        "expected": "",
        "interval": "300",
        "enabled": "on",
        "finding": "",
        "task": "",
        "blocker": "",
    }


def _notify_fields() -> dict[str, dict[str, Any]]:
    """The notification channels' forms, under an operation and under a workspace, and the reports'."""
    rules = {"label": "Made by the sweep", "flap_runs": 2, "flap_minutes": 0, "slip_days": 3}
    fields: dict[str, dict[str, Any]] = {
        "notify:reports": {"enabled": "on", "weekday": 0, "hour": 9, "minute": 0, "timezone": "Europe/Paris"},
        "notify:report-send": {},
        "notify:follow": {"mode": "digest"},
    }
    for scope in ("operation", "workspace"):
        fields |= {
            f"notify:{scope}-channels": {"url": "jsons://deploy:sweep@93.184.216.34/sweep", **rules},
            f"notify:{scope}-channel-edit": rules,
            f"notify:{scope}-channel-test": {},
            f"notify:{scope}-channel-resume": {},
            f"notify:{scope}-channel-delete": {},
        }
    return fields


def form_fields(route: Route, world: World, side: Side) -> dict[str, Any] | None:
    """What to fill in the route's form; None when the route has no entry."""
    table: dict[str, dict[str, Any]] = {
        "login": {"username": "owner", "password": cast.password("owner")},
        "password_change": {
            "old_password": cast.password("owner"),
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        "password_reset": {"email": "owner@example.com"},
        "password_reset_confirm": {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        "logout": {},
        "tracker:import": {
            "document": SimpleUploadedFile("sweep.md", imported_document(), content_type="text/markdown")
        },
        "tracker:task-toggle": {"done": "1"},
        "tracker:blocker-add": {"title": "Raised by the sweep", "severity": "primary"},
        "tracker:blocker-edit": {"title": "Edited by the sweep", "severity": "primary"},
        "tracker:blocker-resolve": {"status_text": "Resolved by the sweep"},
        "tracker:blocker-reopen": {},
        "tracker:finding-add": {"subject": "Found by the sweep", "verdict": "correct", "phase": ""},
        "tracker:decision-add": {"title": "Decided by the sweep"},
        "tracker:achievement-add": {"title": "Achieved by the sweep"},
        "tracker:current-phase": {"phase": side.other_phase.pk},
        "tracker:sharing": {"username": "newbie", "role": "viewer"},
        "tracker:workspace-member-set": {"username": "newbie", "role": "admin"},
        "tracker:workspace-member-remove": {},
        "tracker:workspace-egress": {"egress_allow": "10.9.0.0/16"},
        "ops:environment-add": {
            "workspace": side.workspace.pk,
            "name": "sweep-env",
            "account_id": "123456789012",
            "regions": "us-east-1",
        },
        "ops:environment-edit": {"name": side.environment.name, "account_id": "123456789012", "regions": "us-east-1"},
        "ops:environment-delete": {},
        "tracker:member-role": {"role": "viewer"},
        "tracker:member-remove": {},
        "tracker:link-create": {"label": "Made by the sweep"},
        "tracker:link-revoke": {},
        "tracker:webhook-create": {"url": WEBHOOK_URL + "/2", "label": "Made by the sweep"},
        "tracker:webhook-delete": {},
        "ops:check-add": _check_fields("Added by the sweep"),
        "ops:check-edit": _check_fields("Edited by the sweep"),
        "ops:check-delete": {},
        "ops:check-run": {},
        "ops:diagnose": {
            "environment": side.environment.pk,
            "region": "us-east-1",
            "cluster": "sweep-cluster",
            "service": "sweep-service",
            "port": "5000",
        },
        # The workspace page's model forms: the world's model has version 1 (production on it) and a dashboard.
        "mlservice:model-alias": {"alias": "production", "version": "1"},
        "mlservice:model-operation": {"operation": ""},
        **_notify_fields(),
    }
    return table.get(route.name)


def api_body(route: Route, method: str, world: World, side: Side) -> Any:
    """The body of an API write; NO_BODY for one that takes none; None when the route has no entry."""
    item = route.name.removeprefix("operation-").rsplit("-", 1)[0]  # "tasks" of "operation-tasks-detail"
    changes = {
        "phases": {"title": "Renamed by the sweep"},
        "tasks": {"done": True},
        "findings": {"note": "Changed by the sweep"},
        "blockers": {"impact": "Changed by the sweep"},
        "decisions": {"title": "Changed by the sweep"},
        "achievements": {"title": "Changed by the sweep"},
        "members": {"role": "viewer"},
        "webhooks": {"label": "Changed by the sweep"},
        "checks": {"name": "Changed by the sweep"},
    }
    new = {
        "phases": {"number": 9, "title": "Added by the sweep"},
        "tasks": {"title": "Added by the sweep", "kind": "task", "phase": side.current_phase.number},
        "findings": {"subject": "Added by the sweep", "verdict": "correct"},
        "blockers": {"title": "Added by the sweep"},
        "decisions": {"title": "Added by the sweep"},
        "achievements": {"title": "Added by the sweep"},
        "members": {"username": "newbie", "role": "viewer"},
        "webhooks": {"url": WEBHOOK_URL + "/2"},
        "checks": {"name": "Added by the sweep", "type": "http_endpoint", "params": {"url": "http://127.0.0.1:9/s"}},
    }
    table: dict[tuple[str, str], Any] = {
        ("operation-list", "post"): {"name": "Operation Sweep New"},
        ("operation-import-document", "post"): ("text/markdown", imported_document()),
        ("operation-detail", "patch"): {"stated_progress": 91},
        ("operation-detail", "delete"): NO_BODY,
        ("operation-blockers-resolve", "post"): {"status_text": "Resolved by the sweep"},
        ("operation-blockers-reopen", "post"): NO_BODY,
        ("operation-checks-run", "post"): NO_BODY,
        ("operation-diagnose-ecs-list", "post"): {
            "environment": side.environment.pk,
            "region": "us-east-1",
            "cluster": "sweep-cluster",
            "service": "sweep-service",
            "port": 5000,
        },
        ("api-token", "post"): {"username": "owner", "password": cast.password("owner")},
        ("workspace-list", "post"): {"name": "Team Sweep"},
        ("workspace-detail", "patch"): {"egress_allow": ["10.9.0.0/16"]},
        ("workspace-members-list", "post"): {"username": "newbie", "role": "admin"},
        ("workspace-members-detail", "patch"): {"role": "admin"},
        ("workspace-members-detail", "delete"): NO_BODY,
        ("aws-environment-list", "post"): {"name": "sweep-env", "account_id": "123456789012", "regions": ["us-east-1"]},
        ("aws-environment-detail", "patch"): {"regions": ["us-east-1"]},
        ("aws-environment-detail", "delete"): NO_BODY,
        ("model-detail", "patch"): {"operation": None},  # the world's model is linked: unlinking writes
        ("model-aliases", "post"): {"alias": "production", "version": "1"},
    }
    if (route.name, method) in table:
        return table[(route.name, method)]
    if route.name.endswith("-list") and method == "post" and item in new:
        return new[item]
    if route.name.endswith("-detail") and method == "patch" and item in changes:
        return changes[item]
    if route.name.endswith("-detail") and method == "delete" and item in changes:
        return NO_BODY
    return None
