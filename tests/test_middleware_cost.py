"""The cheaper middleware stack (issue #18) keeps every guarantee of the one it replaced.

core/csp.py builds each Content Security Policy once instead of on every response; its headers
must be django-csp's, byte for byte, on every kind of route. core/middleware.py skips sessions,
the session's user and flash messages on the routes that use none of them; login, the admin,
CSRF-protected forms, flash messages and the API called from a logged-in browser must work as
before. Behaviour and call counts only: bench/middleware.py measures the time.
"""

from __future__ import annotations

import pytest
from csp.constants import NONCE, SELF
from csp.exceptions import CSPNonceError
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

import core.csp
from core.csp import CSPMiddleware
from core.middleware import SessionlessRoutes
from tests.conftest import logged_in
from tracker.models import Task

DJANGO_CSP = "csp.middleware.CSPMiddleware"
OURS = "core.csp.CSPMiddleware"


def csp_headers(client: Client, path: str, **extra) -> tuple[int, str | None, str | None]:
    response = client.get(path, **extra)
    return (
        response.status_code,
        response.get("Content-Security-Policy"),
        response.get("Content-Security-Policy-Report-Only"),
    )


@pytest.fixture(autouse=True)
def fresh_policies():
    """Each test starts with no policy built, and leaves none (a full cache builds every time)."""
    core.csp._policies.clear()
    yield
    core.csp._policies.clear()


def with_middleware(settings, replace: str, by: str) -> None:
    assert replace in settings.MIDDLEWARE
    settings.MIDDLEWARE = [by if name == replace else name for name in settings.MIDDLEWARE]


# --- the Content Security Policy, built once ---------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_django_csps_exact_header_on_every_kind_of_route(settings, client, team, owner, token):
    routes = [
        (reverse("login"), {}),
        (team.get_absolute_url(), {}),  # a page, logged in (below)
        ("/api/operations/", {"HTTP_AUTHORIZATION": f"Token {token}"}),
        ("/api/operations/", {}),  # the API from the browser, with the session
        ("/api/operations/", {"HTTP_AUTHORIZATION": "Token wrong"}),  # a 401
        ("/api/no-such-thing/", {}),
        ("/v2", {}),
        ("/v2/health/live", {}),
        ("/v2/models/no-such-model", {"HTTP_AUTHORIZATION": f"Token {token}"}),
        ("/healthz", {}),
        ("/metrics", {}),
        ("/no-such-page/", {}),
        (reverse("api-docs"), {}),  # @csp_update adds data: images
        ("/static/no-such-file.css", {}),
    ]
    client = logged_in(client, owner)
    ours = [csp_headers(client, path, **extra) for path, extra in routes]
    ours_again = [csp_headers(client, path, **extra) for path, extra in routes]  # from the cache now
    with_middleware(settings, OURS, DJANGO_CSP)
    theirs = [csp_headers(client, path, **extra) for path, extra in routes]

    assert ours == theirs == ours_again
    assert all(header for _, header, _ in ours)
    assert {status for status, _, _ in ours} >= {200, 401, 404}
    assert len({header for _, header, _ in ours}) == 2  # the policy, and the API docs' one


@pytest.mark.django_db
def test_it_builds_each_policy_once_not_on_every_response(client, monkeypatch):
    built = []
    real = core.csp.build_policy
    monkeypatch.setattr(core.csp, "build_policy", lambda *args, **kwargs: built.append(args) or real(*args, **kwargs))

    for _ in range(3):
        client.get(reverse("login"))
        client.get(reverse("api-docs"))
        client.get("/healthz")

    # Two policies (the settings' one and the API docs' update) and the report-only one (empty
    # here, and the same for both): three builds for nine responses, where django-csp makes eighteen.
    assert len(built) == 3


def csp_response(request, view, **attributes):
    def get_response(request):
        response = view(request)
        for name, value in attributes.items():
            setattr(response, name, value)
        return response

    return CSPMiddleware(get_response)(request)


def plain_view(request):
    return HttpResponse("ok")


def test_a_nonce_is_new_on_every_request_and_in_the_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    seen = []

    def page(request):
        seen.append(str(request.csp_nonce))
        return HttpResponse("<script nonce=...>")

    first = csp_response(RequestFactory().get("/"), page)
    second = csp_response(RequestFactory().get("/"), page)

    assert seen[0] != seen[1]
    assert f"'nonce-{seen[0]}'" in first["Content-Security-Policy"]
    assert f"'nonce-{seen[1]}'" in second["Content-Security-Policy"]
    without = csp_response(RequestFactory().get("/"), plain_view)  # nobody asked: no nonce in it
    assert "nonce" not in without["Content-Security-Policy"]
    assert without["Content-Security-Policy"] == "default-src 'self'; script-src 'self'" or (
        without["Content-Security-Policy"] == "script-src 'self'; default-src 'self'"
    )


def test_a_nonce_asked_for_after_the_header_is_written_is_refused():
    request = RequestFactory().get("/")
    csp_response(request, plain_view)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_a_decorators_policy_changed_in_place_is_a_new_header_not_a_stale_one():
    update = {"img-src": ["data:"]}
    first = csp_response(RequestFactory().get("/"), plain_view, _csp_update=update)
    update["img-src"] = ["https://images.example.org"]
    second = csp_response(RequestFactory().get("/"), plain_view, _csp_update=update)

    assert "data:" in first["Content-Security-Policy"]
    assert "https://images.example.org" in second["Content-Security-Policy"]
    assert "data:" not in second["Content-Security-Policy"]


def test_exempt_replaced_and_report_only_policies_are_django_csps():
    from csp.utils import build_policy

    exempt = csp_response(RequestFactory().get("/"), plain_view, _csp_exempt=True)
    replaced = csp_response(RequestFactory().get("/"), plain_view, _csp_replace={"img-src": ["*"]})
    report_only = csp_response(RequestFactory().get("/"), plain_view, _csp_config_ro={"default-src": [SELF]})

    assert "Content-Security-Policy" not in exempt
    assert replaced["Content-Security-Policy"] == build_policy(replace={"img-src": ["*"]})
    assert report_only["Content-Security-Policy-Report-Only"] == "default-src 'self'"


def test_a_changed_setting_is_a_new_policy(settings):
    before = csp_response(RequestFactory().get("/"), plain_view)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    after = csp_response(RequestFactory().get("/"), plain_view)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'none'"]},
        "EXCLUDE_URL_PREFIXES": ["/excluded/"],
    }
    excluded = csp_response(RequestFactory().get("/excluded/page"), plain_view)

    assert "default-src 'self'" in before
    assert after == "default-src 'none'"
    assert "Content-Security-Policy" not in excluded


def test_a_view_that_makes_a_new_policy_per_request_does_not_grow_the_cache():
    for number in range(core.csp.MAX_POLICIES * 2):
        response = csp_response(
            RequestFactory().get("/"), plain_view, _csp_update={"img-src": [f"https://{number}.example"]}
        )
        assert f"https://{number}.example" in response["Content-Security-Policy"]

    assert len(core.csp._policies) == core.csp.MAX_POLICIES


def test_debug_404s_keep_djangos_own_page_without_a_policy(settings):
    settings.DEBUG = True
    response = csp_response(RequestFactory().get("/"), lambda request: HttpResponse(status=404))

    assert "Content-Security-Policy" not in response


# --- sessions, users and messages only where they are used -------------------------------------------


def no_session_work(response) -> bool:
    request = response.wsgi_request
    return (
        not hasattr(request, "session")
        and not hasattr(request, "_messages")
        and not request.user.is_authenticated
        and "sessionid" not in response.cookies
        and "Cookie" not in response.get("Vary", "")
    )


@pytest.mark.parametrize(
    ("path", "authorization", "sessionless"),
    [
        ("/v2", "", True),
        ("/v2/models/iris/infer", "", True),
        ("/v2-rollout/", "", False),  # a page whose path only starts like the inference routes
        ("/healthz", "", True),
        ("/healthz/extra", "", False),
        ("/metrics", "", True),
        ("/static/css/app.css", "", True),
        ("/api/operations/", "Token abc", True),
        ("/api/operations/", "token\tabc", True),
        ("/api/operations/", "Token", True),  # DRF refuses it with a 401; no session either way
        ("/api/operations/", "Bearer abc", False),  # not DRF's keyword: the session is tried next
        ("/api/operations/", "", False),
        ("/operations/x/", "Token abc", False),  # a page: the token means nothing there
        ("/accounts/login/", "", False),
        ("/admin/", "", False),
    ],
)
def test_it_tells_sessionless_routes_from_the_path_and_the_token(path, authorization, sessionless):
    routes = SessionlessRoutes(django_settings.SESSIONLESS_PATHS, django_settings.SESSIONLESS_TOKEN_PREFIXES)
    request = RequestFactory().get(path, HTTP_AUTHORIZATION=authorization)

    assert routes(request) is sessionless


@pytest.mark.django_db
def test_inference_probes_and_metrics_do_no_session_work_even_for_a_logged_in_browser(client, owner):
    client = logged_in(client, owner)
    for path in ("/v2", "/v2/health/live", "/healthz", "/metrics", "/static/no-such-file.css"):
        response = client.get(path)
        assert response.status_code in (200, 403, 404), path
        assert no_session_work(response), path


@pytest.mark.django_db
def test_the_api_with_a_token_answers_as_the_tokens_user_not_the_sessions(client, team, owner, outsider):
    outsiders_token = Token.objects.create(user=outsider).key
    client = logged_in(client, owner)  # the owner's session cookie is sent too

    response = client.get("/api/operations/", HTTP_AUTHORIZATION=f"Token {outsiders_token}")

    assert response.status_code == 200
    assert response.json()["results"] == []  # the outsider's view, not the owner's
    assert response.wsgi_request.user == outsider
    assert not hasattr(response.wsgi_request, "session") and "sessionid" not in response.cookies
    assert client.get("/api/operations/").json()["results"]  # without the token: the owner's session


@pytest.mark.django_db
def test_a_wrong_token_is_a_401_not_a_fall_back_to_the_session(client, team, owner):
    response = logged_in(client, owner).get("/api/operations/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token."}


@pytest.mark.django_db
def test_the_api_from_a_browser_keeps_its_session_and_its_csrf_check(team, owner):
    browser = logged_in(Client(enforce_csrf_checks=True), owner)

    listed = browser.get("/api/operations/")
    refused = browser.post("/api/operations/", {"title": "No token"}, content_type="application/json")

    assert listed.status_code == 200 and listed.json()["results"]
    assert listed.wsgi_request.session.get("_auth_user_id") == str(owner.pk)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]


@pytest.mark.django_db
def test_login_with_a_csrf_protected_form_still_works(owner):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("login"))
    credentials = {"username": owner.username, "password": "owner-password"}

    without_token = browser.post(reverse("login"), credentials)
    with_token = browser.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": page.context["csrf_token"]})

    assert without_token.status_code == 403
    assert with_token.status_code == 302 and "sessionid" in with_token.cookies
    assert browser.get(reverse("tracker:operation-list")).wsgi_request.user == owner


@pytest.mark.django_db
def test_a_flash_message_is_shown_on_the_next_page(client, team, teammate):
    task = Task.objects.filter(phase__operation=team, done=False).first()
    editor = logged_in(client, teammate)

    response = editor.post(reverse("tracker:task-toggle", args=[team.slug, task.pk]), {"done": "1"}, follow=True)

    assert response.status_code == 200
    assert f"Done: {task.title}" in response.content.decode()
    assert f"Done: {task.title}" not in editor.get(team.get_absolute_url()).content.decode()  # shown once


@pytest.mark.django_db
def test_the_admin_still_knows_its_superuser(admin_client):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert response.wsgi_request.user.is_superuser
    assert "Cookie" in response["Vary"]


def api_views():
    """(route, DRF view class, or None for a plain Django view) of every route under /api/."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                if route.startswith("api/"):
                    yield route, getattr(pattern.callback, "cls", None)

    return list(walk(get_resolver().url_patterns, ""))


def test_every_api_view_tries_the_token_first_so_a_token_request_needs_no_session():
    views = api_views()

    assert len(views) > 20
    for route, view in views:
        # A plain Django view under /api/ would see nobody logged in when called with a token.
        assert view is not None, f"{route} is not a DRF view: SESSIONLESS_TOKEN_PREFIXES skips its session"
        classes = list(view.authentication_classes)
        assert not classes or classes[0] is TokenAuthentication, (route, classes)
