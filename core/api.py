"""What every app's REST API shares and no app owns: strict input.

An unknown field, or a read-only one (an id, a time the server stamps), is a 400 naming it, not
silently dropped, so a typo in a deploy script fails loudly instead of "succeeding" without the
change. The tracker's, ops' and mlservice's serializers build on these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings

READ_ONLY = "This field is read-only."


class StrictMixin:
    """Refuse fields the serializer does not know, and read-only ones: a value the server would
    ignore is a 400 naming the field, never a silent success without the change."""

    def to_internal_value(self, data: Any):
        if isinstance(data, Mapping):
            unknown = sorted(name for name in data if name not in self.fields)
            read_only = sorted(name for name in data if name in self.fields and self.fields[name].read_only)
            if unknown or read_only:
                errors: dict[str, Any] = {name: "Unknown field." for name in unknown}
                errors.update((name, READ_ONLY) for name in read_only)
                if read_only:
                    errors[api_settings.NON_FIELD_ERRORS_KEY] = [_read_only_message(read_only, unknown)]
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _read_only_message(read_only: list[str], unknown: list[str]) -> str:
    one = len(read_only) == 1
    message = (
        f"{', '.join(read_only)} {'is' if one else 'are'} read-only: the server sets "
        f"{'it' if one else 'them'}; leave {'it' if one else 'them'} out."
    )
    return f"{message} {', '.join(unknown)}: unknown." if unknown else message


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictMixin, serializers.ModelSerializer):
    pass
