from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.auth import IsEndUser, IsInternal
from mini_common.errors import NotFound
from mini_common.idempotency import idempotent
from profiles.selectors import profile_get
from profiles.services import profile_create, profile_update



class ProfileOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class ContactInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    phone = serializers.RegexField(
        r"^\+?[0-9 ()-]{5,20}$", required=False, allow_blank=True, default=""
    )
    firstName = serializers.CharField(
        source="first_name", max_length=150, required=False, allow_blank=True, default=""
    )
    lastName = serializers.CharField(
        source="last_name", max_length=150, required=False, allow_blank=True, default=""
    )


class ProfileCreateApi(APIView):
    """Internal: mini_auth creates the profile during registration."""

    permission_classes = [IsInternal]

    class InputSerializer(ContactInputSerializer):
        username = serializers.RegexField(r"^[A-Za-z0-9_.-]{3,150}$")

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

    class UpdateSerializer(ContactInputSerializer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():
                field.required = False
                field.default = serializers.empty

    def get(self, request, username: str):
        profile = profile_get(username=username, viewer=request.user)
        return Response(ProfileOutputSerializer(profile).data)

    def patch(self, request, username: str):
        profile = profile_get(username=username, viewer=request.user)
        if request.user.username != profile.username and not request.user.is_admin:
            raise NotFound(f"No profile {username!r}")
        serializer = self.UpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        profile = profile_update(profile=profile, **serializer.validated_data)
        return Response(ProfileOutputSerializer(profile).data)
