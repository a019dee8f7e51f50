"""The JSON body policy of ExactJSONParser: UTF-8, valid Unicode, no repeated keys."""

import io
import json
from decimal import Decimal

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer

from mini_common.errors import ValidationFailed
from mini_common.parsers import ExactJSONParser, has_lone_surrogate
from mini_common.problems import problem_exception_handler


def parse(raw: bytes | str, encoding: str = "utf-8"):
    data = raw.encode() if isinstance(raw, str) else raw
    return ExactJSONParser().parse(io.BytesIO(data), parser_context={"encoding": encoding})


def refusal(raw: bytes | str, encoding: str = "utf-8") -> str:
    with pytest.raises(ParseError) as caught:
        parse(raw, encoding)
    return str(caught.value.detail)


def test_numbers_stay_exact_and_valid_text_passes():
    assert parse('{"amount": 0.1, "n": [1, "\\u00e9", "\\ud83d\\ude00"]}') == {
        "amount": Decimal("0.1"),
        "n": [1, "é", "😀"],  # an escaped surrogate pair is one character
    }


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "\\ud800", "amount": 1}',
        '{"type": "\\uDFFF"}',
        '{"\\ud800": 1}',
        '{"a": {"b": ["x", "y\\udc00z"]}}',
        '["\\ud83d"]',
        '"\\ude00\\ud83d"',  # a pair in the wrong order is two lone halves
    ],
)
def test_a_lone_surrogate_anywhere_is_malformed(raw):
    assert "not valid Unicode" in refusal(raw)


def test_an_escaped_backslash_before_u_d800_is_plain_text():
    assert parse('{"path": "C:\\\\ud800"}') == {"path": "C:\\ud800"}


def test_the_surrogate_walk_sees_keys_values_and_lists():
    assert has_lone_surrogate({"a": ["b", {"\ud800": 1}]})
    assert has_lone_surrogate([[["\udfff"]]])
    assert not has_lone_surrogate({"a": ["b", {"c": 1, "d": None, "e": True}]})


@pytest.mark.parametrize(
    "raw, key",
    [
        ('{"type": "DEPOSIT", "type": "WITHDRAWAL", "amount": 1}', '"type"'),
        ('{"account": {"username": "a", "username": "b"}}', '"username"'),
        ('[{"x": 1}, {"y": 1, "y": 1}]', '"y"'),  # even with the same value
    ],
)
def test_a_key_repeated_in_one_object_is_malformed(raw, key):
    assert refusal(raw) == f"Malformed JSON: the key {key} appears twice in one object."


def test_the_same_key_in_different_objects_is_fine():
    assert parse('{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}') == {
        "a": {"a": 1},
        "b": [{"a": 2}, {"a": 3}],
    }


def test_a_repeated_key_is_named_bounded_and_escaped():
    long_key = "k" * 1000
    detail = refusal(json.dumps({long_key: 1})[:-1] + f', "{long_key}": 2}}')
    assert len(detail) < 150 and '"' + "k" * 64 + '..."' in detail
    detail = refusal(r'{"\ud800\u0001": 1, "\ud800\u0001": 2}')
    assert r'the key "\ud800\u0001" appears' in detail  # quoted as JSON, all escaped


@pytest.mark.parametrize("charset", ["utf-7", "rot13", "unicode_escape", "no-such-codec"])
def test_the_body_is_utf8_whatever_charset_is_declared(charset):
    # RFC 8259: JSON has no charset parameter. A client-chosen decoder crashed the
    # parser (rot13: LookupError) or made a lone surrogate of "+2AA-" (utf-7).
    assert parse('{"a": "+2AA-"}', encoding=charset) == {"a": "+2AA-"}
    assert "Malformed JSON" in refusal(b'{"a": "\xff"}', encoding=charset)


def test_over_http_a_declared_charset_changes_nothing(
    make_user_client,
):
    client = make_user_client("alice")
    for charset in ("rot13", "utf-7", "latin-1"):
        response = client.post(
            "/charge",
            data='{"amount": 1, "kind": "DEPOSIT"}',
            content_type=f"application/json; charset={charset}",
        )
        assert response.status_code == 201, (charset, response.content)
    response = client.post(
        "/charge",
        data='{"amount": 1, "kind": "+2AA-"}',
        content_type="application/json; charset=utf-7",
    )
    assert response.status_code == 400
    assert "+2AA-" in response.json()["errors"]["kind"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"amount": 1, "kind": "\\ud800"}',
        '{"amount": 1, "kind": "DEPOSIT", "\\ud800": 1}',
        '{"amount": 1, "kind": "DEPOSIT", "kind": "WITHDRAWAL"}',
    ],
)
def test_over_http_each_is_a_400_problem(make_user_client, body):
    response = make_user_client("alice").post("/charge", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_a_problem_echoing_a_lone_surrogate_still_renders():
    error = ValidationFailed("bad \ud800", errors={"\udfff": ["value \ud800 refused"]})
    response = problem_exception_handler(error, {})
    body = json.loads(JSONRenderer().render(response.data))
    assert body["detail"] == "bad \\ud800"
    assert body["errors"] == {"\\udfff": ["value \\ud800 refused"]}
