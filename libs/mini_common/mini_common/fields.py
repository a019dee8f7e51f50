"""Serializer fields for the API conventions: exact money, case-insensitive enums."""

from decimal import Decimal

from rest_framework import serializers

from mini_common.money import MoneyError, money_json, parse_money


class MoneyField(serializers.Field):
    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        try:
            return parse_money(data, allow_zero=self.allow_zero)
        except MoneyError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value):
        return money_json(Decimal(value))


class EnumField(serializers.ChoiceField):
    """UPPER_CASE choices, accepted in any case."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip().upper()
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses booleans, floats with fractions and numeric strings' cousins."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float | Decimal) and data != int(data)):
            self.fail("invalid")
        return super().to_internal_value(data)
