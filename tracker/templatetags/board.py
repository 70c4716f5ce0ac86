"""The dashboard's per-item markup: a task line, who changed an item and when, what its check saw.

They are rendered once per item, a hundred times and more on a page that polls: as `{% include %}`d
templates they were a third of the dashboard's CPU (bench/dashboard.py), as tags a small part of it.
The markup is the same the snippets wrote; `tracker.lib.live` relies on two of its shapes (the CSRF
field, and `naturaltime`'s words for "how long ago").

    {% load board %}
    {% task_line task %}   {% changed item %}   {% checked item %}
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.context import Context
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from tracker.models import Task

from .tracker import md, plain

register = template.Library()


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _csrf_field(context: Context) -> SafeString:
    """What `{% csrf_token %}` writes (one masked token for the whole page, as the tag's)."""
    cache = context.render_context
    if "board_csrf_field" not in cache:
        token = context.get("csrf_token")
        field = "" if not token or token == "NOTPROVIDED" else format_html(CSRF_FIELD, token)
        cache["board_csrf_field"] = mark_safe(field)  # noqa: S308 - empty, or built by format_html
    return cache["board_csrf_field"]


CSRF_FIELD = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'


@register.simple_tag(takes_context=True)
def changed(context: Context, item) -> SafeString:
    """When the item last changed, and (to members) by whom: a person, or the check or import that did."""
    at = _local(item.updated_at)
    when = format_html(
        '<time datetime="{}" title="changed {} UTC">{}</time>', at.isoformat(), f"{at:%Y-%m-%d %H:%M}", naturaltime(at)
    )
    if context.get("public"):
        return format_html('<span class="meta">{}</span>', when)
    if item.updated_by_id is not None and item.updated_by is not None:
        who = item.updated_by.get_username() + (f" ({item.updated_by_name})" if item.updated_by_name else "")
    else:
        who = item.updated_by_name or "import"
    return format_html('<span class="meta">{} · {}</span>', when, who)


@register.simple_tag(takes_context=True)
def checked(context: Context, item) -> SafeString:
    """What the live check saw last, beside the team's words, and how fresh that is; nothing when unchecked."""
    if not item.is_check_backed:
        return mark_safe("")  # noqa: S308 - empty
    seen = mark_safe("")  # noqa: S308 - empty
    if item.live_verdict:
        shows_value = item.live_observed and (not context.get("public") or context.get("shows_infrastructure"))
        seen = format_html(
            '<span class="live verdict-{}" title="What the live check saw last; the words before it are the team\'s.">'
            "{} live check {}{}</span> ",
            item.live_verdict,
            "✅" if item.live_verdict == "pass" else "❌",
            item.get_live_verdict_display(),
            format_html(": {}", md(item.live_observed)) if shows_value else "",
        )
    at = _local(item.checked_at)
    stale = item.is_stale()
    return format_html(
        '{}<span class="check {}" title="checked {} UTC">{} {}</span>',
        seen,
        "stale" if stale else "",
        f"{at:%Y-%m-%d %H:%M}",
        "⚠️ stale: last checked" if stale else "🔄 checked",
        naturaltime(at),
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
        tick = format_html(
            '<form method="post" action="{}" class="inline">{}<input type="hidden" name="done" value="{}">'
            '<button type="submit" class="tick" aria-pressed="{}" aria-label="{}: {}">{}</button></form>',
            _toggle_url(context, context["board"].operation.slug, task.pk),
            _csrf_field(context),
            "0" if task.done else "1",
            "true" if task.done else "false",
            "Reopen" if task.done else "Mark done",
            plain(task.title),
            mark,
        )
    else:
        tick = format_html(
            '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span>',
            mark,
            "done: " if task.done else "to do: ",
        )
    words = format_html("<strong>{}</strong>: {}", md(task.title), md(task.detail)) if task.detail else md(task.title)
    return format_html(
        '<li id="task-{}" class="{}">{} {}{} {} {}</li>',
        task.pk,
        "done" if task.done else "",
        tick,
        f"{task.icon} " if task.icon else "",
        words,
        changed(context, task),
        checked(context, task),
    )
