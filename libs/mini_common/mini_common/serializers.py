"""The serializer base of every mini API: DRF's, with its fields copied cheaply.

DRF gives each serializer instance its own copy of the declared fields, made
with ``copy.deepcopy``, which calls every field's ``__init__`` again (choices
regrouped, validators rebuilt). On the order path that was 5-13 % of each
service's CPU (py-spy), for serializers that only read their fields.

A shallow copy is as independent for what a request does to a leaf field:
``bind()`` and validation assign attributes on the copy and never mutate the
ones it shares with the declaration (validators, choices, error messages).
Fields that hold other fields (nested serializers, ``many=True`` lists,
``ListField``/``DictField`` children) are still deep-copied, so that their
children are bound to this instance and see its context.
"""

import copy

from rest_framework import serializers


def holds_fields(field: serializers.Field) -> bool:
    return isinstance(field, serializers.BaseSerializer) or any(
        hasattr(field, name) for name in ("child", "child_relation")
    )


def field_copy(field: serializers.Field) -> serializers.Field:
    return copy.deepcopy(field) if holds_fields(field) else copy.copy(field)


class Serializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: field_copy(field) for name, field in self._declared_fields.items()}
