from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.auth import IsEndUser, IsInternal
from mini_common.fields import (
    EnumField,
    PhoneField,
    StrictCharField,
    StrictEmailField,
    UsernameField,
)
from mini_common.idempotency import mark_replayed, request_key
from mini_common.pagination import StandardPagination
from mini_common.schema import IDEMPOTENCY_KEY, PAGE_PARAMETERS, page_of, problem_responses
from mini_common.serializers import QuerySerializer, Serializer
from notifications.fields import ParentIdField, parent_id_validate
from notifications.models import TEXT_MAX_LENGTH, Notification
from notifications.selectors import notification_list
from notifications.services import notification_create


class BlankAsNullField(serializers.CharField):
    """Optional text (parent id, contact data): stored blank, answered null."""

    def to_representation(self, value):
        return value or None


class ContactOutputSerializer(Serializer):
    email = BlankAsNullField(source="contact_email", allow_null=True)
    phone = BlankAsNullField(source="contact_phone", allow_null=True)


class ContactInputSerializer(Serializer):
    email = StrictEmailField(required=False, allow_blank=True, allow_null=True)
    phone = PhoneField(required=False, allow_blank=True, allow_null=True)


class NotificationOutputSerializer(Serializer):
    class Meta:
        ref_name = "Notification"

    id = serializers.IntegerField()
    notificationType = serializers.ChoiceField(
        source="notification_type", choices=Notification.Type.values
    )
    parentType = serializers.ChoiceField(
        source="parent_type", choices=Notification.ParentType.values
    )
    parentId = ParentIdField(allow_null=True)
    username = serializers.CharField()
    text = serializers.CharField()
    contact = ContactOutputSerializer(source="*")
    deliveryStatus = serializers.ChoiceField(
        source="delivery_status", choices=Notification.DeliveryStatus.values
    )
    createdAt = serializers.DateTimeField(source="created_at")


def _parent_id_of(parent_type: str, parent_id) -> str:
    try:
        return parent_id_validate(parent_type, parent_id)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"parentId": error.detail}) from error


class NotificationApi(APIView):
    """``/api/v1/notification``: POST (internal) creates and sends, GET lists.

    The contract puts both operations on one URL, so one view holds both
    handlers, each with its own permission and serializers.
    """

    def get_permissions(self):
        return [IsInternal()] if self.request.method == "POST" else [IsEndUser()]

    class CreateInputSerializer(Serializer):
        class Meta:
            ref_name = "NotificationCreate"  # the OpenAPI component's name

        notificationType = EnumField(source="notification_type", choices=Notification.Type.values)
        parentType = EnumField(source="parent_type", choices=Notification.ParentType.values)
        parentId = ParentIdField(source="parent_id", required=False, allow_null=True, default=None)
        username = UsernameField()
        text = StrictCharField(max_length=TEXT_MAX_LENGTH)
        contact = ContactInputSerializer()

        def validate_contact(self, contact: dict) -> dict:
            if not contact.get("email") and not contact.get("phone"):
                raise serializers.ValidationError("Give an e-mail address or a phone number.")
            return contact

        def validate(self, data: dict) -> dict:
            if data["parent_id"] is not None:
                data["parent_id"] = _parent_id_of(data["parent_type"], data["parent_id"])
            return data

    class FilterSerializer(QuerySerializer):
        notificationType = EnumField(
            source="notification_type", choices=Notification.Type.values, required=False
        )
        parentType = EnumField(
            source="parent_type", choices=Notification.ParentType.values, required=False
        )
        parentId = ParentIdField(source="parent_id", required=False)
        username = UsernameField(required=False, help_text="Admins only: one user's notifications.")

        def validate(self, data: dict) -> dict:
            if data.get("parent_type") and data.get("parent_id") is not None:
                data["parent_id"] = _parent_id_of(data["parent_type"], data["parent_id"])
            return data

    @extend_schema(
        operation_id="notification_create",
        request=CreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: NotificationOutputSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    403: "permission_denied: not an internal caller (no X-Service).",
                    409: "request_in_progress (same Idempotency-Key)",
                    422: "idempotency_key_reused",
                }
            ),
        },
        description=(
            "Internal. Stores the notification, then sends it: by e-mail to contact.email "
            "through Django's e-mail backend, or, with only a phone number, to the log "
            "channel (there is no SMS gateway; a log line, and the notification counts "
            "as sent). Always 201 once stored: deliveryStatus is SENT or FAILED (a failed "
            "one is retried by `manage.py reconcile`). The same Idempotency-Key again "
            "answers the notification it created, with Idempotent-Replayed: true once its "
            "delivery was tried; if its request died mid-send, this one sends it; 409 while "
            "that request is still sending it. parentId is an integer >= 1 for ORDER "
            "and PAYMENT parents (a string of decimal digits is accepted as the same "
            "number) and the username for a USER parent; null when absent. Absent contact "
            "data is answered null. Honours Idempotency-Key."
        ),
    )
    def post(self, request):
        # Idempotency-Key: the notification row is its own record (notification_create).
        key = request_key(request)
        serializer = self.CreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contact = data.pop("contact")
        claimed = notification_create(
            **data,
            contact_email=contact.get("email") or "",
            contact_phone=contact.get("phone") or "",
            request_key=f"{request.user.service}/{key}" if key else None,
        )
        response = Response(
            NotificationOutputSerializer(claimed.row).data, status=status.HTTP_201_CREATED
        )
        return mark_replayed(request, response) if claimed.replayed else response

    @extend_schema(
        operation_id="notification_list",
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: page_of(NotificationOutputSerializer, name="NotificationPage"),
            **problem_responses(
                {
                    400: "validation_error: an unknown enum or a bad filter",
                    404: "not_found: a page past the end",
                }
            ),
        },
        description=(
            "The caller's notifications, newest first, paginated (?page=&pageSize=, max 100). "
            "Admins see everyone's and may filter by username. An unknown enum in a filter "
            "is a 400."
        ),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        notifications = notification_list(viewer=request.user, **filters.validated_data)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(notifications, request, view=self)
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)
