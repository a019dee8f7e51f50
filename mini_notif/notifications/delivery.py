"""The channels a notification goes out through.

E-mail goes through Django's configured backend (a file per message under
var/mail/mini_notif by default, SMTP with EMAIL_URL). There is no SMS gateway:
a notification with only a phone number is delivered to the "log" channel, one
log line, and counts as sent.
"""

import logging

from django.core.mail import send_mail

from notifications.models import Notification

logger = logging.getLogger("notifications.delivery")

EMAIL = "email"
LOG = "log"


class NothingSent(Exception):
    """The backend accepted the call but reports no message sent."""


def subject_for(notification: Notification) -> str:
    # Built from validated enums and parent id only: never a header-injection vector.
    parent = notification.parent_type.capitalize()
    if notification.parent_id:
        parent = f"{parent} {notification.parent_id}"
    return f"[mini] {notification.notification_type.capitalize()}: {parent}"


def masked_phone(phone: str) -> str:
    digits = [ch for ch in phone if ch.isdigit()]
    return "*" * max(0, len(digits) - 2) + "".join(digits[-2:])


def notification_send(notification: Notification) -> str:
    """Send one notification through its channel; returns the channel, raises on failure."""
    if notification.contact_email:
        sent = send_mail(
            subject_for(notification),
            notification.text,
            None,  # DEFAULT_FROM_EMAIL
            [notification.contact_email],
            fail_silently=False,
        )
        if not sent:
            raise NothingSent("the e-mail backend sent no message")
        return EMAIL
    logger.info(
        "notification %s for %s delivered to the log channel (phone %s)",
        notification.pk,
        notification.username,
        masked_phone(notification.contact_phone),
        extra={"notification_id": notification.pk, "channel": LOG},
    )
    return LOG
