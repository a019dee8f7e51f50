"""Whom a service trusts: the internal token and known X-Service names, in constant time."""

import pytest
from django.test import override_settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from mini_common import auth
from mini_common.auth import IsInternal, known_service

TOKEN = "dev-internal-token"


class InternalView(APIView):
    permission_classes = [IsInternal]

    def post(self, request):
        return Response({"caller": request.user.service})


def call(**headers):
    request = APIRequestFactory().post("/internal", {}, format="json", **headers)
    return InternalView.as_view()(request)


def test_a_known_service_with_the_token_may_call_internal_endpoints():
    response = call(HTTP_X_INTERNAL_TOKEN=TOKEN, HTTP_X_SERVICE="mini_order")
    assert response.status_code == 200
    assert response.data == {"caller": "mini_order"}


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a user through the gateway: no X-Service
        {"HTTP_X_USERNAME": "alice"},
        {"HTTP_X_USERNAME": "alice", "HTTP_X_ROLES": "user,admin"},
        {"HTTP_X_SERVICE": "mini_evil"},
        {"HTTP_X_SERVICE": "MINI_ORDER"},
        {"HTTP_X_SERVICE": "mini_order "},  # stripped, then it is known: see below
        {"HTTP_X_SERVICE": "mini_orde"},
        {"HTTP_X_SERVICE": "mini_order\x00"},
        {"HTTP_X_SERVICE": "mini_order,mini_user"},
    ],
)
def test_a_trusted_caller_naming_no_known_service_is_403(headers):
    response = call(HTTP_X_INTERNAL_TOKEN=TOKEN, **headers)
    if headers.get("HTTP_X_SERVICE", "").strip() == "mini_order":
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.data["code"] == "permission_denied"


@pytest.mark.parametrize("token", [None, "", "guess", TOKEN + "x", TOKEN.upper()])
def test_without_the_internal_token_it_is_401_even_for_a_known_service(token):
    headers = {"HTTP_X_SERVICE": "mini_order"}
    if token is not None:
        headers["HTTP_X_INTERNAL_TOKEN"] = token
    response = call(**headers)
    assert response.status_code == 401


def test_known_service_compares_every_name_in_constant_time(monkeypatch):
    compared = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert known_service("mini_auth") == "mini_auth"
    assert len(compared) == len(auth.known_services())  # no early exit on a match
    compared.clear()
    assert known_service("nobody") == ""
    assert len(compared) == len(auth.known_services())


@pytest.mark.parametrize(
    "caller", ["mini_auth", "mini_user", "mini_billing", "mini_order", "mini_notif", "mini_test"]
)
def test_the_five_services_and_this_one_may_call_internal_endpoints(caller):
    response = call(HTTP_X_INTERNAL_TOKEN=TOKEN, HTTP_X_SERVICE=caller)
    assert response.status_code == 200
    assert response.data == {"caller": caller}


def test_the_known_services_are_configurable():
    with override_settings(MINI_COMMON={"KNOWN_SERVICES": ("mini_x",), "INTERNAL_TOKEN": TOKEN}):
        assert known_service("mini_x") == "mini_x"
        assert known_service("mini_order") == ""
