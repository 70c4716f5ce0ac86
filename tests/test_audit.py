"""The audit log (issue 7): each security event is one AuditEntry (who, what, when, from where, the
request id) and one `snailtrail.audit` line, and neither ever holds a password or a token."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from core.request_id import JsonFormatter
from tests.conftest import join, logged_in
from tracker import services
from tracker.models import Membership, Task

pytestmark = pytest.mark.django_db

Event = AuditEntry.Event
ADDRESS = "198.51.100.7"


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def only(event: str) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(event=event))
    assert len(entries) == 1, entries
    return entries[0]


def as_text(entry: AuditEntry) -> str:
    return json.dumps(
        [entry.event, entry.user_pk, entry.username, entry.source_address, entry.request_id, entry.details],
        default=str,
    )


# --- logging in and out ---------------------------------------------------------------------------


def test_a_login_is_recorded_with_who_when_where_and_the_request_id(client, viewer):
    response = client.post(
        "/accounts/login/", {"username": "viewer", "password": "viewer-password"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 302
    entry = only(Event.LOGIN)
    assert (entry.user_pk, entry.username, entry.source_address) == (viewer.pk, "viewer", ADDRESS)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.at.utcoffset().total_seconds() == 0
    assert "viewer-password" not in as_text(entry)


def test_a_failed_login_keeps_the_username_tried_and_never_the_password(client, viewer):
    response = client.post("/accounts/login/", {"username": "viewer", "password": "Sekr1t-guess"}, REMOTE_ADDR=ADDRESS)
    client.post("/accounts/login/", {"username": "nobody-here", "password": "Other-guess"})

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(event=Event.LOGIN).exists()
    entries = AuditEntry.objects.filter(event=Event.LOGIN_FAILED).order_by("pk")
    assert [(e.user_pk, e.username) for e in entries] == [(None, "viewer"), (None, "nobody-here")]
    assert entries[0].source_address == ADDRESS and entries[0].request_id == response["X-Request-ID"]
    for entry in entries:
        assert "guess" not in as_text(entry)


def test_a_logout_is_recorded(client, viewer):
    logged_in(client, viewer)

    response = client.post("/accounts/logout/", REMOTE_ADDR=ADDRESS)

    assert response.status_code == 302
    entry = only(Event.LOGOUT)
    assert (entry.user_pk, entry.username, entry.source_address) == (viewer.pk, "viewer", ADDRESS)


def test_logging_out_when_not_logged_in_records_nothing(client):
    client.post("/accounts/logout/")

    assert not AuditEntry.objects.filter(event=Event.LOGOUT).exists()


# --- permission denied ----------------------------------------------------------------------------


def test_a_page_403_is_recorded_and_the_page_is_unchanged(client, team, viewer):
    task = Task.objects.get(title="AWS Account Check")
    AuditEntry.objects.all().delete()

    response = logged_in(client, viewer).post(
        f"/operations/{team.slug}/tasks/{task.pk}/toggle/", {"done": "1"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 403
    assert b"This needs the editor role; you are a viewer." in response.content
    entry = only(Event.PERMISSION_DENIED)
    assert (entry.user_pk, entry.username, entry.source_address) == (viewer.pk, "viewer", ADDRESS)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.details["operation"] == team.slug
    assert entry.details["method"] == "POST" and entry.details["path"].endswith("/toggle/")


def test_an_outsiders_404_is_not_a_permission_denied(client, team, outsider):
    response = logged_in(client, outsider).get(f"/operations/{team.slug}/")

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(event=Event.PERMISSION_DENIED).exists()


def test_an_api_403_is_recorded(team, viewer):
    api = APIClient()
    api.force_authenticate(viewer)

    response = api.post(
        f"/api/operations/{team.slug}/tasks/", {"title": "Nope", "kind": "task"}, format="json", REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 403
    entry = only(Event.PERMISSION_DENIED)
    assert (entry.user_pk, entry.username, entry.source_address) == (viewer.pk, "viewer", ADDRESS)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.details["operation"] == team.slug and entry.details["method"] == "POST"


def test_api_401s_and_outsiders_404s_are_not_recorded(team, outsider):
    anonymous = APIClient().post(f"/api/operations/{team.slug}/tasks/", {"title": "x"}, format="json")
    api = APIClient()
    api.force_authenticate(outsider)
    hidden = api.post(f"/api/operations/{team.slug}/tasks/", {"title": "x"}, format="json")

    assert (anonymous.status_code, hidden.status_code) == (401, 404)
    assert not AuditEntry.objects.filter(event=Event.PERMISSION_DENIED).exists()


def test_a_throttled_api_call_is_not_a_permission_denied(settings, owner):
    rates = {"login": "1/min", "write": "9/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api = APIClient()
    api.post("/api/auth/token/", {"username": "owner", "password": "wrong-1"}, format="json")

    throttled = api.post("/api/auth/token/", {"username": "owner", "password": "wrong-2"}, format="json")

    assert throttled.status_code == 429
    assert not AuditEntry.objects.filter(event=Event.PERMISSION_DENIED).exists()


# --- API tokens -----------------------------------------------------------------------------------


def test_a_token_made_through_the_api_is_recorded_without_its_key(owner):
    response = APIClient().post(
        "/api/auth/token/", {"username": "owner", "password": "owner-password"}, format="json", REMOTE_ADDR=ADDRESS
    )
    again = APIClient().post("/api/auth/token/", {"username": "owner", "password": "owner-password"}, format="json")

    assert response.status_code == 200 and again.status_code == 200
    key = response.json()["token"]
    entry = only(Event.TOKEN_CREATED)  # the second call returned the same token: nothing new
    assert (entry.user_pk, entry.username, entry.source_address) == (owner.pk, "owner", ADDRESS)
    assert entry.request_id == response["X-Request-ID"]
    assert key not in as_text(entry) and "owner-password" not in as_text(entry)


def test_a_failed_token_request_is_a_failed_login(owner):
    response = APIClient().post(
        "/api/auth/token/", {"username": "owner", "password": "not-it-at-all"}, format="json", REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 400
    entry = only(Event.LOGIN_FAILED)
    assert (entry.user_pk, entry.username, entry.source_address) == (None, "owner", ADDRESS)
    assert "not-it-at-all" not in as_text(entry)


def test_a_token_deleted_through_the_orm_is_recorded_without_its_key(owner):
    token = Token.objects.create(user=owner)
    key = token.key

    token.delete()

    created, deleted = only(Event.TOKEN_CREATED), only(Event.TOKEN_DELETED)
    assert (deleted.user_pk, deleted.username, deleted.source_address) == (owner.pk, "owner", "")
    assert key not in as_text(created) + as_text(deleted)


def test_a_token_deleted_with_its_user_is_recorded(owner):
    Token.objects.create(user=owner)
    owner_pk = owner.pk

    owner.delete()

    entry = only(Event.TOKEN_DELETED)
    assert entry.user_pk == owner_pk


# --- memberships ----------------------------------------------------------------------------------


def test_membership_grant_change_and_revoke_are_recorded_with_the_actor(example_operation, owner, teammate):
    services.membership_set(operation=example_operation, user=teammate, role="viewer", actor=owner)
    services.membership_set(operation=example_operation, user=teammate, role="viewer", actor=owner)  # no change
    services.membership_set(operation=example_operation, user=teammate, role="editor", actor=owner)
    services.membership_remove(membership=Membership.objects.get(user=teammate), actor=owner)

    granted, changed, revoked = (
        only(Event.MEMBERSHIP_GRANTED),
        only(Event.MEMBERSHIP_ROLE_CHANGED),
        only(Event.MEMBERSHIP_REVOKED),
    )
    member = {"operation": example_operation.slug, "member_id": teammate.pk, "member": "teammate"}
    assert granted.details == {**member, "role_old": None, "role_new": "viewer"}
    assert changed.details == {**member, "role_old": "viewer", "role_new": "editor"}
    assert revoked.details == {**member, "role_old": "editor", "role_new": None}
    for entry in (granted, changed, revoked):
        assert (entry.user_pk, entry.username, entry.source_address) == (owner.pk, "owner", "")


def test_memberships_that_go_with_their_user_or_operation_are_recorded_too(team, owner, teammate, viewer):
    """A cascade has no service to name an actor: the entry says what the membership went with."""
    AuditEntry.objects.all().delete()
    teammate_pk = teammate.pk

    teammate.delete()  # as the admin's "delete user" does

    revoked = only(Event.MEMBERSHIP_REVOKED)
    assert (revoked.user_pk, revoked.username) == (None, "")
    assert revoked.details == {
        "operation": team.slug,
        "member_id": teammate_pk,
        "member": "teammate",
        "role_old": "editor",
        "role_new": None,
        "deleted_with": "user",
    }

    AuditEntry.objects.all().delete()
    slug = team.slug
    team.delete()

    entries = AuditEntry.objects.filter(event=Event.MEMBERSHIP_REVOKED).order_by("details__member")
    assert [
        (e.details["member"], e.details["role_old"], e.details["operation"], e.details["deleted_with"]) for e in entries
    ] == [
        ("owner", "admin", slug, "operation"),
        ("viewer", "viewer", slug, "operation"),
    ]


def test_a_membership_removed_by_a_service_is_recorded_once_with_its_actor(team, owner, viewer):
    AuditEntry.objects.all().delete()

    services.membership_remove(membership=Membership.objects.get(user=viewer), actor=owner)

    revoked = only(Event.MEMBERSHIP_REVOKED)
    assert revoked.user_pk == owner.pk and "deleted_with" not in revoked.details


def test_a_membership_change_made_by_the_system_has_no_user(example_operation, teammate):
    services.membership_set(operation=example_operation, user=teammate, role="admin", actor=None)

    entry = only(Event.MEMBERSHIP_GRANTED)
    assert (entry.user_pk, entry.username) == (None, "")


def test_a_membership_change_through_a_page_has_the_address_of_its_request(client, team, owner, outsider):
    join(team.workspace, outsider)  # only a member of the workspace can be given a role in its operations
    AuditEntry.objects.all().delete()  # the team's own memberships

    response = logged_in(client, owner).post(
        f"/operations/{team.slug}/sharing/", {"username": "outsider", "role": "editor"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code in (200, 302)
    entry = only(Event.MEMBERSHIP_GRANTED)
    assert (entry.user_pk, entry.source_address) == (owner.pk, ADDRESS)
    assert entry.details["member"] == "outsider" and entry.details["role_new"] == "editor"


# --- the source address ---------------------------------------------------------------------------


def test_without_api_num_proxies_a_forwarded_for_header_is_ignored(client, viewer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": None}

    client.post(
        "/accounts/login/",
        {"username": "viewer", "password": "viewer-password"},
        REMOTE_ADDR=ADDRESS,
        HTTP_X_FORWARDED_FOR="203.0.113.1",
    )

    assert only(Event.LOGIN).source_address == ADDRESS


@pytest.mark.parametrize(("proxies", "expected"), [(0, "10.0.0.5"), (1, "203.0.113.9"), (2, "192.0.2.66")])
def test_api_num_proxies_picks_the_client_address_as_the_throttles_do(client, viewer, settings, proxies, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}

    client.post(
        "/accounts/login/",
        {"username": "viewer", "password": "viewer-password"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.9",
    )
    APIClient().post(
        "/api/auth/token/",
        {"username": "viewer", "password": "viewer-password"},
        format="json",
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.9",
    )

    assert only(Event.LOGIN).source_address == expected
    assert only(Event.TOKEN_CREATED).source_address == expected


# --- the log line ---------------------------------------------------------------------------------


def test_each_event_is_one_json_log_line_without_secrets(
    client, team, viewer, owner, outsider, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="snailtrail.audit")
    join(team.workspace, outsider)  # only a member of the workspace can be given a role in its operations
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/login/", {"username": "viewer", "password": "Wrong-Pass-123"})
        client.post("/accounts/login/", {"username": "viewer", "password": "viewer-password"})
        client.post("/accounts/logout/")
        response = APIClient().post(
            "/api/auth/token/", {"username": "owner", "password": "owner-password"}, format="json"
        )
        key = response.json()["token"]
        Token.objects.filter(key=key).get().delete()
        services.membership_set(operation=team, user=outsider, role="viewer", actor=owner)

    records = [r for r in caplog.records if r.name == "snailtrail.audit"]
    assert [r.audit["event"] for r in records] == [
        "login_failed",
        "login",
        "logout",
        "token_created",
        "token_deleted",
        "membership_granted",
    ]
    assert all(r.levelno == logging.INFO for r in records)
    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s")
    lines = [formatter.format(r) for r in records]
    for line in lines:
        parsed = json.loads(line)
        assert parsed["logger"] == "snailtrail.audit" and "event" in parsed["audit"]
    output = "\n".join(lines) + caplog.text
    for secret in ("Wrong-Pass-123", "viewer-password", "owner-password", key):
        assert secret not in output
    rows = "".join(as_text(entry) for entry in AuditEntry.objects.all())
    for secret in ("Wrong-Pass-123", "viewer-password", "owner-password", key):
        assert secret not in rows
    assert json.loads(lines[1])["audit"]["username"] == "viewer"


# --- the admin ------------------------------------------------------------------------------------


def test_the_admin_list_is_read_only_for_superusers(client, superuser, viewer):
    client.post("/accounts/login/", {"username": "viewer", "password": "nope"})
    entry = only(Event.LOGIN_FAILED)
    admin = logged_in(client, superuser)

    listing = admin.get("/admin/audit/auditentry/")
    filtered = admin.get("/admin/audit/auditentry/", {"event": "login_failed", "q": "viewer"})

    assert listing.status_code == 200 and filtered.status_code == 200
    assert b"viewer" in filtered.content
    assert admin.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    admin.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"username": "someone-else"})
    entry.refresh_from_db()
    assert entry.username == "viewer"
    assert b'name="username"' not in admin.get(f"/admin/audit/auditentry/{entry.pk}/change/").content


def test_staff_without_superuser_never_see_the_audit_log(client, owner):
    owner.user_permissions.add(*Permission.objects.filter(content_type__app_label="audit"))

    staff = logged_in(client, owner)

    assert staff.get("/admin/audit/auditentry/").status_code == 403
    assert b"/admin/audit/" not in staff.get("/admin/").content


def test_membership_changes_in_the_tracker_admin_are_recorded(client, team, superuser, teammate):
    membership = Membership.objects.get(user=teammate)
    AuditEntry.objects.all().delete()
    admin = logged_in(client, superuser)

    changed = admin.post(f"/admin/tracker/membership/{membership.pk}/change/", {"role": "admin"})
    deleted = admin.post(f"/admin/tracker/membership/{membership.pk}/delete/", {"post": "yes"})

    assert changed.status_code == 302 and deleted.status_code == 302
    assert only(Event.MEMBERSHIP_ROLE_CHANGED).details["role_old"] == "editor"
    revoked = only(Event.MEMBERSHIP_REVOKED)
    assert (revoked.user_pk, revoked.details["member"], revoked.details["role_old"]) == (
        superuser.pk,
        "teammate",
        "admin",
    )
    assert not Membership.objects.filter(pk=membership.pk).exists()
