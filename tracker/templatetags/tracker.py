"""Template filters for tracker text: inline markdown as the team wrote it, durations in words,
activity entries as sentences."""

from __future__ import annotations

import datetime as dt
import html
from functools import lru_cache

from django import template
from django.utils.html import conditional_escape, format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from tracker.lib.activity import Entry, describe
from tracker.lib.forecast import Forecast
from tracker.lib.values import write_duration
from tracker.models import Phase
from tracker.summary import forecast_sentence as sentence

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
def plain(text: str) -> str:
    """The words of one line of inline markdown without its marks: for attributes such as an
    accessible name, where `code` would be read out as backticks. Autoescaped where it is used."""
    text = str(text or "")
    return _plain_cached(text) if len(text) <= CACHED_TEXT_CHARS else html.unescape(strip_tags(md(text)))


@lru_cache(maxsize=4096)
def _plain_cached(text: str) -> str:
    return html.unescape(strip_tags(md(text)))


@register.filter
def duration(value: dt.timedelta | None) -> str:
    return write_duration(int(value.total_seconds())) if value is not None else "—"


@register.simple_tag
def activity_sentence(entry: Entry, viewer_id: int | None = None) -> SafeString:
    """`{% activity_sentence entry user.pk %}`: "Ana ticked ‘Container Optimization’" (the title as
    the team's markdown, the rest escaped text; "You" for the viewer's own changes)."""
    parts = [
        format_html("‘{}’", md(part.value)) if part.kind == "title" else conditional_escape(part.value)
        for part in describe(entry, viewer_id)
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped or markdown-it's escaped HTML


@register.filter
def forecast_sentence(forecast: Forecast, subject: str | Phase) -> str:
    """`{{ forecast|forecast_sentence:phase }}` (or a name): the forecast as one plain sentence."""
    return sentence(forecast, f"Phase {subject.number}" if isinstance(subject, Phase) else str(subject))
