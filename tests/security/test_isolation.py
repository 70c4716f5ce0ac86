"""An outsider gets nothing of another operation: from any page, API route, export or webhook log.

Operation A is full of content, every piece of it carrying A's marker string (tests/security/world.py);
the outsider administers operation B (so she holds every role, just not in A) and has an API
token. What is swept: every pattern of the URL resolver (`sweep.ROUTES`, walked recursively), its
parameters filled with A's objects (`world.values`: A's slug, its task, blocker, member, link,
webhook, check, model, admin object...; a parameter without a value fails with where to add one).
Each route is requested with GET, HEAD, OPTIONS, POST, PUT, PATCH and DELETE by:

- `outsider`: the outsider's browser session, sending a valid CSRF token, and for writes the body a member's
  request would succeed with (tests/security/bodies.py), so that only her missing membership stands
  between the request and a change;
- `outsider-token`: the outsider's API token (`Authorization: Token`), no session (not on the admin's
  routes: the admin never reads that header, so there it is the anonymous caller again);
- `anonymous`: nobody signed in (with a CSRF token and the same bodies);
- `cross`: the outsider's session with B's slug and A's object id in one URL (routes with both), i.e. A's
  item reached through her own operation.
All come from an address on the internet, not this host (`conftest.REMOTE`).

For a route about an operation (`world.is_scoped`: a parameter names it or something in it; and
every admin route but its login page) each answer must be a refusal: 401, 403, 404, 405, or a
redirect to a login page (or to the admin's index, which sends non-staff to its login); the same
status as for objects that do not exist, so the answer does not even tell that A exists (not
checked on the admin, which refuses before it looks at any object); nothing of A (its marker, its
webhook's secret, its public link's token) in the body or the headers; and no row written. As a
control, a member of A gets more than a 404 from the same URL, so the URL does name A's object.

Routes about no operation (the operation list, the API's collections, the token endpoint, the
account pages, health, metrics) may answer anything but a server error, without A's content and
without writing (their writes are sent without a body). And every route is rendered with B's
objects for outsider (`test_own_pages_...`): her own pages, forms, lists, exports and API must not show
A either.

The model routes of /v2 are swept like the rest: A's model is in A's workspace, and the outsider's token
gets exactly what a model that does not exist gets (before workspaces, the registry was global and
these routes were exempt). Serving a model records the version that loaded
(`SERVING_BOOKKEEPING`), which is not a write of the caller's. The public link
page is swept with A's *revoked* link (a link's token is its only credential); the active link is
checked on its own. There is no search endpoint and no server-sent events (`/api/models/` lists
the models of the caller's workspaces: in `LISTS`); the dashboard polls itself with If-None-Match.

Then, explicitly: the lists (operations and their filters, environments, server metadata, metrics)
for outsider, for nobody (a member of nothing) and anonymously; the dashboard's polling with A's ETag;
the webhook delivery log filtered by A's webhook; A's ids in B's query strings and request bodies;
importing a document over A; and the public link.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from .bodies import NO_BODY, api_body, form_fields, imported_document
from .conftest import session_client, token_client
from .sweep import ROUTES, Request, Route, body_text, db_writes, token_on, url_for
from .test_csrf import SHADOWED, is_shadowed
from .world import A_MARKER, B_MARKER, World, is_scoped, values

pytestmark = pytest.mark.django_db

METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
MODEL_ROUTES = {
    "mlservice:model",
    "mlservice:model-ready",
    "mlservice:infer",
    "mlservice:version",
    "mlservice:version-ready",
    "mlservice:version-infer",
}
# What serving a model writes on its own: the version that loaded well, the fallback of its alias.
SERVING_BOOKKEEPING = 'SET "last_good_id"'
# Routes whose URL with A's values opens nothing even for A's members, so there is no control.
NO_CONTROL = {
    "tracker:public": "swept with A's revoked link, which opens nothing for anyone",
}
# Where a refused browser is sent: a login page, or the admin's index (which sends anyone but staff on
# to the admin's login; its logout view sends non-staff there).
REFUSAL_REDIRECTS = ("/accounts/login/", "/admin/login/", "/admin/")
# Server errors the sweep found that are not about access (each also has a strict xfail below).
KNOWN_SERVER_ERRORS: set[tuple[str, str]] = set()
INFERENCE = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [0.1, 0.2, 0.3, 0.4]}]}

SWEPT = [route for route in ROUTES if not is_shadowed(route)]
# Routes with both the operation and an object id: the object can be asked for under another operation.
CROSS = [route for route in SWEPT if {"slug", "operation_slug"} & set(route.params) and "pk" in route.params]
CALLERS = ("outsider", "outsider-token", "anonymous")
CASES = [
    pytest.param(route, caller, id=f"{caller} {route.label}")
    for route in SWEPT
    for caller in CALLERS
    # The admin never reads an Authorization header: there a token caller is the anonymous one.
    if not (route.is_admin and caller == "outsider-token")
] + [pytest.param(route, "cross", id=f"cross {route.label}") for route in CROSS]


def refused(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code in (301, 302):
        return urlsplit(response["Location"]).path in REFUSAL_REDIRECTS
    return False


def leaked(response, secrets: list[str] | None = None) -> bool:
    """Whether the body or a header (but Location, which may repeat the URL asked for) holds a secret
    of A: by default its marker; the sweep passes all of A's secrets."""
    headers = " ".join(f"{name}: {value}" for name, value in response.items() if name != "Location")
    text = body_text(response)
    return any(secret in text or secret in headers for secret in secrets or [A_MARKER])


def client_for(caller: str, world: World) -> tuple[Client, str]:
    """The caller's client and the CSRF token it sends with writes."""
    if caller in ("outsider", "cross"):
        client = session_client(world.outsider, remote=True)
        return client, token_on(client)
    if caller == "outsider-token":
        client = token_client(world.tokens["outsider"], remote=True)
    else:
        client = session_client(None, remote=True)
    return client, token_on(client, "/accounts/login/")  # a CSRF cookie and token, as a browser would have


def request_for(route: Route, method: str, url: str, world: World, *, with_body: bool) -> Request:
    """The request a member would make (its body valid for A), or with no body at all."""
    if route.is_api and with_body and method in route.api_methods():
        body = api_body(route, method, world, world.a)
        return Request(method, url, body=None if body in (None, NO_BODY) else body)
    if route.name in ("mlservice:infer", "mlservice:version-infer") and method == "post":
        return Request(method, url, body=INFERENCE)
    if not route.is_api and method == "post":
        fields = form_fields(route, world, world.a) if with_body else None
        return Request(method, url, form=dict(fields or {}))
    return Request(method, url)


def send(client: Client, request: Request, token: str):
    if request.method in ("get", "head", "options"):
        return client.generic(request.method.upper(), request.url)
    return request.send(client, token)


@pytest.mark.parametrize(("route", "caller"), CASES)
def test_an_outsider_gets_nothing_of_another_operation(route, caller, world):
    scoped = is_scoped(route)
    serves_a_model = route.name in MODEL_ROUTES
    operation = world.b if caller == "cross" else world.a
    url = url_for(route, values(route, world, operation=operation, objects=world.a))
    # What the same caller gets for objects that do not exist (under B, for A's object under B).
    missing = url_for(route, values(route, world, operation=world.b if caller == "cross" else None, objects=None))
    client, token = client_for(caller, world)

    problems = []
    for method in METHODS:
        request = request_for(route, method, url, world, with_body=scoped)
        with db_writes() as writes:
            try:
                response = send(client, request, token)
            except Exception:
                if (route.name, method) in KNOWN_SERVER_ERRORS:
                    continue
                raise
        said = f"{method.upper()} {url} as {caller}: {response.status_code}"
        if response.status_code >= 500 and (route.name, method) not in KNOWN_SERVER_ERRORS:
            problems.append(f"{said}, a server error")
        if leaked(response, world.a.secrets):
            problems.append(f"{said}, shows A's content or secrets: {body_text(response)[:200]}")
        writes = [sql for sql in writes if not (serves_a_model and SERVING_BOOKKEEPING in sql)]
        if writes:
            problems.append(f"{said}, wrote {writes}")
        if not scoped:
            continue
        if method != "options" and not refused(response):
            problems.append(f"{said}, not refused: {body_text(response)[:200]}")
        # The admin refuses anyone but staff before it looks at an object: no existence to tell there.
        if method in ("get", "post", "options") and not route.is_admin:
            other = send(client, request_for(route, method, missing, world, with_body=True), token)
            if other.status_code != response.status_code:
                problems.append(f"{said}, but {other.status_code} for objects that do not exist ({missing})")
    assert not problems, "\n".join(problems)

    # The admin refuses anyone but staff before it looks at an object: there, nothing to control.
    if caller == "outsider" and scoped and route.name not in NO_CONTROL and not route.is_admin:
        member = session_client(world.owner)
        if route.pattern.startswith("v2"):
            member = token_client(world.tokens["owner"])
        answer = member.get(url)
        assert answer.status_code != 404, f"control: a member of A gets a 404 from {url}, so it names nothing"


@pytest.mark.parametrize("route", [pytest.param(route, id=route.label) for route in SWEPT if not route.is_admin])
def test_own_pages_show_nothing_of_other_operations(route, world):
    """Olga on her own operation's pages, forms, lists and API: all about B, nothing of A. (Not the
    admin's pages: she is no staff, and the sweep above shows the admin gives her nothing.)"""
    url = url_for(route, values(route, world, operation=world.b, objects=world.b, for_write=True))
    if route.pattern.startswith("v2"):
        client = token_client(world.tokens["outsider"], remote=True)
    else:
        client = session_client(world.outsider, remote=True)

    response = client.get(url, follow=True)

    assert response.status_code < 500, (url, response.status_code)
    assert response.status_code != 404, f"{url}: the outsider's own object is not found, so this proves nothing"
    assert not leaked(response, world.a.secrets), f"{url} shows outsider A's content: {body_text(response)[:300]}"


def test_options_on_the_api_docs_is_no_server_error():
    """It was a 500: DRF rendered the OPTIONS metadata with Swagger UI's template renderer."""
    client = Client(raise_request_exception=False)

    assert client.options("/api/docs/").status_code == 405
    assert client.get("/api/docs/").status_code == 200


def test_the_sweep_covers_every_route_and_the_controls_see_content(world):
    """The sweep's routes are the resolver's; and a member does see A's marker where it should be."""
    assert len(SWEPT) == len(ROUTES) - len(SHADOWED) > 250  # all but what no request can reach
    assert {"tracker:operation", "operation-webhook-deliveries-list", "tracker:export-json"} <= {
        route.name for route in SWEPT
    }
    owner = session_client(world.owner)
    for path in (
        f"/operations/{world.a.slug}/",
        f"/operations/{world.a.slug}/export.md",
        f"/operations/{world.a.slug}/sharing/",
        f"/operations/{world.a.slug}/checks/{world.a.check.pk}/",
        f"/api/operations/{world.a.slug}/webhook-deliveries/",
        f"/api/operations/{world.a.slug}/activity/",
    ):
        response = owner.get(path)
        assert response.status_code == 200 and leaked(response), f"a member does not see A's content at {path}"


# --- lists, polling, logs -----------------------------------------------------------------------------

LISTS = (
    "/",
    "/api/operations/",
    "/api/operations/?status=in_progress",
    "/api/operations/?has_open_blockers=true",
    "/api/operations/?changed_since=2000-01-01T00:00:00Z",
    "/api/operations/?page_size=500",
    "/api/aws-environments/",
    "/api/models/",
    "/v2",
    "/v2/health/ready",
)


@pytest.mark.parametrize("who", ["outsider", "nobody", "anonymous"])
@pytest.mark.parametrize("path", LISTS)
def test_lists_show_only_the_callers_operations(path, who, world):
    client = session_client(None if who == "anonymous" else world.users[who], remote=True)

    response = client.get(path)

    assert response.status_code < 500
    text = body_text(response)
    assert not leaked(response, world.a.secrets)
    assert f'"{world.a.slug}"' not in text and f"/{world.a.slug}/" not in text
    if who == "outsider" and path in ("/", "/api/operations/"):
        assert B_MARKER in text  # her own operation is listed: the list is not just empty


def test_metrics_hold_nothing_of_an_operation(world):
    """/metrics is for the monitoring on this host (METRICS_ALLOWED_NETWORKS); what it shows there is
    counts by route template and model, nothing of an operation's content. From elsewhere: nothing."""
    here, elsewhere = session_client(None), session_client(None, remote=True)

    shown, refused_ = here.get("/metrics"), elsewhere.get("/metrics")

    assert shown.status_code == 200 and not leaked(shown, world.a.secrets)
    assert refused_.status_code == 403 and not leaked(refused_, world.a.secrets)


@pytest.mark.parametrize("path", ["/api/operations/", "/api/operations/?changed_since=2000-01-01T00:00:00Z"])
def test_token_lists_show_only_the_callers_operations(path, world):
    response = token_client(world.tokens["outsider"]).get(path)

    slugs = [operation["slug"] for operation in response.json()["results"]]
    assert slugs == [world.b.slug]


def holding_etag(client, path: str) -> str:
    """The page's ETag, once a poll with it is a 304 (the control). An operation with a model has a
    new ETag every 10 seconds (its latency figures move: mlservice/panels.py), so a tag taken just
    before such a turn is taken again."""
    for _ in range(3):
        etag = client.get(path)["ETag"]
        if client.get(path, headers={"if-none-match": etag}).status_code == 304:
            return etag
    pytest.fail(f"{path}: a poll with the ETag just given is never a 304")


def test_polling_a_dashboard_says_nothing_of_another_operations_version(world):
    """The dashboard polls with If-None-Match: an outsider's poll with A's current ETag, or any, is a
    404 like any other request, never a 304 that would confirm A's version."""
    owner, outsider = session_client(world.owner), session_client(world.outsider)
    etag = holding_etag(owner, f"/operations/{world.a.slug}/")

    for tag in (etag, "*"):
        for method in ("get", "head"):
            response = getattr(outsider, method)(f"/operations/{world.a.slug}/", headers={"if-none-match": tag})
            assert response.status_code == 404 and "ETag" not in response, (tag, method, response.status_code)
    own = outsider.get(f"/operations/{world.b.slug}/", headers={"if-none-match": etag})
    assert own.status_code == 200 and not leaked(own, world.a.secrets)


def test_the_delivery_log_of_ones_own_operation_holds_no_other_operations_deliveries(world):
    client = token_client(world.tokens["outsider"])

    filtered = client.get(f"/api/operations/{world.b.slug}/webhook-deliveries/?webhook={world.a.webhook.pk}")
    everything = client.get(f"/api/operations/{world.b.slug}/webhook-deliveries/")

    assert filtered.status_code == 200 and filtered.json()["results"] == []
    assert everything.json()["results"] and not leaked(everything, world.a.secrets)
    assert {row["webhook"] for row in everything.json()["results"]} == {world.b.webhook.pk}


# --- A's ids in B's requests ------------------------------------------------------------------------------


def test_a_query_string_cannot_fetch_another_operations_finding(world):
    client = session_client(world.outsider)

    response = client.get(f"/operations/{world.b.slug}/checks/add/?finding={world.a.finding.pk}&suggestion=0")

    assert response.status_code == 404 and not leaked(response, world.a.secrets)


def cross_bodies(world: World) -> list[tuple[str, str, dict | None, dict | None]]:
    """(method, path, form, JSON) writes to B that name an object of A."""
    a, b = world.a, world.b
    check = {"name": "Cross", "type": "http_endpoint", "params": {"url": "http://127.0.0.1:9/x"}}
    check_form = {**form_fields_for_check(), "name": "Cross"}
    return [
        ("post", f"/operations/{b.slug}/current-phase/", {"phase": a.current_phase.pk}, None),
        ("post", f"/operations/{b.slug}/checks/add/", {**check_form, "finding": a.finding.pk}, None),
        ("post", f"/operations/{b.slug}/checks/add/", {**check_form, "task": a.task.pk}, None),
        ("post", f"/operations/{b.slug}/checks/add/", {**check_form, "blocker": a.blocker.pk}, None),
        ("post", f"/operations/{b.slug}/checks/{b.check.pk}/edit/", {**check_form, "finding": a.finding.pk}, None),
        ("post", f"/api/operations/{b.slug}/checks/", None, {**check, "finding": a.finding.pk}),
        ("post", f"/api/operations/{b.slug}/checks/", None, {**check, "task": a.task.pk}),
        ("post", f"/api/operations/{b.slug}/checks/", None, {**check, "blocker": a.blocker.pk}),
        ("patch", f"/api/operations/{b.slug}/checks/{b.check.pk}/", None, {"finding": a.finding.pk}),
        ("patch", f"/api/operations/{b.slug}/checks/{b.check.pk}/", None, {"task": a.task.pk}),
    ]


def form_fields_for_check() -> dict:
    return {
        "type": "http_endpoint",
        "params": json.dumps({"url": "http://127.0.0.1:9/x"}),
        "interval": "300",
        "enabled": "on",
    }


def test_a_request_body_cannot_reach_another_operations_objects(world):
    client = session_client(world.outsider)
    token = token_on(client)
    for method, path, form, body in cross_bodies(world):
        request = Request(method, path, form=form, body=body)
        with db_writes() as writes:
            response = request.send(client, token)
        assert response.status_code == 400, (method, path, response.status_code, body_text(response)[:300])
        assert not writes and not leaked(response, world.a.secrets), (method, path, writes)


# --- importing over A ---------------------------------------------------------------------------------------


def test_importing_a_document_of_the_same_name_leaves_the_other_operation_alone(world):
    """A document named like A ("Alpha" makes the slug `alpha`), imported by the outsider: a new
    operation of her own workspace at a fresh address, and nothing says A's name was taken (before
    workspaces: "already exists"). From then on "the same name" is her own operation: importing
    again says it exists (her slug), and `replace` rewrites hers. A is untouched throughout."""
    from tracker.models import Operation

    document = imported_document(name="Alpha")
    browser, script = session_client(world.outsider), token_client(world.tokens["outsider"])
    a_before = Operation.objects.filter(pk=world.a.operation.pk).values().get()

    page = Request("post", "/import/", form={"document": _upload(document)}).send(browser, token_on(browser))
    hers = Operation.objects.get(name="Alpha", workspace=world.b.workspace)
    again = script.post("/api/operations/import/", document, content_type="text/markdown")
    replaced = script.post("/api/operations/import/?replace=true", document, content_type="text/markdown")

    assert page.status_code == 302 and hers.slug not in (world.a.slug, "alpha")
    said = body_text(again)
    assert again.status_code == 400 and f"'{hers.slug}'" in said and f"'{world.a.slug}'" not in said
    assert replaced.status_code == 200 and replaced.json()["slug"] == hers.slug
    for response in (page, again, replaced):
        assert not leaked(response, world.a.secrets)
    assert Operation.objects.filter(pk=world.a.operation.pk).values().get() == a_before


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("alpha.md", data, content_type="text/markdown")


# --- the public link ------------------------------------------------------------------------------------------


def test_a_public_link_opens_its_operation_only_while_active(world):
    anonymous = Client()

    active = anonymous.get(f"/p/{world.a.link_token}/")
    revoked = anonymous.get(f"/p/{world.a.revoked_token}/")

    assert active.status_code == 200 and leaked(active)  # what a link is for
    assert world.a.admin.username not in body_text(active)  # "no activity names"
    assert active["X-Robots-Tag"] == "noindex, nofollow" and active["Referrer-Policy"] == "no-referrer"
    assert revoked.status_code == 404 and not leaked(revoked)
