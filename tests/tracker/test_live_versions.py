"""tracker/lib/live.py: a section's version moves with what it shows, not with each rendering."""

from __future__ import annotations

from tracker.lib.live import changed, parse_versions, section_version

ITEM = (
    '<li id="task-7"><form method="post" action="/t/7/">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{token}"><button>⬜</button></form> AWS Account Check'
    ' <span class="meta"><time datetime="{at}" title="changed 2026-12-06 10:00 UTC">{ago}</time> · ana</span>'
    ' <span class="check" title="checked 2026-12-06 10:04 UTC">'
    '🔄 checked <time datetime="2026-12-06T10:04:00+00:00">{checked}</time></span></li>'
)


def item(token="a1", at="2026-12-06T10:00:00+00:00", ago="2\xa0minutes ago", checked="now", title="AWS Account Check"):
    return ITEM.format(token=token, at=at, ago=ago, checked=checked).replace("AWS Account Check", title)


def test_it_ignores_the_csrf_token_and_the_relative_times():
    first = item()

    later = item(token="b2", ago="1\xa0day, 3\xa0hours ago", checked="a minute ago")

    assert section_version(later) == section_version(first)


def test_it_moves_when_the_instant_behind_a_relative_time_moves():
    assert section_version(item(at="2026-12-06T10:00:05+00:00")) != section_version(item())


def test_it_moves_when_the_words_change():
    assert section_version(item(title="AWS Account Checked")) != section_version(item())


def test_it_moves_when_now_is_part_of_the_words():
    assert section_version("<p>Do it now, not later</p>") != section_version("<p>Do it later</p>")


def test_it_reads_the_versions_a_page_sends_and_skips_what_is_not_one():
    held = parse_versions("status=1a2b, phases=3c4d,=5e,broken,panel-checks=7f")

    assert held == {"status": "1a2b", "phases": "3c4d", "panel-checks": "7f"}
    assert changed({"status": "1a2b", "phases": "0000", "banner": "9"}, held) == ["phases", "banner"]


def test_it_moves_when_the_teams_own_words_look_like_a_relative_time():
    # Only a <time>'s words are the clock's; the same words written by the team are what it shows.
    assert section_version("<p>Restarted 2\xa0minutes ago</p>") != section_version("<p>Restarted 5\xa0minutes ago</p>")


def test_it_ignores_the_words_of_an_absolute_time_but_not_its_instant():
    shown = '<time datetime="2026-12-06T10:00:00+00:00">{}</time>'

    assert section_version(shown.format("Dec 6, 10:00")) == section_version(shown.format("Dec 6, 11:00"))
    assert section_version(shown.format("Dec 6, 10:00")) != section_version(
        shown.replace("10:00:00", "10:00:01").format("Dec 6, 10:00")
    )
