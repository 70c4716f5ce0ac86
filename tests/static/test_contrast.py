"""Every text colour of both themes reads on every background it is used on (WCAG AA, 4.5:1).

The colours are the custom properties at the top of static/css/app.css, one set per theme.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "static" / "css" / "app.css").read_text()
TEXT = ("fg", "muted", "accent", "danger", "warn", "ok")
BACKGROUNDS = ("bg", "card")


def theme(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", block))


LIGHT = theme(CSS[: CSS.index("@media (prefers-color-scheme: dark)")])
DARK = theme(CSS[CSS.index("@media (prefers-color-scheme: dark)") :].split("}")[0])


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_both_themes_define_every_colour():
    assert set(TEXT + BACKGROUNDS) <= LIGHT.keys()
    assert set(TEXT + BACKGROUNDS) <= DARK.keys()


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize("text", TEXT)
@pytest.mark.parametrize("background", BACKGROUNDS)
def test_text_has_aa_contrast(name: str, text: str, background: str):
    colours = LIGHT if name == "light" else DARK

    assert contrast(colours[text], colours[background]) >= 4.5
