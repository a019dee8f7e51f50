"""The one way services talk to each other: ``service_client(name).get/post(...)``.

Every call gets connect and read timeouts bounded by what is left of the
incoming request's time budget, the identity and tracing headers, and goes
through the target's circuit breaker. Calls that are safe to repeat (GET, or a
POST with an Idempotency-Key) are retried on connection errors, timeouts and
502/503/504 with capped exponential backoff and full jitter. Any failure that
remains surfaces as ``DependencyUnavailable`` (503 to the client). A 4xx
answer is returned to the caller: it is an answer, not a failure.

Observability: each call is one span (``<target> <METHOD> <path>``) whose
children are requests' CLIENT span per attempt; the W3C ``traceparent`` sent
is that of the active span (or, without tracing, a child of the request's
context). Every attempt writes one log line (target, attempt, breaker state,
status, duration); the metrics count calls by target and outcome, retries,
and the breaker's state.

The breaker's trial call, once its reset timeout has passed, is a ``GET
/healthz`` with the short ``BREAKER_PROBE_TIMEOUT``, not the caller's request:
a target that still hangs then holds that request for a quarter of a second
instead of the whole read timeout, and only a target that answers gets real
requests again.
"""

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import pybreaker
import requests
from opentelemetry import propagate, trace
from requests.adapters import HTTPAdapter

from mini_common import metrics
from mini_common.breakers import get_breaker, trial_due
from mini_common.conf import mini_setting
from mini_common.context import current_context, new_request_id
from mini_common.errors import DependencyUnavailable
from mini_common.tracing import current_ids, tracer

logger = logging.getLogger("mini_common.client")

RETRYABLE_STATUSES = frozenset({502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Every service answers it without touching its database (mini_common.health).
HEALTH_PATH = "/healthz"
# Never start an attempt with less time than this left in the budget.
MIN_ATTEMPT_SECONDS = 0.05


@dataclass(frozen=True)
class ServiceResponse:
    status: int
    data: Any
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class UpstreamFailure(Exception):
    """One failed attempt (connection error, timeout, 5xx); counts against the breaker."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def _retry_after_seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: ignore and use our own backoff


class BreakerMetricsListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state):
        metrics.breaker_state_observed(cb.name, getattr(new_state, "name", new_state))


class ServiceClient:
    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        # Services talk to each other directly: no proxy variables, no ~/.netrc,
        # and none of the per-request environment look-ups they cost.
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=10, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.breaker = get_breaker(name)
        if not any(isinstance(x, BreakerMetricsListener) for x in self.breaker.listeners):
            self.breaker.add_listener(BreakerMetricsListener())
        metrics.breaker_state_observed(name, self.breaker.current_state)

    def get(self, path: str, *, params: dict | None = None, username: str = "") -> ServiceResponse:
        return self.request("GET", path, params=params, username=username)

    def post(
        self,
        path: str,
        *,
        json: Any,
        username: str = "",
        idempotency_key: str | None = None,
    ) -> ServiceResponse:
        return self.request(
            "POST", path, json=json, username=username, idempotency_key=idempotency_key
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        username: str = "",
        idempotency_key: str | None = None,
    ) -> ServiceResponse:
        started = time.perf_counter()
        outcome = ["unavailable"]  # set by _attempts on the way out
        with tracer().start_as_current_span(
            f"{self.name} {method} {path}",
            attributes={"mini.target": self.name, "http.request.method": method},
        ) as span:
            try:
                response = self._attempts(
                    method,
                    path,
                    json=json,
                    params=params,
                    username=username,
                    idempotency_key=idempotency_key,
                    outcome=outcome,
                )
                outcome[0] = "ok" if response.ok else "client_error"
                span.set_attribute("http.response.status_code", response.status)
                return response
            finally:
                span.set_attribute("mini.outcome", outcome[0])
                metrics.call_observed(self.name, outcome[0], time.perf_counter() - started)

    def _attempts(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: dict | None,
        username: str,
        idempotency_key: str | None,
        outcome: list[str],
    ) -> ServiceResponse:
        safe_to_repeat = method in SAFE_METHODS or bool(idempotency_key)
        max_attempts = mini_setting("RETRY_ATTEMPTS") if safe_to_repeat else 1
        headers = self._headers(username, idempotency_key)
        url = self.base_url + path
        span = trace.get_current_span()
        if trial_due(self.name):
            self._probe(headers, outcome)
        for attempt in range(1, max_attempts + 1):
            span.set_attribute("mini.attempts", attempt)
            timeout = self._attempt_timeout()
            try:
                return self.breaker.call(
                    self._send,
                    method,
                    url,
                    attempt,
                    json=json,
                    params=params,
                    headers=headers,
                    timeout=timeout,
                )
            except pybreaker.CircuitBreakerError as exc:
                outcome[0] = "circuit_open"
                raise self._unavailable(f"circuit open: {exc}") from exc
            except UpstreamFailure as exc:
                delay = self._backoff(attempt, exc.retry_after)
                if not exc.retryable or attempt == max_attempts or not self._time_left(delay):
                    raise self._unavailable(str(exc)) from exc
                metrics.retry_observed(self.name)
                logger.info(
                    "retrying %s %s in %.3fs after: %s",
                    method,
                    url,
                    delay,
                    exc,
                    extra={"target": self.name, "attempt": attempt},
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _probe(self, headers: dict[str, str], outcome: list[str]) -> None:
        """The breaker's trial: a cheap GET /healthz that closes the circuit, or opens it again."""
        timeout = mini_setting("BREAKER_PROBE_TIMEOUT")
        try:
            self.breaker.call(
                self._send, "GET", self.base_url + HEALTH_PATH, 0, headers=headers, timeout=timeout
            )
        except (pybreaker.CircuitBreakerError, UpstreamFailure) as exc:
            outcome[0] = "circuit_open"
            raise self._unavailable(f"circuit open, trial failed: {exc}") from exc

    def _send(
        self, method, url, attempt, *, headers, timeout, json=None, params=None
    ) -> ServiceResponse:
        started = time.monotonic()
        status, failure = 0, ""
        # Prepared here, not by Session.request: a call carries exactly its own
        # headers, with no session cookies, defaults or environment merged into
        # it (that merging was 5 % of mini_order's CPU), and no redirect is followed.
        prepared = requests.Request(
            method, url, headers=headers, json=json, params=params
        ).prepare()
        try:
            response = self.session.send(prepared, timeout=timeout, allow_redirects=False)
            status = response.status_code
        except requests.Timeout as exc:
            failure = "timeout"
            raise UpstreamFailure(f"timeout calling {self.name}: {exc}", retryable=True) from exc
        except requests.ConnectionError as exc:
            failure = "connection_error"
            raise UpstreamFailure(f"cannot reach {self.name}: {exc}", retryable=True) from exc
        finally:
            self._log_attempt(method, url, attempt, started, status, failure)
        if response.status_code >= 500:
            raise UpstreamFailure(
                f"{self.name} answered {response.status_code}",
                retryable=response.status_code in RETRYABLE_STATUSES,
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        return ServiceResponse(
            response.status_code, _json_or_none(response), dict(response.headers)
        )

    def _headers(self, username: str, idempotency_key: str | None) -> dict[str, str]:
        context = current_context()
        headers = {
            "Accept": "application/json",
            "User-Agent": f"mini-client/{mini_setting('SERVICE_NAME')}",
            "X-Internal-Token": mini_setting("INTERNAL_TOKEN"),
            "X-Service": mini_setting("SERVICE_NAME"),
            "X-Request-ID": context.request_id if context else new_request_id(),
        }
        if current_ids() is not None:
            propagate.inject(headers)  # the active span; requests' own span replaces it
        elif context:
            headers["traceparent"] = context.child_traceparent()
        if username:
            headers["X-Username"] = username
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _attempt_timeout(self) -> tuple[float, float]:
        connect, read = mini_setting("CONNECT_TIMEOUT"), mini_setting("READ_TIMEOUT")
        context = current_context()
        remaining = context.remaining() if context else None
        if remaining is not None:
            if remaining < MIN_ATTEMPT_SECONDS:
                raise self._unavailable("the request's time budget is spent")
            connect, read = min(connect, remaining), min(read, remaining)
        return connect, read

    def _time_left(self, delay: float) -> bool:
        context = current_context()
        remaining = context.remaining() if context else None
        return remaining is None or remaining - delay >= MIN_ATTEMPT_SECONDS

    @staticmethod
    def _backoff(attempt: int, retry_after: float | None) -> float:
        base, cap = mini_setting("RETRY_BACKOFF_BASE"), mini_setting("RETRY_BACKOFF_CAP")
        delay = random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # full jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, cap))
        return delay

    def _unavailable(self, reason: str) -> DependencyUnavailable:
        logger.warning("%s unavailable: %s", self.name, reason, extra={"target": self.name})
        return DependencyUnavailable(self.name, retry_after=self._retry_after())

    def _retry_after(self) -> int:
        return max(1, round(mini_setting("BREAKER_RESET_TIMEOUT") / 2))

    def _log_attempt(
        self, method: str, url: str, attempt: int, started: float, status: int, failure: str
    ) -> None:
        logger.info(
            "call %s %s %s attempt %d: %s",
            self.name,
            method,
            url,
            attempt,
            status or failure,
            extra={
                "target": self.name,
                "attempt": attempt,
                "breaker_state": self.breaker.current_state,
                "method": method,
                "url": url,
                "status": status,
                "failure": failure,
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            },
        )


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


_clients: dict[str, ServiceClient] = {}


def service_client(name: str) -> ServiceClient:
    """The process-wide client of one downstream service (``"billing"``, ``"user"``, ...)."""
    client = _clients.get(name)
    if client is None:
        services = mini_setting("SERVICES")
        if name not in services:
            raise KeyError(f"no URL configured for service {name!r} in MINI_COMMON['SERVICES']")
        client = _clients[name] = ServiceClient(name, services[name])
    return client


def reset_clients() -> None:
    """Drop pooled sessions (after fork, and between tests)."""
    for client in _clients.values():
        client.session.close()
    _clients.clear()
