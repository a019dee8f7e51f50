"""The client's Host header is the client's business: it never makes the gateway fail."""

import json

import pytest

from tests.security.support import raw_request


# A Host Django's validation refuses (an underscore, a bare "@") is a 400 problem from
# the service behind; a well-formed one is served (development allows any host).
@pytest.mark.parametrize(
    "host, with_token", [("a_b", 400), ("@", 400), ("evil.example", 200), ("127.0.0.1:1", 200)]
)
def test_an_odd_host_gets_the_tokens_answer_not_a_503(gateway, alice, host, with_token):
    # The token check sends mini_auth its own address, not the client's Host
    # (which mini_auth refused, and the gateway then answered 503).
    token = alice.api.session.headers["Authorization"]
    for authorization, expected in ((token, with_token), ("Bearer not-a-token", 401)):
        status, headers, body = raw_request(
            gateway.base_url,
            "GET",
            "/api/v1/order",
            [("Host", host), ("Authorization", authorization)],
        )
        assert status == expected, body
        json.loads(body)
