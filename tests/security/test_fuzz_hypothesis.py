"""Hypothesis through the gateway: odd values in every field of the user-facing bodies and
in the headers a client sends (issue 15).

The contract (API.md's conventions): a client's bad input is never answered with a 5xx
or an HTML page. Every answer here is checked: its status is below 500, and unless it
is a 2xx it is ``application/problem+json``, a JSON object whose ``status`` is the HTTP
status.

What is sent, with a valid access token where the route needs one:
- each field of register, login, refresh, logout, the profile's PATCH, billing's
  operate and the order's POST (nested ones too) replaced by arbitrary Unicode text
  (lone surrogates included: as the ``\\udXXX`` escapes JSON allows, or raw as the
  bytes a careless encoder writes, which are no UTF-8), by any JSON value (huge and
  tiny numbers, NaN, numbers Python cannot hold, nesting, null, booleans), or dropped;
  unknown keys beside them; a key given twice;
- the body itself any JSON value, or any bytes;
- Idempotency-Key, X-Request-ID, traceparent, Content-Type, Accept and Authorization
  with any bytes but CR and LF (control characters 0x01-0x1F, DEL, bytes above 0x7F),
  sent raw with http.client (requests refuses some of them).

Bounded and reproducible: derandomize=True (a fixed seed per test), no example
database, SECURITY_HYPOTHESIS_EXAMPLES examples per test (default 60).
"""

import copy
import http.client
import json
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support import PASSWORD, unique_username

EXAMPLES = int(os.environ.get("SECURITY_HYPOTHESIS_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- JSON as it is written on the wire ----------------------------------------------------


class Raw(str):
    """JSON text sent as written: numbers Python would write otherwise, or not at all."""


class Pairs(list):
    """An object given as (key, value) pairs, so that a key may come twice."""


class Me:
    """The fuzzing user's name, filled in when the body is written."""


class Fresh:
    """A username never registered, filled in when the body is written."""


def render(value, *, me: str, raw_utf8: bool = False) -> str:
    """JSON text of ``value``; strings as escapes (lone surrogates as \\udXXX) or raw."""

    def write(item) -> str:
        if item is Me:
            return json.dumps(me)
        if item is Fresh:
            return json.dumps(unique_username("fz"))
        if isinstance(item, Raw):
            return str(item)
        if isinstance(item, Pairs):
            return "{" + ",".join(f"{write(k)}:{write(v)}" for k, v in item) + "}"
        if isinstance(item, dict):
            return write(Pairs(item.items()))
        if isinstance(item, list):
            return "[" + ",".join(write(v) for v in item) + "]"
        if isinstance(item, str):
            return json.dumps(item, ensure_ascii=not raw_utf8)
        return json.dumps(item)  # numbers (NaN and Infinity as Python writes them), bools, null

    return write(value)


def encode(text: str) -> bytes:
    # A lone surrogate has no UTF-8: "surrogatepass" writes the bytes a careless
    # encoder would (ED A0 80 for U+D800), which a server must refuse as bad UTF-8.
    return text.encode("utf-8", "surrogatepass")


# --- what the values are ---------------------------------------------------------------

SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ANY_CHARACTER = st.characters(codec=None)  # every code point, surrogates included
ODD_TEXTS = [
    "\ud800",
    "\udfff",
    "\udc00\ud800",
    "a\ud83d",
    "\x00",
    "a\x00b",
    "\u202e",
    "\ufeff",
    "\uffff",
    "\x7f",
    "\x1b[31m",
    "%00",
    "${jndi:x}",
    "' OR 1=1 --",
    "DEPOSIT\x00",
    "deposit\ud800",
    " ",
    "",
    "x" * 5000,
]
TEXTS = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.text(st.one_of(SURROGATE, ANY_CHARACTER), min_size=1, max_size=12),
    st.sampled_from(ODD_TEXTS),
)
ODD_NUMBERS = [
    "1e999999",
    "-1e999999",
    "1e-999999",
    "-0",
    "0e0",
    "1E+2",
    "0.1e-400",
    "123456789012345678901234567890.123456789",
    "999999999.995",
    "1" * 5000,  # beyond Python's int conversion limit
    "NaN",
    "-Infinity",
]
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.sampled_from(ODD_NUMBERS).map(Raw),
)
SCALARS = st.one_of(st.none(), st.booleans(), TEXTS, NUMBERS)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=10,
)
FIELD_VALUES = st.one_of(TEXTS, JSON_VALUES)
UNKNOWN_KEYS = st.dictionaries(TEXTS, JSON_VALUES, max_size=3)


# --- the endpoints ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{me}" is the fuzzing user's name
    body: dict  # a valid body; Me and Fresh are filled in when written
    fields: tuple[tuple, ...]  # paths of the fields to fuzz (keys and list indexes)
    token: bool = True  # sent with the user's access token

    def url_path(self, me: str) -> str:
        return self.path.format(me=me)


POSITION = {"productId": 1, "price": 1, "quantity": 1}
ENDPOINTS = {
    "register": Endpoint(
        "POST",
        "/api/v1/auth/register",
        {
            "username": Fresh,
            "password": PASSWORD,
            "email": "fuzz@example.com",
            "phone": "+1 555 0100",
            "firstName": "Fuzz",
            "lastName": "Tester",
            "login": False,
        },
        (
            ("username",),
            ("password",),
            ("email",),
            ("phone",),
            ("firstName",),
            ("lastName",),
            ("login",),
        ),
        token=False,
    ),
    "login": Endpoint(
        "POST",
        "/api/v1/auth/login",
        {"username": Me, "password": "not-the-password"},
        (("username",), ("password",)),
        token=False,
    ),
    "refresh": Endpoint(
        "POST", "/api/v1/auth/refresh", {"refreshToken": "x.y.z"}, (("refreshToken",),), False
    ),
    "logout": Endpoint(
        "POST", "/api/v1/auth/logout", {"refreshToken": "x.y.z"}, (("refreshToken",),)
    ),
    "profile": Endpoint(
        "PATCH",
        "/api/v1/user/{me}",
        {"email": "fuzz@example.com", "phone": "+1 555 0100", "firstName": "F", "lastName": "T"},
        (("email",), ("phone",), ("firstName",), ("lastName",)),
    ),
    "operate": Endpoint(
        "POST",
        "/billing/account/operate",
        {"type": "DEPOSIT", "amount": 1, "account": {"username": Me}},
        (("type",), ("amount",), ("account",), ("account", "username"), ("orderId",)),
    ),
    "order": Endpoint(
        "POST",
        "/api/v1/order",
        {"orderPositions": [POSITION], "shopId": 1, "totalCost": 1, "username": Me},
        (
            ("orderPositions",),
            ("orderPositions", 0),
            ("orderPositions", 0, "productId"),
            ("orderPositions", 0, "price"),
            ("orderPositions", 0, "quantity"),
            ("shopId",),
            ("totalCost",),
            ("username",),
            ("status",),
            ("id",),
        ),
    ),
}


def _at(body, path):
    """What ``path`` leads to in ``body``, or None where a step is missing."""
    for step in path:
        if isinstance(body, dict) and step in body:
            body = body[step]
        elif isinstance(body, list) and isinstance(step, int) and step < len(body):
            body = body[step]
        else:
            return None
    return body


@st.composite
def fuzzed_bodies(draw, endpoint: Endpoint):
    """The endpoint's valid body with one field fuzzed (or dropped), perhaps unknown keys
    beside it, perhaps that field given twice (the valid value first)."""
    body = copy.deepcopy(endpoint.body)
    path = draw(st.sampled_from(endpoint.fields))
    holder, last = _at(body, path[:-1]), path[-1]
    dropped = draw(st.integers(0, 9)) == 0
    value = None if dropped else draw(FIELD_VALUES)
    if not dropped:
        holder[last] = value
    elif isinstance(holder, list):
        del holder[last]
    else:
        holder.pop(last, None)
    if draw(st.booleans()):
        objects = [()] + [p[:-1] for p in endpoint.fields if len(p) > 1]
        where = _at(body, draw(st.sampled_from(objects)))
        if isinstance(where, dict):
            where.update(draw(UNKNOWN_KEYS))
    if len(path) == 1 and not dropped and draw(st.integers(0, 5)) == 0:
        valid = endpoint.body.get(path[0], "x")
        pairs = [(k, v) for k, v in body.items() if k != path[0]]
        return Pairs([*pairs, (path[0], valid), (path[0], value)])
    return body


# --- sending and the contract --------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(base_url: str, method: str, path: str, *, headers, body: bytes | None) -> Answer:
    """One request with exactly these header bytes (http.client refuses only CR and LF)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, answer_headers, response.read())
    finally:
        connection.close()


def assert_contract(answer: Answer, sent: str) -> None:
    said = f"{answer.status} {answer.headers.get('content-type')!r} {answer.body[:300]!r}"
    assert answer.status < 500, f"a 5xx: {said}\nfor {sent}"
    if 200 <= answer.status < 300:
        return
    content_type = answer.headers.get("content-type", "")
    assert content_type.startswith("application/problem+json"), f"not problem+json: {said}\n{sent}"
    try:
        problem = json.loads(answer.body)
    except ValueError:
        pytest.fail(f"a problem+json body that is no JSON: {said}\nfor {sent}")
    assert isinstance(problem, dict), f"a problem that is no object: {said}\nfor {sent}"
    assert problem.get("status") == answer.status, f"status differs: {said}\nfor {sent}"


class Client:
    """The fuzzing user's requests through the gateway."""

    def __init__(self, base_url: str, username: str, token: str) -> None:
        self.base_url = base_url
        self.username = username
        self.token = token

    def call(self, endpoint: Endpoint, body: bytes | None, headers=()) -> Answer:
        names = {name.lower() for name, _ in headers}
        sent_headers = list(headers)
        if endpoint.token and "authorization" not in names:
            sent_headers.append(("Authorization", f"Bearer {self.token}"))
        if body is not None and "content-type" not in names:
            sent_headers.append(("Content-Type", "application/json"))
        path = endpoint.url_path(self.username)
        answer = send(self.base_url, endpoint.method, path, headers=sent_headers, body=body)
        assert_contract(answer, f"{endpoint.method} {path} {list(headers)!r} {body!r:.400}")
        return answer

    def json(self, endpoint: Endpoint, value, *, raw_utf8: bool = False) -> Answer:
        text = render(value, me=self.username, raw_utf8=raw_utf8)
        return self.call(endpoint, encode(text))


@pytest.fixture(scope="module")
def client(gateway, alice) -> Client:
    token = alice.api.session.headers["Authorization"].removeprefix("Bearer ")
    return Client(gateway.base_url, alice.username, token)


# --- every field of every body ----------------------------------------------------------

RAW_UTF8 = st.integers(0, 3).map(lambda n: n == 0)  # a quarter of the bodies written raw


@FUZZ
@given(body=fuzzed_bodies(ENDPOINTS["register"]), raw_utf8=RAW_UTF8)
@example(body={**ENDPOINTS["register"].body, "username": "\ud800"}, raw_utf8=False)
@example(body={**ENDPOINTS["register"].body, "firstName": "\ud800"}, raw_utf8=False)
def test_register_fields(client, body, raw_utf8):
    client.json(ENDPOINTS["register"], body, raw_utf8=raw_utf8)


@FUZZ
@given(body=fuzzed_bodies(ENDPOINTS["login"]), raw_utf8=RAW_UTF8)
@example(body={"username": "\ud800", "password": "x"}, raw_utf8=False)
def test_login_fields(client, body, raw_utf8):
    client.json(ENDPOINTS["login"], body, raw_utf8=raw_utf8)


@FUZZ
@given(
    name=st.sampled_from(["refresh", "logout"]),
    body=fuzzed_bodies(ENDPOINTS["refresh"]),
    raw_utf8=RAW_UTF8,
)
@example(name="refresh", body={"refreshToken": "\ud800"}, raw_utf8=False)
def test_refresh_and_logout_fields(client, name, body, raw_utf8):
    client.json(ENDPOINTS[name], body, raw_utf8=raw_utf8)


@FUZZ
@given(body=fuzzed_bodies(ENDPOINTS["profile"]), raw_utf8=RAW_UTF8)
@example(body={"firstName": "\ud800"}, raw_utf8=False)
def test_profile_patch_fields(client, body, raw_utf8):
    client.json(ENDPOINTS["profile"], body, raw_utf8=raw_utf8)


@FUZZ
@given(body=fuzzed_bodies(ENDPOINTS["operate"]), raw_utf8=RAW_UTF8)
@example(body={"type": "\ud800", "amount": 1}, raw_utf8=False)
@example(body={"type": "DEPOSIT", "amount": 1, "\ud800": 1}, raw_utf8=False)
def test_billing_operate_fields(client, body, raw_utf8):
    client.json(ENDPOINTS["operate"], body, raw_utf8=raw_utf8)


@FUZZ
@given(body=fuzzed_bodies(ENDPOINTS["order"]), raw_utf8=RAW_UTF8)
@example(body={"orderPositions": [{**POSITION, "price": "\ud800"}]}, raw_utf8=False)
@example(body={"orderPositions": [POSITION], "\ud800": 1}, raw_utf8=False)
def test_order_fields(client, body, raw_utf8):
    client.json(ENDPOINTS["order"], body, raw_utf8=raw_utf8)


# --- whole bodies -------------------------------------------------------------------------


ODD_BODIES = [
    b"",
    b"{",
    b'{"a":1}{',
    b"\xef\xbb\xbf{}",
    b'"\\ud800"',
    b'{"\\ud800":"\\udfff"}',
    b"[" * 2000,
    b"[" * 5000 + b"]" * 5000,
    b'{"type":' + b"[" * 5000 + b"]" * 5000 + b',"amount":1}',
    b'{"a":1,"a":2}',
    b"\x00",
]


@FUZZ
@given(
    name=st.sampled_from(sorted(ENDPOINTS)),
    body=st.one_of(
        JSON_VALUES.map(lambda value: encode(render(value, me=""))),
        st.binary(max_size=200),
        st.sampled_from(ODD_BODIES),
    ),
)
def test_any_body(client, name, body):
    client.call(ENDPOINTS[name], body)


# --- header values ----------------------------------------------------------------------

CONTROL = [bytes([code]) for code in [*range(0x01, 0x20), 0x7F] if code not in (0x0A, 0x0D)]
HIGH = [bytes([code]) for code in range(0x80, 0x100)]
PRINTABLE = [bytes([code]) for code in range(0x20, 0x7F)]
HEADER_VALUES = st.one_of(
    st.lists(st.sampled_from(PRINTABLE + CONTROL + HIGH), max_size=60).map(b"".join),
    st.binary(max_size=60),
    st.text(ANY_CHARACTER, max_size=30).map(encode),
    st.sampled_from(
        [b"a\x7fb", b"a\x01b", b"\x1f", b"\xff\xfe", b"\xed\xa0\x80", b"caf\xc3\xa9", b"x" * 300]
    ),
).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b""))  # CR and LF end a header line
HEADERS = [
    "Idempotency-Key",
    "X-Request-ID",
    "traceparent",
    "Content-Type",
    "Accept",
    "Authorization",
]
AUTH_SCHEMES = [b"", b"Bearer ", b"bearer ", b"Basic ", b"Bearer  "]
# Where the headers go: a body each route accepts, so only the header is odd.
HEADER_ROUTES = {
    "balance": (Endpoint("GET", "/billing/account/balance", {}, ()), None),
    "operate": (ENDPOINTS["operate"], {"type": "DEPOSIT", "amount": 1}),
    "order": (ENDPOINTS["order"], {"orderPositions": [POSITION]}),
    "login": (ENDPOINTS["login"], {"username": Me, "password": "not-the-password"}),
}


@FUZZ
@given(
    route=st.sampled_from(sorted(HEADER_ROUTES)),
    name=st.sampled_from(HEADERS),
    value=HEADER_VALUES,
    scheme=st.sampled_from(AUTH_SCHEMES),
)
@example(route="operate", name="Idempotency-Key", value=b"a\x7fb", scheme=b"")
@example(route="balance", name="X-Request-ID", value=b"\x01", scheme=b"")
@example(route="order", name="traceparent", value=b"00-\xff-01", scheme=b"")
@example(route="login", name="Content-Type", value=b"application/json\x1f", scheme=b"")
def test_header_values(client, route, name, value, scheme):
    endpoint, body = HEADER_ROUTES[route]
    if name == "Authorization":
        value = scheme + value
    payload = None if body is None else encode(render(body, me=client.username))
    client.call(endpoint, payload, headers=[(name, value)])


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_odd_bodies_everywhere(client, name, body):
    client.call(ENDPOINTS[name], body)
