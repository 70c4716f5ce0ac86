"""List filters. django-filter validates each value (a bad one is a 400 naming the filter) and
drf-spectacular lists them in the schema."""

from __future__ import annotations

import datetime as dt

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django_filters.fields import IsoDateTimeField

from ..models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Decision,
    Finding,
    Operation,
    Phase,
    Status,
    Task,
)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC here: PostgreSQL refuses offsets beyond ±15:59 (a 500
    before this, found by schemathesis), and a time at the edge of the calendar may not convert."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class ChangedSince(filters.FilterSet):
    changed_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only items changed at or after this time (ISO 8601)."
    )


# The largest values the columns hold: a number past them is a 400, not an OverflowError from the
# database driver (a 500 schemathesis found with webhook=-7.6e150).
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1


def _by_phase_number(queryset, name, value):
    return queryset.filter(phase__number=value)


class PhaseFilter(ChangedSince):
    class Meta:
        model = Phase
        fields = ["status"]


class TaskFilter(ChangedSince):
    phase = filters.NumberFilter(
        method=_by_phase_number, min_value=0, max_value=MAX_NUMBER, help_text="The phase's number."
    )

    class Meta:
        model = Task
        fields = ["kind", "done"]


class FindingFilter(ChangedSince):
    phase = filters.NumberFilter(
        method=_by_phase_number, min_value=0, max_value=MAX_NUMBER, help_text="The phase's number."
    )

    class Meta:
        model = Finding
        fields = ["verdict"]


class BlockerFilter(ChangedSince):
    class Meta:
        model = Blocker
        fields = ["state", "severity"]


class DecisionFilter(ChangedSince):
    class Meta:
        model = Decision
        fields: list[str] = []


class AchievementFilter(ChangedSince):
    class Meta:
        model = Achievement
        fields: list[str] = []


class ActivityFilter(filters.FilterSet):
    since = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte", help_text="Entries at or after this time.")

    class Meta:
        model = ActivityEntry
        fields = ["action", "subject_type"]


class OperationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices)
    has_open_blockers = filters.BooleanFilter(
        method="_open_blockers", help_text="With (true) or without open blockers."
    )
    changed_since = UtcIsoDateTimeFilter(
        method="_changed_since", help_text="Operations where anything changed at or after this time (ISO 8601)."
    )

    class Meta:
        model = Operation
        fields = ["status"]

    def _open_blockers(self, queryset, name, value):
        open_blockers = Q(open_blockers__gt=0)
        return queryset.filter(open_blockers) if value else queryset.exclude(open_blockers)

    def _changed_since(self, queryset, name, value):
        # Every change to anything in an operation writes an activity entry (tracker.services).
        changed = ActivityEntry.objects.filter(operation=OuterRef("pk"), at__gte=value)
        return queryset.filter(Exists(changed))
