import factory
from django.utils import timezone

from notifications.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    """A notification that was delivered by e-mail on the first attempt."""

    class Meta:
        model = Notification

    notification_type = Notification.Type.SUCCESS
    parent_type = Notification.ParentType.ORDER
    parent_id = factory.Sequence(lambda n: str(n + 1))
    username = "alice"
    text = factory.LazyAttribute(lambda n: f"Order {n.parent_id} is paid.")
    contact_email = factory.LazyAttribute(lambda n: f"{n.username}@example.com")
    delivery_status = Notification.DeliveryStatus.SENT
    attempts = 1
    sent_at = factory.LazyFunction(timezone.now)
