"""The serializer base of every mini API: DRF's, strict about unknown input fields."""

from collections.abc import Iterable, Mapping

from rest_framework import serializers
from rest_framework.settings import api_settings


class Serializer(serializers.Serializer):
    """Refuses input fields it does not know (docs/CONVENTIONS.md, "JSON bodies").

    DRF drops them silently; for money that is ambiguity (a misspelt
    ``"acount"`` would move the caller's own money instead of the named
    account's), so every body, nested objects included, names only declared
    fields. ``ignored_fields`` lists the names a body may carry and that are
    accepted and dropped (the read-only fields of a resource a client sends
    back). The error lists at most ``UNKNOWN_FIELDS_SHOWN`` of them, each cut
    to ``NAME_SHOWN`` characters, and counts the rest: a body of a million
    unknown keys costs one pass over them and a small answer.
    """

    ignored_fields: tuple[str, ...] = ()
    refuses_unknown_fields = True

    def to_internal_value(self, data):
        if self.refuses_unknown_fields and isinstance(data, Mapping):
            unknown_fields_refuse(data, known=self.fields.keys(), ignored=self.ignored_fields)
        return super().to_internal_value(data)


class QuerySerializer(Serializer):
    """Filters of a list, from the query string: parameters it does not know are not
    its business (``page`` and ``pageSize`` are the paginator's)."""

    refuses_unknown_fields = False


UNKNOWN_FIELDS_SHOWN = 10
NAME_SHOWN = 64


def unknown_fields_refuse(data: Mapping, *, known: Iterable[str], ignored: Iterable[str]) -> None:
    """ValidationError naming (some of) the keys of ``data`` that are neither known nor ignored."""
    allowed = {*known, *ignored}
    shown: dict[str, list[str]] = {}
    more = 0
    for name in data:
        if name in allowed:
            continue
        if len(shown) < UNKNOWN_FIELDS_SHOWN:
            name = str(name)
            shown[name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN] + "..."] = [
                "Unknown field."
            ]
        else:
            more += 1
    if more:
        shown[api_settings.NON_FIELD_ERRORS_KEY] = [f"{more} more unknown fields are not listed."]
    if shown:
        raise serializers.ValidationError(shown)
