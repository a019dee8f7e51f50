"""mini_order settings: the shared ones from mini_common plus this service's app."""

from pathlib import Path

from mini_common.settings import env, service_settings

globals().update(
    service_settings(
        service="mini_order",
        short_name="order",
        base_dir=Path(__file__).resolve().parent.parent,
        apps=["orders"],
        title="mini_order: orders",
    )
)

# An unpaid NEW order older than this (seconds) is abandoned: `reconcile`
# cancels it once mini_billing confirms that its payment never happened.
ORDER_RETRY_WINDOW = env.int("ORDER_RETRY_WINDOW", default=900)
# `reconcile` leaves NEW orders younger than this (seconds) to their request.
ORDER_RECONCILE_MIN_AGE = env.int("ORDER_RECONCILE_MIN_AGE", default=10)
# Contact data from mini_user: fresh for PROFILE_CACHE_TTL seconds; a stale copy
# is kept PROFILE_STALE_TTL seconds for when mini_user is unavailable.
PROFILE_CACHE_TTL = env.int("PROFILE_CACHE_TTL", default=60)
PROFILE_STALE_TTL = env.int("PROFILE_STALE_TTL", default=7 * 24 * 3600)
