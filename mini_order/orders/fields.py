"""Strict serializer fields: JSON types are not coerced (no "3" for 3, no true for 1)."""

from decimal import Decimal

from rest_framework import serializers

from mini_common.fields import StrictIntegerField


class StrictCharField(serializers.CharField):
    """Only a JSON string is text: DRF's CharField would also turn 42 into "42"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonIntegerField(StrictIntegerField):
    """A bounded JSON number with an integral value (3 or 3.0); strings and booleans are refused.

    The bounds are checked before anything converts the number to an int:
    ``int(Decimal("1e99999999"))`` alone would take minutes.
    """

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal | float):
            self.fail("invalid")
        if isinstance(data, Decimal | float) and not Decimal(data).is_finite():
            self.fail("invalid")
        if data > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if data < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return super().to_internal_value(data)
