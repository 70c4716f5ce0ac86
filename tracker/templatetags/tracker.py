"""Template filters for tracker text: inline markdown as the team wrote it, durations in words."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

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
    text = str(text or "")
    html = _render_cached(text) if len(text) <= CACHED_TEXT_CHARS else _inline.renderInline(text)
    return mark_safe(html)  # noqa: S308 - markdown-it escapes the input


# A text's HTML is a pure function of the text, and a page polled every few seconds shows the same
# texts again and again: each process renders a text once. The key is the text itself, so an edited
# text is a new key and never shows an old rendering; long texts are not kept (memory stays bounded).
CACHED_TEXT_CHARS = 1024
_render_cached = lru_cache(maxsize=4096)(_inline.renderInline)


@register.filter
def duration(value: dt.timedelta | None) -> str:
    return write_duration(int(value.total_seconds())) if value is not None else "—"
