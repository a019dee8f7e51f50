"""One pybreaker CircuitBreaker per downstream service, per process.

With a Redis URL the breakers keep their state in Redis (pybreaker's
CircuitRedisStorage), so every worker process of a service sees the same
state; otherwise each process has its own.

pybreaker holds a lock for the whole wrapped call, so threads sharing one
breaker would call one at a time. The services run gunicorn's sync workers
(one request per process at a time), where that lock is never contended.
"""

import logging
import random
from datetime import UTC, datetime

import pybreaker

from mini_common.conf import mini_setting

logger = logging.getLogger("mini_common.breaker")

# Each process waits up to this much longer than BREAKER_RESET_TIMEOUT before its
# trial call: worker processes whose circuits opened together would otherwise all
# send a trial into the same hung service at the same moment, and stall together.
RESET_TIMEOUT_JITTER = 0.25

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_storages: dict[str, pybreaker.CircuitBreakerStorage] = {}


class BreakerLogListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state):
        logger.warning(
            "circuit %s: %s -> %s",
            cb.name,
            getattr(old_state, "name", old_state),
            getattr(new_state, "name", new_state),
            extra={"target": cb.name, "breaker_state": getattr(new_state, "name", new_state)},
        )


def _storage(name: str):
    """Redis-backed state shared by every worker, or None for per-process memory state.

    pybreaker's Redis storage writes to Redis when it is built; if Redis is
    unreachable then, the breaker falls back to this process's memory rather
    than failing the call it guards (its state is then not shared).
    """
    redis_url = mini_setting("REDIS_URL")
    if not redis_url:
        return None
    import redis

    connection = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    namespace = f"mini:{mini_setting('SERVICE_NAME')}:breaker"
    try:
        return pybreaker.CircuitRedisStorage(
            pybreaker.STATE_CLOSED, connection, namespace=f"{namespace}:{name}"
        )
    except redis.RedisError as exc:
        logger.warning(
            "circuit %s: Redis unavailable (%s); keeping its state in this process",
            name,
            exc,
            extra={"target": name},
        )
        return None


def get_breaker(name: str) -> pybreaker.CircuitBreaker:
    breaker = _breakers.get(name)
    if breaker is None:
        storage = _storage(name) or pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        breaker = pybreaker.CircuitBreaker(
            fail_max=mini_setting("BREAKER_FAIL_MAX"),
            reset_timeout=mini_setting("BREAKER_RESET_TIMEOUT")
            * random.uniform(1.0, 1.0 + RESET_TIMEOUT_JITTER),
            listeners=[BreakerLogListener()],
            state_storage=storage,
            name=name,
        )
        _breakers[name] = breaker
        _storages[name] = storage
    return breaker


def seconds_open(name: str) -> float:
    """How much longer calls to ``name`` fail at once; 0 when a call may go through.

    An open circuit whose reset timeout has passed lets the next call through
    as a trial (pybreaker's half-open state), so it counts as 0 here too.
    """
    breaker = get_breaker(name)
    # ``state``, not ``current_state``: a worker that learns from the shared
    # storage that the circuit opened elsewhere logs and counts the change, as a
    # call through the breaker would.
    if breaker.state.name != pybreaker.STATE_OPEN:
        return 0.0
    opened_at = _storages[name].opened_at
    if opened_at is None:
        return 0.0
    elapsed = (datetime.now(UTC) - opened_at).total_seconds()
    return max(0.0, breaker.reset_timeout - elapsed)


def trial_due(name: str) -> bool:
    """True when the next call to ``name`` would be the breaker's trial (half-open)."""
    breaker = get_breaker(name)
    state = breaker.current_state
    return state == pybreaker.STATE_HALF_OPEN or (
        state == pybreaker.STATE_OPEN and seconds_open(name) == 0.0
    )


def reset_breakers() -> None:
    """Forget all breakers (after fork, and between tests)."""
    _breakers.clear()
    _storages.clear()
