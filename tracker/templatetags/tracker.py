"""Template filters for tracker text: inline markdown as the team wrote it, durations in words."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from tracker.lib.values import write_duration

register = template.Library()

# Raw HTML in a tracker is shown as text, never rendered; markdown-it also refuses javascript: links.
_inline = MarkdownIt("commonmark", {"html": False})


@register.filter
def md(text: str) -> str:
    """Render one line of inline markdown (`code`, **bold**, links) safely."""
    return mark_safe(_inline.renderInline(text or ""))  # noqa: S308 - markdown-it escapes the input


@register.filter
def duration(value: dt.timedelta | None) -> str:
    return write_duration(int(value.total_seconds())) if value is not None else "—"
