"""Hand-made tokens for the tests: forged, expired, or with odd claims."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from identity.selectors import user_roles
from identity.tokens import FAMILY_CLAIM


def access_token(user, *, expired: bool = False, **claims) -> AccessToken:
    """An access token as tokens_issue makes them (its own family); ``claims`` override,
    None deletes one."""
    token = AccessToken.for_user(user)
    token["roles"] = user_roles(user=user)
    token[FAMILY_CLAIM] = uuid.uuid4().hex
    if expired:
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    for name, value in claims.items():
        if value is None:
            del token[name]
        else:
            token[name] = value
    return token


def full_payload(token: AccessToken) -> dict:
    """The claims as they are signed, issuer and audience included."""
    return {"iss": settings.SIMPLE_JWT["ISSUER"], "aud": settings.SIMPLE_JWT["AUDIENCE"]} | dict(
        token.payload
    )


def signed(payload: dict, *, key: str | None = None, algorithm: str = "HS256", **header) -> str:
    return jwt.encode(
        payload,
        key or settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithm=algorithm,
        headers=header or None,
    )


def _part(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(payload: dict, alg: str = "none") -> str:
    """An ``alg: none`` token: header and payload, empty signature."""
    return f"{_part({'alg': alg, 'typ': 'JWT'})}.{_part(payload)}."


def hmac_with_header(payload: dict, alg: str, key: str | None = None) -> str:
    """A token whose header names ``alg`` but whose signature is HMAC-SHA256 with our key:
    what a verifier that trusts the header's algorithm and uses the HS secret as the
    'public key' would accept (algorithm confusion)."""
    signing_input = f"{_part({'alg': alg, 'typ': 'JWT'})}.{_part(payload)}"
    secret = (key or settings.SIMPLE_JWT["SIGNING_KEY"]).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_part(signature)}"
