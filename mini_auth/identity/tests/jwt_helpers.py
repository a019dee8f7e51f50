"""Hand-made tokens for the tests: forged, expired, or with odd claims."""

import base64
import json
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from identity.selectors import user_roles


def access_token(user, *, expired: bool = False, **claims) -> AccessToken:
    token = AccessToken.for_user(user)
    token["roles"] = user_roles(user=user)
    if expired:
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    for name, value in claims.items():
        if value is None:
            del token[name]
        else:
            token[name] = value
    return token


def signed(payload: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def unsigned(payload: dict) -> str:
    """An ``alg: none`` token: header and payload, empty signature."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."
