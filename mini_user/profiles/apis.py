from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.auth import IsEndUser, IsInternal
from mini_common.errors import NotFound
from mini_common.fields import PhoneField, StrictCharField, StrictEmailField, UsernameField
from mini_common.idempotency import idempotent
from mini_common.schema import IDEMPOTENCY_KEY, problem_responses
from mini_common.serializers import Serializer
from profiles.selectors import profile_get
from profiles.services import profile_create, profile_update


@extend_schema_serializer(component_name="Profile")
class ProfileOutputSerializer(Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class ContactInputSerializer(Serializer):
    email = StrictEmailField()
    phone = PhoneField(required=False, allow_blank=True, default="")
    firstName = StrictCharField(
        source="first_name", max_length=150, required=False, allow_blank=True, default=""
    )
    lastName = StrictCharField(
        source="last_name", max_length=150, required=False, allow_blank=True, default=""
    )


class ProfileCreateApi(APIView):
    """Internal: mini_auth creates the profile during registration."""

    permission_classes = [IsInternal]

    @extend_schema_serializer(component_name="ProfileNew")
    class InputSerializer(ContactInputSerializer):
        username = UsernameField()

    @extend_schema(
        summary="Create a profile (internal)",
        description="mini_auth creates the profile during registration. The same body "
        "again answers the existing profile with 200.",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ProfileOutputSerializer,
            200: ProfileOutputSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    403: "permission_denied: not an internal caller (no X-Service).",
                    409: "profile_conflict: a profile with other data exists; "
                    "request_in_progress (same Idempotency-Key).",
                    422: "idempotency_key_reused",
                }
            ),
        },
    )
    @idempotent
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile, created = profile_create(**serializer.validated_data)
        return Response(
            ProfileOutputSerializer(profile).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ProfileDetailApi(APIView):
    permission_classes = [IsEndUser]

    @extend_schema_serializer(component_name="ProfileUpdate")
    class UpdateSerializer(ContactInputSerializer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():
                field.required = False
                field.default = serializers.empty

    @extend_schema(
        summary="A profile",
        description="Owners see their own profile, admins and internal callers anyone's; "
        "another user's profile is a 404, as a missing one.",
        responses={200: ProfileOutputSerializer, **problem_responses({404: "not_found"})},
    )
    def get(self, request, username: str):
        profile = profile_get(username=username, viewer=request.user)
        return Response(ProfileOutputSerializer(profile).data)

    @extend_schema(
        summary="Change a profile's contact data",
        description="The owner or an admin; only the fields given change.",
        request=UpdateSerializer,
        responses={
            200: ProfileOutputSerializer,
            **problem_responses({400: "validation_error / malformed_request", 404: "not_found"}),
        },
    )
    def patch(self, request, username: str):
        profile = profile_get(username=username, viewer=request.user)
        if request.user.username != profile.username and not request.user.is_admin:
            raise NotFound(f"No profile {username!r}")
        serializer = self.UpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = profile_update(profile=profile, **serializer.validated_data)
        return Response(ProfileOutputSerializer(profile).data)
