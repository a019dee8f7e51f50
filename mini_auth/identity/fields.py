"""Serializer fields that refuse values of the wrong JSON type instead of coercing them.

DRF turns ``12345678`` into ``"12345678"`` for a CharField and ``"yes"`` into
True for a BooleanField; for credentials and flags that is a client bug to report.
"""

from rest_framework import serializers

USERNAME_REGEX = r"^[A-Za-z0-9_.-]{3,150}\Z"


class StringOnlyMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StringOnlyMixin, serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}


class StrictRegexField(StringOnlyMixin, serializers.RegexField):
    default_error_messages = {"not_a_string": "Must be a string."}


class StrictEmailField(StringOnlyMixin, serializers.EmailField):
    default_error_messages = {"not_a_string": "Must be a string."}


class UsernameField(StrictRegexField):
    default_error_messages = {
        "invalid": "3-150 characters: letters, digits, '_', '.' and '-'.",
    }

    def __init__(self, **kwargs):
        super().__init__(USERNAME_REGEX, max_length=150, **kwargs)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
