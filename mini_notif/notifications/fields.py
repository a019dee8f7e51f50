"""The parent id of a notification: a number or a username, by its parent type."""

import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mini_common.fields import StrictIntegerField, UsernameField
from notifications.models import NUMBERED_PARENTS, PARENT_ID_MAX_LENGTH, Notification

PARENT_ID_PATTERN = re.compile(rf"^[A-Za-z0-9_.:-]{{1,{PARENT_ID_MAX_LENGTH}}}\Z")
MAX_PARENT_NUMBER = 2**63 - 1  # the ids of orders and operations are BIGINTs


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "description": "ORDER and PAYMENT parents"},
            {"type": "string", "description": "USER parents: the username"},
        ]
    }
)
class ParentIdField(serializers.Field):
    """The id of what a notification is about, stored as text in one column.

    The IDL makes it an integer for ORDER and PAYMENT parents and a username for
    USER parents, so what it may be depends on ``parentType``: this field takes
    a JSON number or a plain string as it is, ``parent_id_validate`` decides by
    type and makes it the stored text.
    Answered as a JSON integer when the stored text is an ORDER or PAYMENT id.
    """

    default_error_messages = {
        "invalid": "Must be an integer >= 1, or a string of 1-64 characters [A-Za-z0-9_.:-]."
    }

    def to_internal_value(self, data) -> int | Decimal | float | str:
        if isinstance(data, int | Decimal | float) and not isinstance(data, bool):
            return data
        if not isinstance(data, str) or not PARENT_ID_PATTERN.match(data):
            self.fail("invalid")
        return data

    def get_attribute(self, instance: Notification):
        return instance  # the representation needs parent_type as well

    def to_representation(self, notification: Notification) -> int | str | None:
        return parent_id_json(notification.parent_type, notification.parent_id)


def parent_id_json(parent_type: str, parent_id: str) -> int | str | None:
    if not parent_id:
        return None
    if parent_type in NUMBERED_PARENTS and parent_id.isascii() and parent_id.isdigit():
        return int(parent_id)
    return parent_id


_NUMBER = StrictIntegerField(min_value=1, max_value=MAX_PARENT_NUMBER)
_USERNAME = UsernameField()


def parent_id_validate(parent_type: str, parent_id: int | Decimal | float | str) -> str:
    """The stored text of ``parent_id`` for ``parent_type``: an id's digits, or a username.

    Raises ValidationError naming what the parent type needs ("007" is order 7).
    """
    field = _NUMBER if parent_type in NUMBERED_PARENTS else _USERNAME
    return str(field.run_validation(parent_id))
