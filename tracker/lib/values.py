"""Reading and writing the small values a tracker document is made of.

Each `read_*` function raises `ValueError` with a message meant for the person who wrote the
document; the parser adds the file and line. Each `write_*` function is its exact inverse on
the values the readers produce.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

# What a message quotes from the document is cut to this many characters: it is for a person, and a
# line may be two megabytes long.
MAX_QUOTED = 80


def quoted(text: str) -> str:
    """`text` as a problem quotes it: a long line is cut, so one bad line cannot make a huge answer."""
    return text if len(text) <= MAX_QUOTED else f"{text[: MAX_QUOTED - 1]}…"


# --- icons ---------------------------------------------------------------------------------

_ICON_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


def _is_icon_char(char: str) -> bool:
    if char in _ICON_JOINERS:
        return True
    category = unicodedata.category(char)
    # Emoji are symbols (So, Sk); skin tones are Sk; keycaps and flags combine (Mn, Cf).
    return category in {"So", "Sk", "Mn", "Cf"} or 0x1F1E6 <= ord(char) <= 0x1F1FF


_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")  # 1️⃣ is a digit, a variation selector and a combining keycap


def _is_icon(word: str) -> bool:
    symbols = _KEYCAP.sub("", word)
    return bool(word) and all(_is_icon_char(c) for c in symbols) and (symbols != word or bool(symbols.strip()))


def split_leading_icon(text: str) -> tuple[str, str]:
    """'🏗️ **Docker**: x' -> ('🏗️', '**Docker**: x'). Only a whole word of symbols counts."""
    word, _, rest = text.partition(" ")
    if _is_icon(word):
        return word, rest.lstrip(" ")
    return "", text


def split_trailing_icons(text: str) -> tuple[str, str]:
    """'IN PROGRESS 🚀' -> ('IN PROGRESS', '🚀')."""
    head, _, word = text.rstrip().rpartition(" ")
    if head and _is_icon(word):
        return head.rstrip(), word
    return text.strip(), ""


# --- bold labels -----------------------------------------------------------------------------

_LABEL = re.compile(
    r"""^\*\*(?P<label>[^*]+?)(?P<inner_colon>:?)\*\*   # **Label** or **Label:**
        (?P<outer_colon>\s*:)?                          # optional ':' after the bold
        (?:\s+|$)(?P<value>.*)$""",
    re.VERBOSE | re.DOTALL,
)


def split_label(text: str) -> tuple[str, str] | None:
    """'**Status**: 90% Complete' -> ('Status', '90% Complete'); None when not bold-labelled.

    A bold span followed by more text without a colon is not a label ('**Note** that...').
    """
    match = _LABEL.match(text)
    if not match:
        return None
    value = match.group("value").strip()
    has_colon = bool(match.group("inner_colon") or match.group("outer_colon"))
    if value and not has_colon:
        return None
    return match.group("label").strip(), value


def plain_heading(text: str) -> tuple[str, str]:
    """'🎯 **OVERALL STATUS**' -> ('🎯', 'OVERALL STATUS'); '**Pending Tasks:**' -> ('', 'Pending Tasks')."""
    icon, rest = split_leading_icon(text.strip())
    rest = rest.strip()
    if rest.startswith("**") and rest.endswith("**") and len(rest) > 4:
        rest = rest[2:-2]
    return icon, rest.strip().rstrip(":").strip()


def canonical_word(text: str) -> str:
    """Upper case with single spaces, for matching headings and status words."""
    return " ".join(re.sub(r"[^\w%]+", " ", text).split()).upper()


# --- checkboxes --------------------------------------------------------------------------------

_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX])\]\s+")


def split_checkbox(text: str) -> tuple[bool | None, str]:
    """'[x] Done thing' -> (True, 'Done thing'); no box -> (None, text)."""
    match = _CHECKBOX.match(text)
    if not match:
        return None, text
    return match.group("mark") in "xX", text[match.end() :]


# --- percentages -------------------------------------------------------------------------------

_PERCENT = re.compile(r"^(?P<number>\S+?)\s*%(?:\s*(?:complete|completed|done))?\.?$", re.IGNORECASE)


def read_percent(text: str) -> int:
    """'90% Complete' -> 90."""
    match = _PERCENT.match(text.strip())
    if not match:
        raise ValueError(f"expected a progress like '90% Complete', got '{quoted(text)}'")
    number = match.group("number")
    if not re.fullmatch(r"-?[0-9]+", number):
        raise ValueError(f"progress '{quoted(number)}%' is not a whole number")
    if len(number.lstrip("-0")) > 3:  # no percentage, and int() refuses more than 4,300 digits
        raise ValueError(f"progress must be between 0% and 100%, got {quoted(number)}%")
    value = int(number)
    if not 0 <= value <= 100:
        raise ValueError(f"progress must be between 0% and 100%, got {value}%")
    return value


def write_percent(value: int) -> str:
    return f"{value}% Complete"


# --- durations ---------------------------------------------------------------------------------

_UNITS: dict[str, int] = {}
for _names, _seconds in (
    (("w", "wk", "wks", "week", "weeks"), 7 * 86400),
    (("d", "day", "days"), 86400),
    (("h", "hr", "hrs", "hour", "hours"), 3600),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("s", "sec", "secs", "second", "seconds"), 1),
):
    for _name in _names:
        _UNITS[_name] = _seconds

# Never starting inside a run of digits: a match from there ends where one from the run's start
# does, and trying every position of a long run without a unit after it was quadratic.
_DURATION_PART = re.compile(r"(?<!\d)(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]+)")
_DURATION_SEPARATORS = re.compile(r"^(?:\s|,|and)*$", re.IGNORECASE)


def read_duration(text: str) -> int:
    """'1 day 4 hours' -> 100800 seconds; '2h 41m' and '1.5 hours' read too."""
    total = 0.0
    position = 0
    parts = 0
    for match in _DURATION_PART.finditer(text):
        unit = match.group("unit").lower()
        if unit not in _UNITS or not _DURATION_SEPARATORS.match(text[position : match.start()]):
            break
        total += float(match.group("amount")) * _UNITS[unit]
        position = match.end()
        parts += 1
    if not parts or not _DURATION_SEPARATORS.match(text[position:]):
        raise ValueError(
            f"cannot read the duration '{quoted(text)}' (write e.g. '2 hours 41 minutes' or '1 day 4 hours')"
        )
    if total > 10 * 365 * 86400:
        raise ValueError(f"the duration '{quoted(text)}' is longer than ten years")
    return round(total)


def write_duration(seconds: int) -> str:
    parts = []
    for name, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {name}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 minutes"


# --- dates and times ---------------------------------------------------------------------------

_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p")


def _strptime_any(text: str, patterns: list[str]) -> dt.datetime | None:
    """The first pattern that reads `text`; a day that does not exist is an error, not a miss."""
    for pattern in patterns:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError as error:
            if "out of range" in str(error):
                raise ValueError(f"'{quoted(text)}' is not a real date ({error})") from None
    return None


def read_date(text: str) -> dt.date:
    """'August 11, 2025' -> date(2025, 8, 11). An impossible date is an error, not a guess."""
    cleaned = " ".join(text.replace(",", ", ").split()).replace(" ,", ",")
    value = _strptime_any(cleaned, list(_DATE_FORMATS))
    if value is None:
        raise ValueError(f"cannot read the date '{quoted(text)}' (write e.g. 'August 11, 2025' or '2025-08-11')")
    return value.date()


def write_date(value: dt.date) -> str:
    return f"{value:%B} {value.day}, {value.year:04d}"


def read_datetime(text: str) -> dt.datetime:
    """'August 11, 2025 14:30 UTC' or ISO 8601 -> an aware datetime (UTC when no zone is given)."""
    cleaned = text.strip()
    if cleaned.upper().endswith(" UTC"):
        cleaned = cleaned[:-4].strip()
    try:
        value = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None:
        value = _strptime_any(
            cleaned,
            [f"{d}{joiner}{t}" for d in _DATE_FORMATS for t in _TIME_FORMATS for joiner in (" ", ", ", " at ")],
        )
    if value is None:
        # A plain date is a time too: midnight.
        value = dt.datetime.combine(read_date(cleaned), dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def write_datetime(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    seconds = f":{value:%S}" if value.second else ""
    return f"{write_date(value)} {value:%H:%M}{seconds} UTC"
