"""The dashboard's per-item markup: a task line, who changed an item and when, what its check saw.

They are rendered once per item, a hundred times and more on a page that polls: as `{% include %}`d
templates they were a third of the dashboard's CPU (bench/dashboard.py), as tags a small part of it.
The markup is the same the snippets wrote; `tracker.lib.live` relies on two of its shapes (the CSRF
field, and `naturaltime`'s words for "how long ago").

    {% load board %}
    {% task_line task %}   {% item_line finding %}   {% phase_row phase %}   {% changed item %}   {% checked item %}
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.context import Context
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from tracker.models import Achievement, ActivityEntry, Challenge, Decision, Finding, Phase, Task

from .tracker import activity_sentence, duration, md, plain

register = template.Library()


def _utc(value: dt.datetime) -> dt.datetime:
    """The instant in UTC, as the titles say it. (Not `timezone.localtime`: its look-up of the active
    time zone cost more than the rest of the tag.)"""
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value


def _csrf_field(context: Context) -> str:
    """What `{% csrf_token %}` writes (one masked token for the whole page, as the tag's)."""
    cache = context.render_context
    if "board_csrf_field" not in cache:
        token = context.get("csrf_token")
        ok = token and token != "NOTPROVIDED"
        cache["board_csrf_field"] = (
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">' if ok else ""
        )
    return cache["board_csrf_field"]


def _e(value: object) -> str:
    """Escaped as Django's `escape` does (it is the same function), without its lazy-text wrapper,
    which cost more than the rest of these tags: every text below goes through this or `md`."""
    return escape(str(value), quote=True)


def ago(at: dt.datetime) -> str:
    """`naturaltime`'s words for `at`. Under a day ago they depend only on the whole seconds since
    (and the language), so each is worked out once per process: on a page of a hundred items it was
    the dearest part of every line. Older or future instants go to `naturaltime` itself."""
    seconds = int((dt.datetime.now(dt.UTC) - at).total_seconds())
    if 0 <= seconds < 86_400:
        return _ago_within_a_day(seconds, get_language())
    return str(naturaltime(at))


@lru_cache(maxsize=4096)
def _ago_within_a_day(seconds: int, language: str | None) -> str:
    return str(naturaltime(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)))


@register.simple_tag(takes_context=True)
def changed(context: Context, item) -> SafeString:
    """When the item last changed, and (to members) by whom: a person, or the check or import that did."""
    at = _utc(item.updated_at)
    when = f'<time data-ago datetime="{at.isoformat()}" title="changed {at:%Y-%m-%d %H:%M} UTC">{_e(ago(at))}</time>'
    if context.get("public"):
        return mark_safe(f'<span class="meta">{when}</span>')  # noqa: S308 - every part escaped
    if item.updated_by_id is not None and item.updated_by is not None:
        who = item.updated_by.get_username() + (f" ({item.updated_by_name})" if item.updated_by_name else "")
    else:
        who = item.updated_by_name or "import"
    return mark_safe(f'<span class="meta">{when} · {_e(who)}</span>')  # noqa: S308 - every part escaped


LIVE_TITLE = "What the live check saw last; the words before it are the team's."


@register.simple_tag(takes_context=True)
def checked(context: Context, item) -> SafeString:
    """What the live check saw last, beside the team's words, and how fresh that is; nothing when unchecked."""
    if not item.is_check_backed:
        return mark_safe("")  # noqa: S308 - empty
    seen = ""
    if item.live_verdict:
        shows_value = item.live_observed and (not context.get("public") or context.get("shows_infrastructure"))
        value = f": {md(item.live_observed)}" if shows_value else ""
        seen = (
            f'<span class="live verdict-{_e(item.live_verdict)}" title="{LIVE_TITLE}">'
            f"{'✅' if item.live_verdict == 'pass' else '❌'} live check "
            f"{_e(item.get_live_verdict_display())}{value}</span> "
        )
    stale = item.is_stale()
    label = "⚠️ stale: last checked" if stale else "🔄 checked"
    # The instant to the minute, as the title says it: a check that runs again within the minute
    # changes nothing an open page must be sent (tracker/lib/live.py).
    at = _utc(item.checked_at).replace(second=0, microsecond=0)
    return mark_safe(  # noqa: S308 - every part escaped
        f'{seen}<span class="check {"stale" if stale else ""}" title="checked {at:%Y-%m-%d %H:%M} UTC">'
        f'{label} <time data-ago datetime="{at:%Y-%m-%dT%H:%M}Z">{_e(ago(at))}</time></span>'
    )


def _toggle_url(context: Context, slug: str, pk: int) -> str:
    """The task's tick address: reversed once per page, then only the id changes."""
    cache = context.render_context.setdefault("board_task_toggle", {})
    if slug not in cache:
        cache[slug] = reverse("tracker:task-toggle", args=[slug, 0]).rsplit("/0/", 1)
    head, tail = cache[slug]
    return f"{head}/{pk}/{tail}"


@register.simple_tag(takes_context=True)
def task_line(context: Context, task: Task) -> SafeString:
    """A task, next step or criterion: its tick (a form for editors), its words, its change and its check."""
    mark = "✅" if task.done else "⬜"
    if context.get("can_edit"):
        url = _toggle_url(context, context["board"].operation.slug, task.pk)
        tick = (
            f'<form method="post" action="{_e(url)}" class="inline">{_csrf_field(context)}'
            f'<input type="hidden" name="done" value="{"0" if task.done else "1"}">'
            f'<button type="submit" class="tick" aria-pressed="{"true" if task.done else "false"}" '
            f'aria-label="{"Reopen" if task.done else "Mark done"}: {_e(plain(task.title))}">{mark}</button></form>'
        )
    else:
        hidden = "done: " if task.done else "to do: "
        tick = f'<span aria-hidden="true">{mark}</span><span class="visually-hidden">{hidden}</span>'
    words = f"<strong>{md(task.title)}</strong>: {md(task.detail)}" if task.detail else md(task.title)
    icon = f"{_e(task.icon)} " if task.icon else ""
    return mark_safe(  # noqa: S308 - every part escaped, or markdown-it's escaped HTML
        f'<li id="task-{task.pk}" class="{"done" if task.done else ""}">{tick} {icon}{words} '
        f"{changed(context, task)} {checked(context, task)}</li>"
    )


@register.simple_tag(takes_context=True)
def phase_row(context: Context, phase: Phase) -> SafeString:
    """A row of the phases table: the phase and what it achieved, its status, progress and duration."""
    name = _e(phase)
    current = ' aria-current="step"' if phase.pk == context["board"].operation.current_phase_id else ""
    achieved = f'<br><span class="muted">{md(phase.achievement)}</span>' if phase.achievement else ""
    progress, derived = phase.progress, phase.derived_progress
    tasks = ""
    if phase.stated_progress is not None and derived is not None and derived != phase.stated_progress:
        tasks = f'<span class="muted" title="stated by the team; its tasks say {derived}%">(tasks: {derived}%)</span>'
    return mark_safe(  # noqa: S308 - every part escaped, or markdown-it's escaped HTML
        f'<tr id="phase-{phase.number}"{current}><td>{name}{achieved}</td>'
        f'<td><span class="badge status-{_e(phase.status)}">{_e(phase.get_status_display())}</span></td>'
        f'<td><progress max="100" value="{progress}" aria-label="{name} progress"></progress> '
        f'<span data-testid="phase-{phase.number}-progress">{progress}%</span> {tasks}</td>'
        f"<td>{_e(duration(phase.elapsed))}</td></tr>"
    )


def _challenge(item: Challenge) -> str:
    detail = f": {md(item.detail)}" if item.detail else ""
    return f"<li>{_e(item.icon or '🔍')} <strong>{md(item.title)}</strong>{detail}"


def _finding(item: Finding) -> str:
    observed = f": {md(item.observed)}" if item.observed else ""
    expected = f' <span class="muted">(expected {md(item.expected)})</span>' if item.expected else ""
    note = f' <span class="muted">({md(item.note)})</span>' if item.note else ""
    badge = f'<span class="badge">{_e(item.get_verdict_display())}</span>'
    return (
        f'<li class="verdict-{_e(item.verdict)}">{badge} <strong>{md(item.subject)}</strong>{observed}{expected}{note}'
    )


def _decision(item: Decision) -> str:
    detail = f": {md(item.detail)}" if item.detail else ""
    group = f' <span class="muted">· {_e(item.group)}</span>' if item.group else ""
    return f"<li><strong>{md(item.title)}</strong>{detail}{group}"


def _achievement(item: Achievement) -> str:
    detail = f": {md(item.detail)}" if item.detail else ""
    category = f' <span class="muted">· {_e(item.category)}</span>' if item.category else ""
    return f"<li>{_e(item.icon)} <strong>{md(item.title)}</strong>{detail}{category}"


_LINES = {Challenge: _challenge, Finding: _finding, Decision: _decision, Achievement: _achievement}


@register.simple_tag(takes_context=True)
def item_line(context: Context, item: Challenge | Finding | Decision | Achievement) -> SafeString:
    """A challenge, finding, decision or achievement as its list item: the team's words, then who
    changed it when (and, for a finding, what its check saw)."""
    extra = f" {checked(context, item)}" if isinstance(item, Finding) else ""
    return mark_safe(f"{_LINES[type(item)](item)} {changed(context, item)}{extra}</li>")  # noqa: S308 - escaped


@register.simple_tag(takes_context=True)
def activity_line(context: Context, entry: ActivityEntry) -> SafeString:
    """An activity entry as its list item: the sentence, then when (`<time>`, the instant and a
    human "5 minutes ago"); the viewer's own changes are "You"'s."""
    user = context.get("user")
    at = _utc(entry.at)
    title = f"{at:%b} {at.day}, {at.year} {at:%H:%M} UTC"
    when = f'<time data-ago datetime="{at.isoformat()}" title="{title}">{_e(ago(at))}</time>'
    return mark_safe(f"<li>{activity_sentence(entry, getattr(user, 'pk', None))} {when}</li>")  # noqa: S308 - escaped
