"""The '(expected: VALUE; NOTE)' that ends a finding."""

from __future__ import annotations

import re

# --- '(expected: VALUE; NOTE)' --------------------------------------------------------------------

_EXPECTED_HEAD = re.compile(r"expected:?", re.IGNORECASE)
_BLANKS = re.compile(r"\s*")
_SEMICOLON_BLANK = re.compile(r";\s")


def split_expected(text: str) -> tuple[str, str | None] | None:
    r"""(value, note or None) of a finding's 'expected: VALUE; NOTE', or None when it is not one.

    What `^expected:?\s+(?P<value>.+?)(?:;\s+(?P<note>.*))?$` (IGNORECASE) matches, computed in
    one pass: that pattern backtracks quadratically on a long line (a run of blanks after
    'expected:', or many '; ' before a line break), and a note is as long as a line may be.
    tests/tracker/test_hostile_documents.py checks that the two agree.
    """
    head = _EXPECTED_HEAD.match(text)
    if head is None:
        return None
    after = _BLANKS.match(text, head.end()).end()
    blanks = text[head.end() : after]
    if not blanks:
        return None
    rest = text[after:]
    # `$` matches at the end or before a final line break; '.' never crosses a line break.
    body = rest[:-1] if rest.endswith("\n") else rest
    last_break = body.rfind("\n")
    first_break = rest.find("\n")
    value_end = first_break if first_break >= 0 else len(rest)  # the value stays on the first line

    def note_at(i: int) -> str | None:
        """The note if '; NOTE' starts at rest[i] and runs to the end on one line, else None."""
        if rest[i : i + 1] != ";":
            return None
        start = _BLANKS.match(rest, i + 1).end()
        if start == i + 1 or last_break >= start:
            return None
        return body[start:]

    def ends_at(i: int) -> bool:
        return i == len(rest) or (i == len(rest) - 1 and rest[i] == "\n")

    # The whole run of blanks after 'expected:', then the shortest value that lets the rest match:
    # up to the first '; ' when the note is on one line; else only a ';' whose blanks run past the
    # last line break can start the note.
    if last_break < 0:
        semicolon = _SEMICOLON_BLANK.search(rest, 1)
        i = semicolon.start() if semicolon else -1
    else:
        i = len(rest[:last_break].rstrip()) - 1
    if 1 <= i <= value_end:
        note = note_at(i)
        if note is not None:
            return rest[:i], note
    if value_end >= 1 and ends_at(value_end):
        return rest[:value_end], None
    # Else the pattern gives blanks back to the value: the last one before '; note' or the end, or
    # the one before a final line break.
    if len(blanks) >= 2 and blanks[-1] != "\n":
        if ends_at(0):
            return blanks[-1], None
        note = note_at(0)
        if note is not None:
            return blanks[-1], note
    elif len(blanks) >= 3 and rest == "" and blanks[-2] != "\n":
        return blanks[-2], None
    return None
