"""Refuse a request up front while a service it needs has its circuit open.

A view method decorated with ``@fail_fast("billing")`` answers 503
``dependency_unavailable`` at once while mini_billing's breaker is open, with
``Retry-After`` set to the time left until the breaker lets a trial call
through. It runs before anything else (put it above ``@idempotent``): no
parsing, no Idempotency-Key claimed, nothing written, so the client's retry
with the same key starts from scratch. Without it, such a request would save
its work first and only then learn that the call cannot be made.
"""

import functools
import logging
import math

from mini_common import metrics
from mini_common.breakers import seconds_open
from mini_common.errors import DependencyUnavailable

logger = logging.getLogger("mini_common.failfast")


def fail_fast(*services: str):
    def decorate(view_method):
        @functools.wraps(view_method)
        def wrapper(self, request, *args, **kwargs):
            for service in services:
                wait = seconds_open(service)
                if wait > 0:
                    metrics.call_observed(service, "circuit_open", 0.0)
                    logger.warning(
                        "%s: circuit open, request refused before any work",
                        service,
                        extra={"target": service, "breaker_state": "open"},
                    )
                    raise DependencyUnavailable(
                        service,
                        f"{service} is unavailable (circuit open); nothing was saved",
                        retry_after=math.ceil(wait),
                    )
            return view_method(self, request, *args, **kwargs)

        return wrapper

    return decorate
