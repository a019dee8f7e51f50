"""Hand-made JWTs: what an attacker can make without the key, and (for control
tests) what only the key holder can make.

The security suite knows its system's JWT_SIGNING_KEY: a token signed here
with every claim right must pass (the control), so that a refused forgery is
refused for the one thing it changes.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt

ISSUER = "mini_auth"
AUDIENCE = "mini"


def b64(data: bytes | dict) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims_of(token: str) -> dict:
    return json.loads(unb64(token.split(".")[1]))


def header_of(token: str) -> dict:
    return json.loads(unb64(token.split(".")[0]))


def with_claims(token: str, **changes) -> str:
    """The token with its payload changed and its original signature kept (tampering)."""
    header, _, signature = token.split(".")
    payload = claims_of(token)
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return f"{header}.{b64(payload)}.{signature}"


def with_flipped_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(unb64(signature))
    raw[-1] ^= 0x01
    return f"{header}.{payload}.{b64(bytes(raw))}"


class Forger:
    def __init__(self, key: str) -> None:
        self.key = key

    def claims(self, username: str, /, **changes) -> dict:
        """What mini_auth puts in an access token; ``changes`` override, None removes."""
        now = int(time.time())
        claims = {
            "token_type": "access",
            "exp": now + 300,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "username": username,
            "roles": ["user"],
            "fam": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def sign(self, claims: dict, *, key: str | None = None, algorithm: str = "HS256", **header):
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers=header or None)

    def token(self, username: str, /, **changes) -> str:
        return self.sign(self.claims(username, **changes))

    @staticmethod
    def unsigned(claims: dict, alg: str = "none") -> str:
        return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."

    def hmac_under(self, claims: dict, alg: str) -> str:
        """Header naming ``alg`` (RS256, ES256, ...) with an HMAC-SHA256 signature by our
        key: what a verifier confused into using the HS secret as the public key accepts."""
        signing_input = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}"
        digest = hmac.new(self.key.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(digest)}"
