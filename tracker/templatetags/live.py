"""`{% live "name" %}…{% endlive %}`: one section of a page that polls for news (the dashboard).

The section is wrapped in `<div data-live-section="name" data-version="…">` (the version of what it
shows, tracker/lib/live.py); static/js/dashboard.js swaps a section when the server has another
version of it. Rendered with a `live_sections` dict in the context (the live view), each section's
version and markup are also put in it. Several arguments make one name: `{% live "panel" panel.id %}`.

`{% live "phases" kept %}`: a section that shows only what moves the operation's version. When the
context holds `live_kept` (what such a section depends on besides the clock and the request: the
version, the kind of viewer, the language, which checks have gone stale; tracker/views/pages.py),
each process renders it once per `live_kept` and then reuses its markup, with what moves on every
rendering made afresh: the request's CSRF token in each form, and the words of each relative time
(`<time data-ago datetime>`, tracker/templatetags/board.py). Those are the parts a section's version
already leaves out, so the version is kept too. Without `live_kept` (the public page), it is
rendered every time.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tracker.lib.live import refreshed, section_version, tokenless

from . import board

register = template.Library()

# A bound on each process's kept markup, in characters: when it is full it starts again (versions
# left behind are never read again, so there is nothing worth ranking).
MAX_KEPT_CHARACTERS = 16_000_000
_kept: dict[tuple, tuple[str, str]] = {}
_kept_characters = 0


class LiveSectionNode(template.Node):
    def __init__(self, name_parts: list[template.base.FilterExpression], nodelist: template.NodeList, *, kept: bool):
        self.name_parts = name_parts
        self.nodelist = nodelist
        self.kept = kept

    def render(self, context: template.Context) -> str:
        name = "-".join(str(part.resolve(context)) for part in self.name_parts)
        depends_on = context.get("live_kept") if self.kept else None
        if depends_on is None:
            html = self.nodelist.render(context)
            version = section_version(html)
        else:
            where = (self.origin.name, name, _csrf_token(context) is not None)
            version, html = self._kept(context, (*where, *depends_on))
        collected = context.get("live_sections")
        if collected is not None:
            if name in collected:
                raise template.TemplateSyntaxError(f"two live sections are named {name!r}")
            collected[name] = (version, html)
        # `html` is the rendered template, escaped where its variables were.
        return format_html('<div data-live-section="{}" data-version="{}">{}</div>', name, version, mark_safe(html))  # noqa: S308

    def _kept(self, context: template.Context, key: tuple) -> tuple[str, str]:
        global _kept_characters
        if (found := _kept.get(key)) is not None:
            version, markup = found
            return version, refreshed(markup, token=_csrf_token(context), words=board.ago)
        html = self.nodelist.render(context)
        version = section_version(html)
        if _kept_characters + len(html) > MAX_KEPT_CHARACTERS:
            _kept.clear()
            _kept_characters = 0
        _kept[key] = (version, tokenless(html))
        _kept_characters += len(html)
        return version, html


def _csrf_token(context: template.Context) -> str | None:
    token = context.get("csrf_token")
    return None if not token or token == "NOTPROVIDED" else str(token)


@register.tag("live")
def live(parser: template.base.Parser, token: template.base.Token) -> LiveSectionNode:
    bits = token.split_contents()
    kept = bits[-1] == "kept"
    if kept:
        bits.pop()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs the section's name")
    nodelist = parser.parse(("endlive",))
    parser.delete_first_token()
    return LiveSectionNode([parser.compile_filter(bit) for bit in bits[1:]], nodelist, kept=kept)
