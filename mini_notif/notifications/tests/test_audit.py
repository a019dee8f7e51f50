import json
from io import StringIO

import pytest
from django.core.management import call_command

from notifications.audit import notification_counts_by_parent
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

Type, Parent, Delivery = Notification.Type, Notification.ParentType, Notification.DeliveryStatus


def test_counts_per_parent_and_type_with_how_many_were_sent():
    NotificationFactory(parent_id="1", notification_type=Type.SUCCESS)
    NotificationFactory(parent_id="1", notification_type=Type.SUCCESS)  # a duplicate
    NotificationFactory(parent_id="2", notification_type=Type.FAIL, delivery_status=Delivery.FAILED)

    assert list(notification_counts_by_parent()) == [
        {"parentType": "ORDER", "parentId": "1", "type": "SUCCESS", "count": 2, "sent": 2},
        {"parentType": "ORDER", "parentId": "2", "type": "FAIL", "count": 1, "sent": 0},
    ]


def test_user_notifications_and_those_without_a_parent_id_are_left_out():
    NotificationFactory(parent_type=Parent.USER, parent_id="alice", notification_type=Type.INFO)
    NotificationFactory(parent_type=Parent.USER, parent_id="alice", notification_type=Type.INFO)
    NotificationFactory(parent_type=Parent.ORDER, parent_id="")
    assert list(notification_counts_by_parent()) == []


def test_audit_export_prints_one_json_document():
    NotificationFactory(parent_type=Parent.PAYMENT, parent_id="5", notification_type=Type.INFO)
    out = StringIO()
    call_command("audit_export", stdout=out)

    document = json.loads(out.getvalue())
    assert document["service"] == "mini_notif"
    assert document["notifications"] == [
        {"parentType": "PAYMENT", "parentId": "5", "type": "INFO", "count": 1, "sent": 1}
    ]
