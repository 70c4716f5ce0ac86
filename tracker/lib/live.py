"""Versions of the parts of a live page: equal versions mean an open page already shows that part.

The dashboard is cut into sections (`{% live %}` in the template) and figures. A polling page sends
the versions it holds and gets back only the parts whose version moved (tracker/views/pages.py,
static/js/dashboard.js). A version is a short hash of what the part shows, minus what changes with
every rendering although nothing happened:

- the CSRF token of each form, masked afresh for every rendering (any of them stays valid);
- the words of every `<time>` element ("3 minutes ago", what Django's `naturaltime` writes, or a
  date in the viewer's time zone): they move with the clock, while the instant they stand for is
  the element's `datetime` attribute, so a change of the instant still changes the version. Every
  time a page shows, absolute or relative, is written as a `<time datetime>` for that reason.

Were they counted, every check run anywhere would resend every section with a "checked … ago" in
it, which is what made an idle dashboard cost ~9 KB/s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from html import escape
from typing import Any

# Both patterns begin with a literal, which `re` finds by a fast scan: the section versions of a
# dashboard are worked out on every view, and a pattern for naturaltime's own words ("2 minutes ago",
# "an hour from now", "now") had to be tried at every position of the page (~15% of its CPU).
_CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')
_TIME_WORDS = re.compile(r"(<time\b[^>]*>)[^<]*</time>")


# A relative time ("5 minutes ago") as tracker/templatetags/board.py writes it: its words follow
# from the instant and the clock alone.
_RELATIVE_TIME = re.compile(r'(<time data-ago datetime="([^"]+)"[^>]*>)[^<]*</time>')


def normalized(html: str) -> str:
    """The markup with the parts that change on every rendering blanked out."""
    return _TIME_WORDS.sub(r"\1…</time>", tokenless(html))


def tokenless(html: str) -> str:
    """The markup with every form's CSRF token blanked out (nobody's token is kept)."""
    return _CSRF_TOKEN.sub(r'\1"', html)


def refreshed(markup: str, *, token: str | None, words: Callable[[dt.datetime], str]) -> str:
    """Markup rendered before, as a rendering now would write it: each form with `token` (when
    there is one), each relative time in the `words` for its instant. Neither pattern can match
    the team's words, which are escaped wherever they appear, `<` and `"` included."""
    if token is not None:
        markup = _CSRF_TOKEN.sub(lambda found: f'{found[1]}{escape(token)}"', markup)
    return _RELATIVE_TIME.sub(
        lambda found: f"{found[1]}{escape(words(dt.datetime.fromisoformat(found[2])))}</time>", markup
    )


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def section_version(html: str) -> str:
    return _digest(normalized(html))


def figure_version(figure: dict[str, Any]) -> str:
    return _digest(json.dumps(figure, sort_keys=True, separators=(",", ":"), default=str))


def parse_versions(header: str, *, limit: int = 200) -> dict[str, str]:
    """`a=1f2e,b=9c0d` (what the page sends in X-Live-Sections and X-Live-Figures) as a dict.

    A malformed entry is skipped: the page then gets that part again, never an error.
    """
    versions = {}
    for entry in header.split(",")[:limit]:
        key, sep, version = entry.strip().partition("=")
        if sep and key and version:
            versions[key] = version
    return versions


def changed(current: dict[str, str], held: dict[str, str]) -> list[str]:
    """The keys of `current` whose version the page does not hold, in `current`'s order."""
    return [key for key, version in current.items() if held.get(key) != version]
