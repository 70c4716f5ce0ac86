"""JSON request bodies with a nesting limit, for the REST API's parser and the inference routes.

A body of 100,000 `[` used to reach `json.loads`, which recurses once per level and raised
`RecursionError`: a 500 for 200 KB that anyone could send. Now:

- `too_deep` measures the nesting on the bytes, before anything is built from them: no recursion,
  and no Python loop per byte (the brackets and quotes are picked out by `bytes.translate`, the
  depth is a numpy cumulative sum, and a body with few brackets is answered by counting them). It
  is exact for valid JSON. For a broken body it counts what a left-to-right parser reads up to
  the point where that parser stops, so it is a safe guard before `json.loads` too.
- `loads` parses with orjson, which recurses in Rust, stops at 1,024 levels with a
  `JSONDecodeError`, and refuses what JSON forbids (NaN, a lone surrogate).

The limit (API_MAX_JSON_DEPTH) is far below both 1,024 and Python's recursion limit, so whatever
walks a parsed value recursively afterwards (a serializer, `json.dumps` of a JSONField, `repr` in
an error message) cannot overflow either. No Django here: `mlservice.protocol` uses it on its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

# The only bytes that matter to nesting: brackets, and quotes (a bracket in a string is text).
_OTHER_BYTES = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class TooDeep(ValueError):
    """The body nests lists and objects deeper than the limit."""

    def __init__(self, limit: int, setting: str):
        self.limit = limit
        super().__init__(f"The JSON body nests lists and objects more than {limit} levels deep (the limit, {setting}).")


def too_deep(body: bytes, limit: int) -> bool:
    """Whether `body` nests lists and objects more than `limit` levels (`[[1]]` is 2)."""
    if b"\\" in body:
        # Escapes inside strings, read left to right as a parser does: `\\` first, then `\"`.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _OTHER_BYTES)
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])  # the even parts are outside strings
    if marks.count(b"[") + marks.count(b"{") <= limit:  # most bodies: no deeper than their brackets
        return False
    return int(np.cumsum(_STEP[np.frombuffer(marks, dtype=np.uint8)], dtype=np.int64).max()) > limit


def loads(body: bytes, *, max_depth: int, setting: str) -> Any:
    """The parsed body; `TooDeep` (naming `setting`) or `orjson.JSONDecodeError` (a ValueError)."""
    if too_deep(body, max_depth):
        raise TooDeep(max_depth, setting)
    return orjson.loads(body)
