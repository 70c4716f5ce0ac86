"""`{% live "name" %}…{% endlive %}`: one section of a page that polls for news (the dashboard).

The section is wrapped in `<div data-live-section="name" data-version="…">` (the version of what it
shows, tracker/lib/live.py); static/js/dashboard.js swaps a section when the server has another
version of it. Rendered with a `live_sections` dict in the context (the live view), each section's
version and markup are also put in it. Several arguments make one name: `{% live "panel" panel.id %}`.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tracker.lib.live import section_version

register = template.Library()


class LiveSectionNode(template.Node):
    def __init__(self, name_parts: list[template.base.FilterExpression], nodelist: template.NodeList):
        self.name_parts = name_parts
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        name = "-".join(str(part.resolve(context)) for part in self.name_parts)
        html = self.nodelist.render(context)
        version = section_version(html)
        collected = context.get("live_sections")
        if collected is not None:
            if name in collected:
                raise template.TemplateSyntaxError(f"two live sections are named {name!r}")
            collected[name] = (version, html)
        # `html` is the rendered template, escaped where its variables were.
        return format_html('<div data-live-section="{}" data-version="{}">{}</div>', name, version, mark_safe(html))  # noqa: S308


@register.tag("live")
def live(parser: template.base.Parser, token: template.base.Token) -> LiveSectionNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs the section's name")
    nodelist = parser.parse(("endlive",))
    parser.delete_first_token()
    return LiveSectionNode([parser.compile_filter(bit) for bit in bits[1:]], nodelist)
