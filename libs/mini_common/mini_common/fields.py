"""Serializer fields for the API conventions: strict JSON types, exact money, enums.

DRF coerces: a CharField turns ``42`` into ``"42"``, a BooleanField ``"yes"`` into
True, an IntegerField ``"3"`` into 3. In a JSON body each of those is a client
bug to report, so the ``Strict*`` fields refuse a value of the wrong JSON type.
(Query parameters are always strings: filters use DRF's own fields.)
"""

import math
import re
from decimal import Decimal

from rest_framework import serializers

from mini_common.auth import USERNAME_PATTERN
from mini_common.money import MoneyError, money_json, parse_money

# mini_common.auth's pattern, anchored with \Z: "$" would also match before a final "\n".
USERNAME_REGEX = re.compile(USERNAME_PATTERN.pattern.removesuffix("$") + r"\Z")
USERNAME_MAX_LENGTH = 150
PHONE_REGEX = re.compile(r"^\+?[0-9 ()-]{5,20}\Z")
EMAIL_MAX_LENGTH = 254


class StrictStringMixin(serializers.Field):
    """Only a JSON string is text (placed before the DRF field it makes strict)."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    pass


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        super().__init__(**kwargs)


class UsernameField(StrictRegexField):
    """A username as mini_auth registers it and the gateway passes it on."""

    default_error_messages = {"invalid": "3-150 characters: letters, digits, '_', '.' and '-'."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        super().__init__(USERNAME_REGEX, **kwargs)


class PhoneField(StrictRegexField):
    """A phone number as every service stores it (mini_auth, mini_user and mini_notif agree)."""

    default_error_messages = {
        "invalid": "5-20 characters: digits, spaces, '(', ')' and '-', optionally after a '+'."
    }

    def __init__(self, **kwargs):
        super().__init__(PHONE_REGEX, **kwargs)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true and false: no "yes", "1" or 0."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


DIGITS_REGEX = re.compile(r"[0-9]{1,40}\Z")  # ASCII only: str.isdigit() admits "²" and "٣"


class StrictIntegerField(serializers.IntegerField):
    """A bounded integer: a JSON number with an integral value, or its decimal digits.

    ``3``, ``3.0`` and ``"3"`` are the same value (the course's clients and the IDL
    send numbers, form-minded ones strings of digits). Booleans, fractions, NaN,
    infinities and any other string ("3.0", " 3", "+3", "0x3") are refused. Both
    bounds are required and checked before the number is converted to an int:
    ``int(Decimal("1e99999999"))`` alone would take minutes.
    """

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        self.bounds = (min_value, max_value)

    def to_internal_value(self, data) -> int:
        min_value, max_value = self.bounds
        if isinstance(data, str):
            if not DIGITS_REGEX.match(data):
                if data.isascii() and data.isdigit():  # more than 40 digits
                    self.fail("max_value", max_value=max_value)
                self.fail("invalid")
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int | Decimal | float):
            self.fail("invalid")
        if isinstance(data, Decimal) and not data.is_finite():
            self.fail("invalid")  # before comparing: comparing a NaN Decimal raises
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        if data > max_value:
            self.fail("max_value", max_value=max_value)
        if data < min_value:
            self.fail("min_value", min_value=min_value)
        if isinstance(data, Decimal) and data != data.to_integral_value():
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return int(data)


class MoneyField(serializers.Field):
    """Exact money (see mini_common.money): a Decimal inside, a JSON number outside."""

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
