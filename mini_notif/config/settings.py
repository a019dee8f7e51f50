"""mini_notif settings: the shared ones from mini_common plus this service's app."""

from pathlib import Path

from mini_common.settings import env, service_settings

globals().update(
    service_settings(
        service="mini_notif",
        short_name="notif",
        base_dir=Path(__file__).resolve().parent.parent,
        apps=["notifications"],
        title="mini_notif: notifications",
    )
)

# Delivery happens inside the caller's request, whose client gives up after
# MINI_READ_TIMEOUT (5 s by default): a hanging SMTP server must fail sooner,
# leaving the notification FAILED for `reconcile` rather than the caller waiting.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=3.0)

# A FAILED (or stuck PENDING) notification is retried by `reconcile` until it
# has had this many delivery attempts.
NOTIF_MAX_ATTEMPTS = env.int("NOTIF_MAX_ATTEMPTS", default=10)
# `reconcile` leaves PENDING notifications younger than this to their request.
NOTIF_PENDING_GRACE = env.float("NOTIF_PENDING_GRACE", default=10.0)
# How long one delivery attempt owns a notification; must exceed the time a send
# can take. A process that dies mid-send frees the notification when it expires.
NOTIF_DELIVERY_LEASE = env.float("NOTIF_DELIVERY_LEASE", default=60.0)
