import time
from decimal import Decimal

import pytest
from rest_framework import serializers

from mini_common.fields import (
    EnumField,
    MoneyField,
    PhoneField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictRegexField,
    UsernameField,
)


def accepts(field: serializers.Field, value):
    return field.run_validation(value)


def refuses(field: serializers.Field, value) -> list[str]:
    with pytest.raises(serializers.ValidationError) as caught:
        field.run_validation(value)
    return [str(message) for message in caught.value.detail]


# --- strings -------------------------------------------------------------------------------


NOT_STRINGS = [42, 4.2, Decimal("4.2"), True, False, [], {}, ["a"], {"a": 1}]


@pytest.mark.parametrize("value", NOT_STRINGS)
@pytest.mark.parametrize(
    "field",
    [
        StrictCharField(),
        StrictRegexField(r"^.*\Z"),
        StrictEmailField(),
        UsernameField(),
        PhoneField(),
    ],
    ids=["char", "regex", "email", "username", "phone"],
)
def test_strict_string_fields_refuse_other_json_types(field, value):
    assert refuses(field, value) == ["Must be a string."]


def test_plain_drf_fields_would_have_coerced():
    # What the strict fields are for: DRF turns a number into text.
    assert serializers.CharField().run_validation(42) == "42"


def test_strict_char_field_keeps_drf_behaviour_for_strings():
    assert accepts(StrictCharField(), "  text ") == "text"
    assert accepts(StrictCharField(trim_whitespace=False), " pass ") == " pass "
    assert refuses(StrictCharField(max_length=3), "abcd") == [
        "Ensure this field has no more than 3 characters."
    ]
    assert refuses(StrictCharField(), "") == ["This field may not be blank."]
    assert refuses(StrictCharField(), None) == ["This field may not be null."]
    assert accepts(StrictCharField(allow_null=True), None) is None


def test_strict_regex_field_matches():
    field = StrictRegexField(r"^[a-z]+\Z")
    assert accepts(field, "abc") == "abc"
    assert refuses(field, "ab1") == ["This value does not match the required pattern."]


def test_strict_email_field():
    assert accepts(StrictEmailField(), "alice@example.com") == "alice@example.com"
    assert refuses(StrictEmailField(), "not-an-email") == ["Enter a valid email address."]
    long = "a" * 250 + "@example.com"
    assert "Ensure this field has no more than 254 characters." in refuses(StrictEmailField(), long)


@pytest.mark.parametrize("name", ["abc", "alice", "a.b-c_d", "A" * 150, "007"])
def test_username_field_accepts(name):
    assert accepts(UsernameField(), name) == name


@pytest.mark.parametrize(
    "name", ["ab", "a" * 151, "alice smith", "alice@home", "ålice", "../x/", "al\nice"]
)
def test_username_field_refuses(name):
    assert "3-150 characters: letters, digits, '_', '.' and '-'." in refuses(UsernameField(), name)


def test_username_field_anchors_at_the_very_end():
    # "$" would match before a final newline; the field trims it, and \Z holds without trimming.
    assert accepts(UsernameField(), "alice\n") == "alice"
    assert refuses(UsernameField(trim_whitespace=False), "alice\n")


@pytest.mark.parametrize("phone", ["+44 20 7946 0000", "12345", "(030) 123-45"])
def test_phone_field_accepts(phone):
    assert accepts(PhoneField(), phone) == phone


@pytest.mark.parametrize("phone", ["1234", "call me", "+" + "1" * 21, "++12345"])
def test_phone_field_refuses(phone):
    assert refuses(PhoneField(), phone)


def test_phone_field_may_be_blank():
    assert accepts(PhoneField(allow_blank=True), "") == ""


# --- booleans ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_strict_boolean_accepts_json_booleans(value):
    assert accepts(StrictBooleanField(), value) is value


@pytest.mark.parametrize("value", ["true", "yes", "1", 1, 0, Decimal(1), "", []])
def test_strict_boolean_refuses_everything_else(value):
    assert refuses(StrictBooleanField(), value) == ["Must be true or false."]


# --- integers ------------------------------------------------------------------------------


def quantity() -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=10_000)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1, 1),
        (10_000, 10_000),
        (Decimal("3.0"), 3),
        (Decimal("3E+2"), 300),
        (3.0, 3),
        ("3", 3),
        ("0010", 10),
    ],
)
def test_strict_integer_accepts_integral_numbers_and_their_digits(value, expected):
    result = accepts(quantity(), value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        "3.0",
        "",
        " 3",
        "3 ",
        "+3",
        "-3",
        "0x3",
        "1e2",
        "\u0663",  # ARABIC-INDIC DIGIT THREE: a digit to str.isdigit(), not to JSON
        "3\n",
        True,
        False,
        Decimal("1.5"),
        1.5,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        float("nan"),
        float("inf"),
        [],
        {},
    ],
)
def test_strict_integer_refuses_non_integers(value):
    assert refuses(quantity(), value) == ["A valid integer is required."]


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-5, "Ensure this value is greater than or equal to 1."),
        (10_001, "Ensure this value is less than or equal to 10000."),
        (Decimal("10000.5"), "Ensure this value is less than or equal to 10000."),
        (1e300, "Ensure this value is less than or equal to 10000."),
    ],
)
def test_strict_integer_checks_bounds(value, message):
    assert refuses(quantity(), value) == [message]


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("10001", "Ensure this value is less than or equal to 10000."),
        ("9" * 41, "Ensure this value is less than or equal to 10000."),
    ],
)
def test_strict_integer_checks_the_bounds_of_digit_strings(value, message):
    assert refuses(quantity(), value) == [message]


@pytest.mark.parametrize(
    "value",
    [Decimal("1e999999999"), Decimal("-1e999999999"), Decimal("1e-999999999"), 2**4000],
)
def test_strict_integer_refuses_huge_and_tiny_numbers_quickly(value):
    field = StrictIntegerField(min_value=0, max_value=2**63 - 1)
    started = time.monotonic()
    assert refuses(field, value)
    assert time.monotonic() - started < 0.5


def test_strict_integer_needs_both_bounds():
    with pytest.raises(TypeError):
        StrictIntegerField(min_value=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        StrictIntegerField(max_value=1)  # type: ignore[call-arg]


def test_strict_integer_may_be_null():
    assert (
        StrictIntegerField(min_value=1, max_value=9, allow_null=True).run_validation(None) is None
    )


# --- money and enums -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(150, Decimal("150.00")), ("40.50", Decimal("40.50")), (Decimal("0.01"), Decimal("0.01"))],
)
def test_money_field_accepts(value, expected):
    assert accepts(MoneyField(), value) == expected


@pytest.mark.parametrize("value", [0, -1, "abc", True, Decimal("0.001"), Decimal("1e10")])
def test_money_field_refuses(value):
    assert refuses(MoneyField(), value)


def test_money_field_allow_zero_and_representation():
    assert accepts(MoneyField(allow_zero=True), 0) == Decimal("0.00")
    assert MoneyField().to_representation(Decimal("131.50")) == 131.5
    assert MoneyField().to_representation(Decimal("150.00")) == 150


def test_enum_field_accepts_any_case():
    field = EnumField(choices=["DEPOSIT", "WITHDRAWAL"])
    assert accepts(field, " deposit ") == "DEPOSIT"
    assert refuses(field, "refund")
