"""The API's JSON parser: DRF's, with orjson and a nesting limit (`core.json_body`).

A body nested more than API_MAX_JSON_DEPTH levels is a 400 saying so, before it is parsed; no
body can make the parser recurse into a `RecursionError` (a 500). Named in REST_FRAMEWORK's
DEFAULT_PARSER_CLASSES, and by the views that list their parsers (the token route).
"""

from __future__ import annotations

import orjson
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core import json_body


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})  # a ParseError for a charset that is no text
        body = stream.read() if stream is not None else b""
        if encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
            try:
                body = body.decode(encoding).encode()
            except UnicodeError as exc:
                raise ParseError(f"JSON parse error - the body is not {encoding}: {exc}") from None
        try:
            return json_body.loads(body, max_depth=settings.API_MAX_JSON_DEPTH, setting="API_MAX_JSON_DEPTH")
        except json_body.TooDeep as exc:
            raise ParseError(str(exc)) from None
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
