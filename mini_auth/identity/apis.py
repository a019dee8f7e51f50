from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.errors import MissingToken
from identity.permissions import HasInternalToken
from identity.services import user_register
from identity.throttles import LoginAddressThrottle, LoginUsernameThrottle
from identity.tokens import (
    access_token_verify,
    tokens_issue,
    tokens_login,
    tokens_logout,
    tokens_refresh,
)
from mini_common.auth import IsEndUser
from mini_common.fields import (
    PhoneField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    UsernameField,
)
from mini_common.idempotency import idempotent
from mini_common.schema import IDEMPOTENCY_KEY, problem_responses
from mini_common.serializers import Serializer

PASSWORD_MAX_LENGTH = 256  # bounds the hashing work a request can ask for
TOKEN_MAX_LENGTH = 4096


def _password_field() -> StrictCharField:
    return StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


def _token_field() -> StrictCharField:
    return StrictCharField(max_length=TOKEN_MAX_LENGTH)


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


class RegisterApi(APIView):
    """Public: create a user, their profile (mini_user) and account (mini_billing)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="Register")
    class InputSerializer(Serializer):
        username = UsernameField()
        password = _password_field()
        # Same fields as mini_user's profile, so the profile step cannot refuse them.
        email = StrictEmailField()
        phone = PhoneField(required=False, allow_blank=True, default="")
        firstName = StrictCharField(
            source="first_name", max_length=150, required=False, allow_blank=True, default=""
        )
        lastName = StrictCharField(
            source="last_name", max_length=150, required=False, allow_blank=True, default=""
        )
        login = StrictBooleanField(required=False, default=False)

    @extend_schema_serializer(component_name="RegisteredUser")
    class OutputSerializer(Serializer):
        username = serializers.CharField()
        email = serializers.EmailField()
        phone = serializers.CharField()
        firstName = serializers.CharField(source="first_name")
        lastName = serializers.CharField(source="last_name")
        accessToken = serializers.CharField(required=False, help_text="only when login is true")
        refreshToken = serializers.CharField(required=False, help_text="only when login is true")

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OutputSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    409: "username_taken: the name is registered, or a pending registration "
                    "of it has another password or other contact data; request_in_progress "
                    "(same Idempotency-Key)",
                    422: "idempotency_key_reused",
                    503: "dependency_unavailable (Retry-After): the user stays inactive; "
                    "repeating the same request completes the registration",
                },
                authenticated=False,
            ),
        },
    )
    @idempotent(secret_fields=("accessToken", "refreshToken"))
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        login = data.pop("login")
        registration = user_register(**data)
        body = self.OutputSerializer(registration).data
        if login:
            tokens = tokens_issue(user=registration.user)
            body |= {"accessToken": tokens.access, "refreshToken": tokens.refresh}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="TokenPair")
class TokenPairSerializer(Serializer):
    accessToken = serializers.CharField(source="access")
    refreshToken = serializers.CharField(source="refresh")


class LoginApi(APIView):
    """Public: exchange credentials for tokens (throttled per address and per username)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    @extend_schema_serializer(component_name="Login")
    class InputSerializer(Serializer):
        username = StrictCharField(max_length=150)
        password = _password_field()

    @extend_schema_serializer(component_name="LoginTokens")
    class OutputSerializer(TokenPairSerializer):
        tokenType = serializers.SerializerMethodField()
        expiresIn = serializers.IntegerField(source="expires_in")

        def get_tokenType(self, tokens) -> str:
            return "Bearer"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    401: "invalid_credentials: unknown user, wrong password, "
                    "or a registration not completed yet",
                    429: "throttled (Retry-After)",
                },
                authenticated=False,
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = tokens_login(**serializer.validated_data)
        return Response(self.OutputSerializer(tokens).data)


class RefreshApi(APIView):
    """Public: rotate a refresh token; the one presented stops working."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="Refresh")
    class InputSerializer(Serializer):
        refreshToken = _token_field()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: TokenPairSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    401: "invalid_token: invalid, expired, already used or revoked, "
                    "or its user is no longer active",
                },
                authenticated=False,
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = tokens_refresh(refresh_token=serializer.validated_data["refreshToken"])
        return Response(TokenPairSerializer(tokens).data)


class LogoutApi(APIView):
    """User (through the gateway): revoke the refresh token and the presented access token."""

    permission_classes = [IsEndUser]

    @extend_schema_serializer(component_name="Logout")
    class InputSerializer(Serializer):
        refreshToken = _token_field()

    @extend_schema(
        request=InputSerializer,
        responses={
            204: None,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    401: "not_authenticated: no user identity or no bearer access token; "
                    "invalid_token: a token is invalid, already revoked, or belongs to "
                    "another user (nothing is revoked then)",
                }
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        access_token = bearer_token(request)
        if access_token is None:
            raise MissingToken("Logout needs the access token in the Authorization header")
        tokens_logout(
            username=request.user.username,
            refresh_token=serializer.validated_data["refreshToken"],
            access_token=access_token,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyApi(APIView):
    """nginx's auth_request: who does this access token speak for? No database query."""

    authentication_classes = []
    permission_classes = [HasInternalToken]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Authorization",
                location=OpenApiParameter.HEADER,
                required=True,
                description="Bearer <access token>",
            )
        ],
        responses={
            200: OpenApiResponse(
                inline_serializer("VerifyResponse", fields={}),
                description="Empty object; identity in the X-Username and X-Roles headers",
            ),
            **problem_responses(
                {
                    401: "not_authenticated (no bearer token or no internal token) or "
                    "invalid_token (bad signature or algorithm, expired, refresh token, "
                    "revoked)",
                },
                authenticated=False,
            ),
        },
    )
    def get(self, request):
        token = bearer_token(request)
        if token is None:
            raise MissingToken()
        identity = access_token_verify(token=token)
        return Response(
            {}, headers={"X-Username": identity.username, "X-Roles": ",".join(identity.roles)}
        )
