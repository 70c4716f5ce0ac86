"""Joins that read only what a page shows of the joined row.

`select_related` reads every column of the joined model: on a page that shows one field of it
(who changed an item, the title of the item a check keeps true) compiling those columns and
building the objects cost more than running the query (bench/dashboard.py).
"""

from __future__ import annotations

from django.db.models import QuerySet


def select_related_only(queryset: QuerySet, relation: str, *fields: str) -> QuerySet:
    """`queryset.select_related(relation)`, reading only `fields` of the joined row (and its key).
    Another field of it read later is one query for that object: say every field the caller uses."""
    model = queryset.model._meta.get_field(relation).related_model
    kept = {model._meta.pk.name, *fields}
    unread = (f"{relation}__{field.name}" for field in model._meta.concrete_fields if field.name not in kept)
    return queryset.select_related(relation).defer(*unread)
