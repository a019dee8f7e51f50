"""Serializer fields this service needs beyond mini_common.fields."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.models import PARENT_ID_MAX_LENGTH

PARENT_ID_PATTERN = re.compile(rf"^[A-Za-z0-9_.:-]{{1,{PARENT_ID_MAX_LENGTH}}}$")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": PARENT_ID_PATTERN.pattern},
        ]
    }
)
class ParentIdField(serializers.Field):
    """The id of the object a notification is about, kept as text.

    Accepts a JSON integer >= 0 (an order or payment id) or a string of 1-64
    characters ``[A-Za-z0-9_.:-]`` (e.g. a username); always answers a string.
    """

    default_error_messages = {
        "invalid": "Must be an integer >= 0 or a string of 1-64 characters [A-Za-z0-9_.:-]."
    }

    def to_internal_value(self, data) -> str:
        if isinstance(data, int) and not isinstance(data, bool) and data >= 0:
            data = str(data)
        if not isinstance(data, str) or not PARENT_ID_PATTERN.match(data):
            self.fail("invalid")
        return data

    def to_representation(self, value) -> str:
        return str(value)
