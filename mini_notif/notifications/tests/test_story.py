import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notifications.audit import notification_counts_by_parent
from notifications.models import Notification
from notifications.story import order_story, user_story
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_an_orders_story_has_its_notifications_with_the_contact_they_went_to():
    sent = NotificationFactory(parent_id="7", contact_email="alice@example.com")
    NotificationFactory(parent_id="17")
    NotificationFactory(parent_type=Notification.ParentType.PAYMENT, parent_id="7")

    story = order_story(order_id=7)

    [row] = story["notifications"]
    assert (row["id"], row["parentType"], row["parentId"]) == (sent.pk, "ORDER", "7")
    assert (row["contactEmail"], row["deliveryStatus"]) == ("alice@example.com", "SENT")
    assert row["sentAt"] == sent.sent_at.isoformat()
    assert story["audit"]["notifications"] == [
        r
        for r in notification_counts_by_parent()
        if (r["parentType"], r["parentId"]) == ("ORDER", "7")
    ]


def test_two_notifications_of_one_type_are_counted_for_the_audit():
    NotificationFactory(parent_id="3")
    NotificationFactory(parent_id="3", delivery_status=Notification.DeliveryStatus.FAILED)

    assert order_story(order_id=3)["audit"]["notifications"] == [
        {"parentType": "ORDER", "parentId": "3", "type": "SUCCESS", "count": 2, "sent": 1}
    ]


def test_an_order_without_notifications_has_an_empty_story():
    assert order_story(order_id=5) == {
        "service": "mini_notif",
        "notifications": [],
        "audit": {"notifications": []},
    }


def test_a_users_story_lists_the_newest_notifications_and_audits_them_all():
    first = NotificationFactory(username="alice", parent_id="1")
    second = NotificationFactory(username="alice", parent_id="2")
    NotificationFactory(username="bob", parent_id="3")

    story = user_story(username="alice", limit=1)

    assert [row["id"] for row in story["notifications"]] == [second.pk]
    assert story["notificationsTotal"] == 2
    assert [row["parentId"] for row in story["audit"]["notifications"]] == [
        first.parent_id,
        second.parent_id,
    ]


def test_the_commands_print_one_json_document():
    NotificationFactory(username="alice", parent_id="1")
    out = StringIO()
    call_command("story_order", "1", stdout=out)
    assert json.loads(out.getvalue())["notifications"][0]["parentId"] == "1"

    out = StringIO()
    call_command("story_user", "alice", stdout=out)
    assert json.loads(out.getvalue())["notificationsTotal"] == 1


def test_story_user_refuses_a_limit_below_one():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("story_user", "alice", "--limit", "0")
