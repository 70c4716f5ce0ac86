"""CSRF is enforced on every route that a browser's cookies could authenticate.

What is swept: every pattern of the URL resolver (`sweep.ROUTES`, walked recursively from
`get_resolver().url_patterns`), crossed with every unsafe method (POST, PUT, PATCH, DELETE). For
each, a signed-in browser (`Client(enforce_csrf_checks=True)`; owner, an admin of operation A, or
for the Django admin the superuser root) sends the request three times:

1. without a CSRF token (it has the CSRF cookie, as a forged cross-site request would): a 403 CSRF
   refusal, and nothing written to the database;
2. with a token from another session (an attacker can get one of their own): the same;
3. with the token of the page's own form: not refused, and for the application's forms and API
   writes, done (the redirect after a form, a 2xx from the API, and rows written), so the first two
   can fail. (For the admin and for read-only pages, which show themselves for PUT, PATCH and
   DELETE as for GET, only POST is sent with the token: a page render each would be all it adds.)

The request is the real one: for a page route, the fields of the `<form method="post">` that posts
to it on the page that shows it (found by rendering every page first: the `census`), with the values
of `bodies.form_fields`; for an API route, the valid body of `bodies.api_body`, the token in the
`X-CSRFToken` header as a script using the session would send it.

How each kind of route is classified, so that a route added later is swept or fails
`test_every_route_is_classified` until it is:
- REST API (DRF) routes: the methods come from the view (a viewset's routed actions within its
  `http_method_names`); each method it takes needs a body in `bodies.api_body`. DRF exempts its views
  from the middleware and checks CSRF itself for session-authenticated requests.
- The application's pages: a route some page's form posts to takes POST (it must have fields in
  `bodies.form_fields`); every other page route must be listed in `READ_ONLY` (and a POST to it
  with a token must write nothing).
- The Django admin and `django.contrib.auth`'s pages: the census finds their forms; with a token
  they must not be refused (what the admin then does with a default form is Django's business).
- `EXEMPT`: the views marked `csrf_exempt`, each with why; `test_exempt_routes_ignore_cookies`
  checks that a session cookie gets nothing from them, which is what makes the exemption safe.
- `SHADOWED`: a pattern no URL reaches (an earlier one has its path).

Not exempt, and swept like the rest: the login pages (Django protects them; a forged login is
refused too) and the token endpoint `/api/auth/token/` when a session cookie comes with the call.
Exempt by design but no route: an API call authenticated by `Authorization: Token` needs no CSRF
token, since a browser never adds that header by itself (`test_a_token_authenticated_api_call_...`).
There are no inbound webhooks (the application only sends them).

Also: every `<form method="post">` of every page a member can open (the census: 375 forms on 215
pages at the time of writing) carries a `csrfmiddlewaretoken` input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from .bodies import NO_BODY, api_body, form_fields
from .conftest import session_client, token_client
from .sweep import (
    ROUTES,
    UNSAFE_METHODS,
    Form,
    Request,
    Route,
    Unfillable,
    body_text,
    db_writes,
    forms_of,
    is_csrf_refusal,
    reaches,
    route_of,
    row_counts,
    token_on,
    url_for,
)
from .world import World, values

pytestmark = pytest.mark.django_db

# Views marked csrf_exempt, and why that is safe. Each must be exactly the set of such views.
EXEMPT = {
    "mlservice:infer": "inference authenticates by `Authorization: Token` only and never reads a cookie, "
    "so a cross-site request carries no credential (mlservice/views.py)",
    "mlservice:version-infer": "as mlservice:infer, for a named version",
    "healthz": "a load balancer's probe: GET and HEAD only, anything else is a 405; no login, no state",
    "readyz": "as healthz",
}
# Patterns no request can reach, because an earlier pattern has the same path: (name, view module).
SHADOWED = {
    ("login", "django.contrib.auth.views"): "django.contrib.auth.urls' login page, behind the throttled one "
    "config/urls.py puts first at accounts/login/ (which is swept)",
}
# Page routes that take no form: a POST to them (with a token) must change nothing.
READ_ONLY = {
    "tracker:operations",  # a redirect to the operation list
    "tracker:operation-list",
    "ops:environments",
    "tracker:workspace",  # its forms post to the member and egress routes
    "tracker:workspaces",  # its creation form is a superuser's: owner's POST is a 403 that writes nothing
    "tracker:operation",  # the dashboard; its forms post to the edit routes
    "tracker:operation-live",  # what an open dashboard asks for its news (JSON)
    "tracker:public",
    "tracker:export-markdown",
    "tracker:export-json",
    "ops:checks",
    "ops:check-detail",
    "password_change_done",
    "password_reset_done",
    "password_reset_complete",
    "mlservice:server-metadata",
    "mlservice:live",
    "mlservice:ready",
    "mlservice:model",
    "mlservice:model-ready",
    "mlservice:version",
    "mlservice:version-ready",
    "metrics",
    "notify:report",  # one kept report
}
# Form routes whose successful POST writes no row of the application, and the status it answers.
FORM_NO_WRITE = {
    "logout": 302,  # ends the session: a session row, not application data
    "password_reset": 302,  # sends an e-mail
    "ops:diagnose": 200,  # asks AWS and shows the answer
}
# API writes that write nothing when they succeed.
API_NO_WRITE = {
    ("operation-diagnose-ecs-list", "post"): "walks AWS and answers; stores nothing",
    ("api-token", "post"): "owner already has a token: it is returned, not made",
}


# API routes whose writes are an instance superuser's (creating a workspace).
SUPERUSER_ROUTES = {"workspace-list"}


def is_shadowed(route: Route) -> bool:
    return (route.name, getattr(route.callback, "__module__", "")) in SHADOWED


SWEPT = [route for route in ROUTES if not is_shadowed(route) and route.name not in EXEMPT]


def member_of(world: World, route: Route):
    """Who may use the route: owner administers A and its workspace; only a superuser gets into the
    admin or creates a workspace."""
    return world.admin if route.is_admin or route.name in SUPERUSER_ROUTES else world.owner


def url_of(route: Route, world: World) -> str:
    return url_for(route, values(route, world, operation=world.a, objects=world.a, for_write=True))


# --- the census: every page, as a member sees it, and its forms -------------------------------------


@dataclass
class Page:
    route: Route
    url: str
    final: str  # after redirects
    status: int
    forms: list[Form] = field(default_factory=list)
    error: str = ""


@dataclass
class Census:
    pages: dict[Route, Page]
    # Each route some page's form posts to -> (page, form), in the order the pages were rendered.
    targets: dict[Route, list[tuple[Page, Form]]]
    nowhere: list[tuple[Page, Form]]  # post forms whose action is no route

    def form_for(self, route: Route, url: str) -> tuple[Page, Form] | None:
        """The form that posts to `url` (else to another URL of the route), preferably on the route's own
        page, among the pages the route's member sees (the admin's pages are the superuser's)."""
        found = [pair for pair in self.targets.get(route, []) if pair[0].route.is_admin == route.is_admin]
        ranked = sorted(found, key=lambda pair: (pair[1].action != url, pair[0].route != route))
        return ranked[0] if ranked else None


@pytest.fixture(scope="module")
def census(world, django_db_blocker) -> Census:
    with django_db_blocker.unblock():
        clients = {False: session_client(world.owner), True: session_client(world.admin)}
        pages: dict[Route, Page] = {}
        for route in ROUTES:
            if is_shadowed(route):
                continue
            url = url_of(route, world)
            try:
                response = clients[route.is_admin].get(url, follow=True)
            except Exception as error:  # recorded, and failed on in test_every_page_renders_for_a_member
                pages[route] = Page(route, url, url, 0, error=repr(error))
                continue
            final = response.request["PATH_INFO"]
            html = "text/html" in response.get("Content-Type", "")
            forms = forms_of(body_text(response), final) if html else []
            pages[route] = Page(route, url, final, response.status_code, forms)
        targets: dict[Route, list[tuple[Page, Form]]] = {}
        nowhere = []
        for page in pages.values():
            for form in page.forms:
                if form.method != "post":
                    continue
                target = route_of(form.action)
                if target is None:
                    nowhere.append((page, form))
                else:
                    targets.setdefault(target, []).append((page, form))
        return Census(pages, targets, nowhere)


def test_every_page_renders_for_a_member(census):
    broken = [
        f"{page.route.label}: {page.error or page.status}"
        for page in census.pages.values()
        if page.error or page.status >= 500
    ]
    assert not broken, "pages that fail for their own member:\n" + "\n".join(broken)


def test_every_post_form_carries_a_csrf_token(census):
    """Each `<form method="post">` of each page a member can open has a non-empty csrfmiddlewaretoken."""
    checked, missing = 0, []
    for page in census.pages.values():
        for form in page.forms:
            if form.method == "post":
                checked += 1
                if not form.csrf_token:
                    missing.append(f"{page.route.label} ({page.final}): form posting to {form.action}")
    assert not missing, "post forms without a CSRF token:\n" + "\n".join(missing)
    assert not census.nowhere, [f"{page.final} -> {form.action}" for page, form in census.nowhere]
    # The census really saw the forms: the dashboard's editing forms, the sharing page's, the admin's.
    dashboard = next(page for route, page in census.pages.items() if route.name == "tracker:operation")
    assert sum(form.method == "post" for form in dashboard.forms) >= 10
    assert checked > 100


def test_every_route_is_classified(census, world):
    problems = []
    for route in ROUTES:
        try:
            url = url_for(route, values(route, world, operation=world.a, objects=world.a, for_write=True))
        except Unfillable as missing:
            problems.append(f"{route.label}: no value for {missing}")
            continue
        if reaches(route, url) == is_shadowed(route):
            problems.append(f"{route.label}: {'shadowed' if is_shadowed(route) else 'reached'}, but SHADOWED says not")
        if route.csrf_exempt != (route.name in EXEMPT):
            problems.append(f"{route.label}: csrf_exempt={route.csrf_exempt} but EXEMPT disagrees: list it with why")
        if route.is_api:
            for method in sorted(route.api_methods() & set(UNSAFE_METHODS)):
                if api_body(route, method, world, world.a) is None:
                    problems.append(f"{method.upper()} {route.label}: add a body to bodies.api_body")
        elif not route.is_admin and not is_shadowed(route) and route.name not in EXEMPT:
            posted_to = route in census.targets
            if posted_to and route.name in READ_ONLY:
                problems.append(f"{route.label}: a form posts here, but READ_ONLY lists it")
            if not posted_to and route.name not in READ_ONLY:
                problems.append(f"{route.label}: no form posts here: list it in READ_ONLY, or show its form")
            if posted_to and form_fields(route, world, world.a) is None:
                problems.append(f"{route.label}: add its fields to bodies.form_fields")
    stale = READ_ONLY - {route.name for route in ROUTES}
    assert not stale, f"READ_ONLY names routes that no longer exist: {stale}"
    assert not problems, "\n".join(problems)


# --- the sweep ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attacker_token(world, django_db_blocker) -> str:
    """A valid CSRF token of someone else's session: the outsider's."""
    with django_db_blocker.unblock():
        return token_on(session_client(world.outsider))


def _request(route: Route, method: str, world: World, census: Census, client, token: str) -> tuple[Request, str, bool]:
    """The request, the token to send with it (the page's form's, or `token` from another page of the
    session), and whether it is a form the census found posting here."""
    url = url_of(route, world)
    if route.is_api:
        body = api_body(route, method, world, world.a) if method in route.api_methods() else None
        return Request(method, url, body=None if body is NO_BODY else body), token, False
    found = census.form_for(route, url) if method == "post" else None
    if found is None:
        return Request(method, url), token, False
    page, _ = found
    # The page again, in this session (its URL anew: a password-reset link made before the session's
    # login no longer opens): its form, with this session's token.
    fresh = client.get(url_of(page.route, world), follow=True)
    final = fresh.request["PATH_INFO"]
    candidates = [form for form in forms_of(body_text(fresh), final) if form.method == "post"]
    wanted = found[1].action
    form = next((form for form in candidates if form.action == wanted), None)
    assert form is not None, f"{page.url} no longer has its form posting to {wanted}"
    assert form.csrf_token, f"the form on {final} posting to {wanted} has no CSRF token"
    fields = form_fields(route, world, world.a)
    data = form.data(fields if not route.is_admin else None, with_token=False)
    return Request(method, form.action, form=data), form.csrf_token, True


@pytest.mark.parametrize("route", [pytest.param(route, id=route.label) for route in SWEPT])
def test_unsafe_requests_need_the_csrf_token(route, world, census, attacker_token, monkeypatch):
    import ops.api
    import ops.views

    monkeypatch.setattr(ops.views, "diagnose_ecs", _no_aws_diagnosis)  # no AWS: the form, not the walk
    monkeypatch.setattr(ops.api, "diagnose_ecs", _no_aws_diagnosis)
    client = session_client(member_of(world, route))
    token = token_on(client)
    requests = {method: _request(route, method, world, census, client, token) for method in UNSAFE_METHODS}

    cookie = client.cookies["csrftoken"].value
    counts = row_counts()
    for method, (request, _token, _is_form) in requests.items():
        for forged, why in ((None, "without a CSRF token"), (attacker_token, "with another session's token")):
            with db_writes() as writes:
                response = request.send(client, forged)
            assert is_csrf_refusal(response), (
                f"{method.upper()} {request.url} {why}: {response.status_code}, not a CSRF refusal: "
                f"{body_text(response)[:300]}"
            )
            assert not writes, f"{method.upper()} {request.url} {why} wrote: {writes}"
    assert row_counts() == counts

    rotated = None
    for method, (request, token, is_form) in requests.items():  # DELETE last: it may remove what the rest use
        if (route.is_admin or route.name in READ_ONLY) and method != "post":
            # A page shows itself for the other methods, as for POST: a render each, skipped. (The
            # admin takes POST only; a read-only page takes nothing.)
            continue
        if client.cookies["csrftoken"].value != cookie:  # logging in rotates the token, as it should
            rotated, cookie = token_on(client), client.cookies["csrftoken"].value
        token = rotated or token
        with db_writes() as writes:
            response = request.send(client, token)
        expect_done(route, method, request, response, writes, is_form)


def expect_done(route: Route, method: str, request: Request, response, writes: list[str], is_form: bool) -> None:
    """With the page's token: not refused; and what the route is for was done."""
    status, text = response.status_code, body_text(response)[:300]
    said = f"{method.upper()} {request.url} with the page's token: {status}"
    assert not is_csrf_refusal(response), f"{said}, refused: {text}"
    if route.is_admin:
        return  # passing the CSRF check is all the admin owes this sweep
    if route.is_api:
        if method in route.api_methods():
            assert 200 <= status < 300, f"{said}: {text}"
            if (route.name, method) in API_NO_WRITE:
                assert not writes, f"{said} wrote {writes}"
            else:
                assert writes, f"{said} wrote nothing: {text}"
        else:
            assert status == 405 and not writes, f"{said}, wrote {writes}"
    elif is_form:
        expected = FORM_NO_WRITE.get(route.name)
        if expected is None:  # done, then back to a page (bad input would be the form again, a 400)
            assert status == 302 and writes, f"{said}, wrote {writes}: {text}"
        else:
            assert status == expected and not writes, f"{said}, wrote {writes}"
    else:
        assert status < 500 and not writes, f"{said}, wrote {writes}"


def _no_aws_diagnosis(**kwargs):
    from ops.diagnosis.model import Diagnosis

    return Diagnosis(verdict="unknown", root_causes=[], steps=[])


# --- exemptions and tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_exempt_routes_ignore_cookies(name, world):
    """What makes an exemption safe: a signed-in browser's cookie alone gets nothing there."""
    route = next(route for route in ROUTES if route.name == name)
    url = url_of(route, world)
    client = session_client(world.owner)
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [0, 0, 0, 0]}]})
    for method in UNSAFE_METHODS:
        with db_writes() as writes:
            response = client.generic(method.upper(), url, body, "application/json")
        assert response.status_code in (401, 405), (method, response.status_code, body_text(response)[:200])
        assert not writes
    if "infer" in name:  # and the token is what works
        response = token_client(world.tokens["owner"]).post(url, body, content_type="application/json")
        assert response.status_code == 200, body_text(response)[:300]


def test_a_token_authenticated_api_call_needs_no_csrf_token(world):
    """A script with `Authorization: Token` carries no cookie a browser adds by itself: no CSRF check."""
    client = token_client(world.tokens["owner"])

    response = client.post(
        f"/api/operations/{world.a.slug}/decisions/", {"title": "By token"}, content_type="application/json"
    )

    assert response.status_code == 201, body_text(response)[:300]
