"""One error shape for every 4xx of the API: {"error": "<what is wrong>", "fields": {...}}.

`fields` is there for validation errors only, naming each field and what is wrong with it.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's handling (a 500 is logged, never shown)
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        fields = {name: _flatten(value) for name, value in exc.detail.items() if name != "non_field_errors"}
        message = _flatten(exc.detail.get("non_field_errors", "")) or "Some fields are not valid."
        response.data = {"error": message, "fields": fields}
    else:
        response.data = {"error": _flatten(response.data.get("detail", response.data))}
    return response
