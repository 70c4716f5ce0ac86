"""Reading: the operations a user can see, one operation's dashboard, its downloads, public links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import quote_etag
from django.utils.translation import get_language
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import condition

from ..dashboard import board_summary, build_dashboard, links_for, page_charts, panels_for, panels_freshness
from ..dashboard_cache import CACHE_SECONDS, DashboardContent, dashboard_content
from ..exporters import export_json, export_markdown
from ..forms import (
    AchievementForm,
    BlockerForm,
    CurrentPhaseForm,
    DecisionForm,
    FindingForm,
    PhaseChoices,
    phase_choices,
)
from ..lib.live import changed, parse_versions
from ..models import Operation
from ..permissions import Role, require_role, role_allows
from ..selectors import (
    operation_list,
    public_link_operation,
    visible_operations,
)
from ..summary import undo_for


def operation_for(request, slug: str, needed: str = Role.VIEWER) -> Operation:
    """The operation named by the URL if the user may `needed` it: else 404 (outsider) or 403."""
    base = visible_operations(request.user) if request.user.is_authenticated else Operation.objects.none()
    operation = get_object_or_404(base, slug=slug)
    require_role(request.user, operation, needed)
    return operation


def dashboard_content_for(request, slug: str) -> tuple[DashboardContent, str]:
    """What the dashboard shows of the operation, and the viewer's role in it, for a member (else
    404): the version the ETag query read, from the cache when any request has loaded it before
    (tracker/dashboard_cache.py). The content is shared by every viewer: the role stays beside it."""
    if not hasattr(request, "_dashboard_content"):  # asked by @condition's ETag, then by the view
        row = dashboard_row(request, slug)
        content = None
        if row is not None and role_allows(row.role, Role.VIEWER):
            content = dashboard_content(pk=row.pk, version=row.version, created_at=row.created_at)
        request._dashboard_content = None if content is None else (content, row.role)
    if request._dashboard_content is None:
        raise Http404("No such operation.")
    return request._dashboard_content


def stale_checks(operation: Operation, now: dt.datetime) -> int:
    """How many of the checks the page shows have gone stale by `now`. The clock alone makes a check
    stale, and once stale it stays so until a run moves the version: for one version, this says which."""
    return sum(item.is_stale(now) for items in (operation.tasks.all(), operation.findings.all()) for item in items)


@login_required
def operation_list_page(request):
    return render(request, "tracker/operation_list.html", {"operations": operation_list(request.user)})


@dataclass(frozen=True)
class DashboardRow:
    """What the ETag query reads of an operation the user may see: its version, and their role."""

    pk: int
    version: int
    created_at: dt.datetime
    role: str


def dashboard_row(request, slug: str) -> DashboardRow | None:
    if not hasattr(request, "_dashboard_row"):  # asked by @condition, then by the view: one query
        row = visible_operations(request.user).filter(slug=slug).values_list("pk", "version", "created_at", "my_role")
        request._dashboard_row = None if (found := row.first()) is None else DashboardRow(*found)
    return request._dashboard_row


def dashboard_etag(request, slug: str) -> str | None:
    """The version of what this user would see: the operation's version and their role (one query),
    how many of its checks the clock has made stale (from the content, which the process keeps: no
    query) and the other apps' panels' freshness. So polling an unchanged page is cheap, and a check
    that stops running turns stale on every open page without anything else changing."""
    if not hasattr(request, "_dashboard_etag"):  # the panels' freshness may query too: once a request
        row = dashboard_row(request, slug)
        if row is None:
            request._dashboard_etag = None
        else:
            content, role = dashboard_content_for(request, slug)
            stale = stale_checks(content.operation, timezone.now())
            request._dashboard_etag = f"{slug}-{row.version}-{role}-{stale}{panels_freshness(row.pk)}"
    return request._dashboard_etag


def board_context(operation: Operation, *, activity: list | None = None, history: list | None = None) -> dict:
    """What both dashboards draw: the board, its summary, its charts, the other apps' panels and every
    figure. `activity` is the feed the page shows (none on a public link); `history`, the operation's
    progress history when the caller has it (else read)."""
    board = build_dashboard(operation)
    panels = panels_for(operation)
    drawn = page_charts(board, panels, history=history)
    return {
        "board": board,
        "summary": board_summary(board, drawn.charts, panels, activity or []),
        "charts": drawn.charts,
        "panels": panels,
        "figures": drawn.figures,
        "figure_versions": drawn.versions,
    }


def kept_sections_key(
    operation: Operation, *, loaded_at: dt.datetime, can_edit: bool, public: bool = False, shows_infrastructure=False
):
    """What the dashboard's kept sections (`{% live "…" kept %}`, tracker/templatetags/live.py) show
    besides the clock and the request: the operation's version (every change to what they show moves
    it) and when it was read (a write that does not move it shows once the content is read again:
    tracker/dashboard_cache.py), the kind of viewer, the language and time zone, and how many of its
    checks have gone stale by now (`stale_checks`)."""
    stale = stale_checks(operation, timezone.now())
    viewer = (can_edit, public, shows_infrastructure, get_language(), timezone.get_current_timezone_name())
    return (operation.pk, operation.created_at, operation.version, loaded_at, *viewer, stale)


def period_start(seconds: int) -> dt.datetime:
    """When the current period of `seconds` began (periods counted from the Unix epoch)."""
    now = timezone.now()
    return now - (now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) % dt.timedelta(seconds=seconds)


# The add-item forms are a quarter of the page's rendering when rendered per request, yet their HTML
# depends only on what the keys below hold (form, id pattern, language, the operation's phases and
# the current one): each process renders each combination once. None of them holds a per-request
# value (the CSRF token is the template's, outside the forms).
@lru_cache(maxsize=32)
def blank_form(form_class: type[BaseForm], auto_id: str, language: str | None) -> str:
    """The HTML of an empty add-item form that shows nothing of the operation."""
    return form_class(auto_id=auto_id).as_div()


@lru_cache(maxsize=256)
def phase_forms(operation_id: int, phases: PhaseChoices, current: int | None, language: str | None) -> tuple[str, str]:
    """The HTML of the add-a-finding form and of the current-phase picker (label and select)."""
    phased = {"operation": operation_id, "phases": phases, "initial": {"phase": current}}
    picker = CurrentPhaseForm(**phased, auto_id="current-%s")["phase"]
    return FindingForm(**phased, auto_id="finding-%s").as_div(), format_html("{} {}", picker.label_tag(), picker)


def dashboard_context(request, slug: str) -> dict:
    """What a member's dashboard shows them: the board, and the forms their role may use."""
    content, role = dashboard_content_for(request, slug)
    operation, activity = content.operation, content.activity
    can_edit, can_admin = role_allows(role, Role.EDITOR), role_allows(role, Role.ADMIN)
    drawn = board_context(operation, activity=activity, history=content.history)
    context = {
        **drawn,
        "activity": activity,
        "can_edit": can_edit,
        "can_admin": can_admin,
        "links": links_for(operation, can_admin=can_admin),
        "live_kept": kept_sections_key(operation, loaded_at=content.loaded_at, can_edit=can_edit),
        "version": quote_etag(dashboard_etag(request, operation.slug)),  # as the ETag header says it, quotes and all
        "undo": undo_for(
            activity,
            viewer_id=request.user.pk if can_edit else None,
            tasks={task.pk: task for task in operation.tasks.all()},  # prefetched: no query
            blockers={
                blocker.pk: blocker for blocker in drawn["board"].blockers_open + drawn["board"].blockers_resolved
            },
            now=timezone.now(),
        ),
    }
    if can_edit:
        language = get_language()
        # The phase options come from the board's phases, already loaded: no query of their own.
        phases = phase_choices(drawn["board"].phases)
        finding_form, phase_picker = phase_forms(operation.pk, phases, operation.current_phase_id, language)
        # Each form gets its own id pattern: five forms on one page must not share an id_title.
        context |= {
            "blocker_form": blank_form(BlockerForm, "blocker-%s", language),
            "finding_form": finding_form,
            "decision_form": blank_form(DecisionForm, "decision-%s", language),
            "achievement_form": blank_form(AchievementForm, "achievement-%s", language),
            "phase_picker": phase_picker,
        }
    return context


@login_required
@condition(etag_func=dashboard_etag)
def dashboard(request, slug: str):
    return render(request, "tracker/dashboard.html", dashboard_context(request, slug))


@login_required
@gzip_page
@condition(etag_func=dashboard_etag)
def dashboard_live(request, slug: str):
    """What an open dashboard lacks: 304 while the operation is unchanged, else JSON with only the
    sections and figures whose versions differ from those the page holds (the X-Live-Sections and
    X-Live-Figures headers, `name=version,...`).

    {"sections": {name: {"version", "html"}}, "figures": {key: {"version", "figure"}},
     "order": [every section's name, when the page holds others], "dropped_figures": [keys]}

    A check run moves the operation's version, but what it changes on the page is mostly a time: most
    answers are a few bytes (tests/browser/test_live_updates.py measures an idle page's cost).
    Compressed: the JSON is HTML, and each response's CSRF tokens are masked afresh, which with
    Django's gzip padding is its defence against BREACH.
    """
    context = dashboard_context(request, slug)
    sections: dict[str, tuple[str, str]] = {}
    # The whole page is rendered, so each section is exactly the page's markup; `messages` is
    # emptied so that a poll never uses up a message meant for the next page the person opens.
    render_to_string("tracker/dashboard.html", {**context, "live_sections": sections, "messages": ()}, request)
    versions = {name: version for name, (version, _) in sections.items()}
    held = parse_versions(request.headers.get("X-Live-Sections", ""))
    held_figures = parse_versions(request.headers.get("X-Live-Figures", ""))
    figures, figure_versions = context["figures"], context["figure_versions"]
    news: dict = {
        "sections": {name: {"version": versions[name], "html": sections[name][1]} for name in changed(versions, held)},
        "figures": {
            key: {"version": figure_versions[key], "figure": figures[key]}
            for key in changed(figure_versions, held_figures)
        },
    }
    if held.keys() != versions.keys():
        news["order"] = list(versions)
    if dropped := sorted(held_figures.keys() - figure_versions.keys()):
        news["dropped_figures"] = dropped
    response = JsonResponse(news)
    response["Cache-Control"] = "no-store"
    return response


def public_dashboard(request, token: str):
    """The read-only dashboard a public link opens: no login, no editing, no activity names."""
    operation = public_link_operation(token)
    if operation is None:
        raise Http404("This link does not exist or was revoked.")
    shows_infrastructure = operation.shows_infrastructure
    context = {
        **board_context(operation),
        "public": True,
        "shows_infrastructure": shows_infrastructure,
        # Read afresh on every view: its sections are kept for one period of the member page's bound.
        "live_kept": kept_sections_key(
            operation,
            loaded_at=period_start(CACHE_SECONDS),
            public=True,
            can_edit=False,
            shows_infrastructure=shows_infrastructure,
        ),
    }
    response = render(request, "tracker/dashboard.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to linked sites
    return response


@login_required
def operation_export(request, slug: str, fmt: str):
    operation = operation_for(request, slug)
    if fmt == "json":
        return _download(export_json(operation.slug), "application/json", f"{operation.slug}.json")
    return _download(export_markdown(operation.slug), "text/markdown", f"{operation.slug}.md")


def _download(text: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def get_object_in(model, operation: Operation, pk: int):
    """An item of this operation, or 404: ids of other operations' items are not found here."""
    return get_object_or_404(model, pk=pk, operation=operation)
