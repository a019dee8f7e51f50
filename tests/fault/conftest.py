"""Two real systems to break, one per kind of fault, shared by the tests of this package.

- The *outage* rig: two gunicorn workers per service; mini_billing, mini_user
  and mini_notif are reached only through fault proxies (pass-through unless a
  test says otherwise). Dependencies go down, slow, hang or crash here.
- The *load* rig: three workers per service, a proxy in front of mini_billing,
  a short retry window (so reconcile can cancel abandoned orders within a
  test), and Redis for the caches and breakers when it answers (through a
  proxy too, so that it can fail for this system alone). Concurrency, shared
  breakers and worker crashes happen here.

Every test gets its rig back healthy: processes continued, stopped services
started, proxies passing through and, when a breaker opened, every worker's
breakers closed again (see Rig.settle).

The PostgreSQL databases (when TEST_POSTGRES_URL is set) are named after this
run's pid and dropped at the end, and the Redis database is picked by pid, so
that runs on one machine at the same time do not share state.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

import manage_all
from mini_common.breakers import RESET_TIMEOUT_JITTER
from tests.fault.helpers import ONE_ITEM, DirectOrders, Freezer, log_count, log_offset
from tests.fault.proxy import LOOPBACK, FaultProxy
from tests.support import BENCH_ENDPOINTS, Api, User, drop_databases, register_user

READ_TIMEOUT = 1.0
CONNECT_TIMEOUT = 0.5
BREAKER_FAIL_MAX = 3
BREAKER_RESET_TIMEOUT = 2.0
REQUEST_BUDGET = 5.0
LOAD_RETRY_WINDOW = 10
# Redis keeps a breaker's opening time in whole seconds: a longer reset gives
# the shared-breaker test room to show the open state to every worker.
LOAD_RESET_TIMEOUT = 4.0
# What mini_common's breaker listener logs when a breaker opens.
BREAKER_OPENED = ('"logger": "mini_common.breaker"', " -> open")
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{8 + os.getpid() % 8}")

COMMON_ENV = {
    # Many logins and registrations in a short time.
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "MINI_GATEWAY_AUTH_CACHE_TTL": "1s",
    "LOGIN_THROTTLE_RATE": "10000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "10000/min",
    # Small timeouts, so that a hanging dependency costs seconds, not minutes.
    "MINI_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    "MINI_READ_TIMEOUT": str(READ_TIMEOUT),
    "MINI_BREAKER_FAIL_MAX": str(BREAKER_FAIL_MAX),
    "MINI_BREAKER_RESET_TIMEOUT": str(BREAKER_RESET_TIMEOUT),
    "MINI_REQUEST_BUDGET": str(REQUEST_BUDGET),
    # reconcile takes up NEW orders at once (the tests call it when the requests are over).
    "ORDER_RECONCILE_MIN_AGE": "0",
    # A fresh contact copy lasts 1 s: a mini_user outage a moment later uses the stale copy.
    "PROFILE_CACHE_TTL": "1",
    # test_billing_faults calls bench's ping/hops through an outage.
    **BENCH_ENDPOINTS,
}


class Rig:
    """A running system, its proxies and the faults a test put in."""

    def __init__(
        self,
        system,
        proxies: dict[str, FaultProxy],
        workers: int,
        *,
        reset_timeout: float = BREAKER_RESET_TIMEOUT,
        redis_url: str | None = None,
        database_urls: dict[str, str] | None = None,
    ):
        self.system = system
        self.reset_timeout = reset_timeout
        self.proxies = proxies
        self.workers = workers
        self.redis_url = redis_url
        self.redis_problem = None if redis_url else "this system runs without Redis"
        self.database_urls = database_urls
        self.gateway = Api(system.gateway_url)
        self.direct = DirectOrders(system)
        self.freezer = Freezer()
        self.healed_at = time.monotonic()
        self._log_offsets: dict[str, int] = {}

    def user(self, balance=0) -> User:
        return register_user(self.gateway, balance=balance, prefix="f")

    def heal(self) -> None:
        """Undo every fault: proxies pass through, processes continue, services run again."""
        for proxy in self.proxies.values():
            proxy.release()
        self.freezer.cont()
        stopped = [name for name in self.system.services if not self.system.is_running(name)]
        for name in stopped:
            self.system.start_service(name)
        self.system.wait_ready(timeout=60)
        self.healed_at = time.monotonic()

    def settle(self) -> None:
        """Close every breaker the last fault may have left open, in every worker.

        A worker's breaker closes only when a call of that worker probes it
        after the reset timeout, and a worker sees only the requests it takes.
        So: wait out the reset timeout, then make each worker of mini_auth and
        mini_order do one whole successful call chain at the same time. With
        mini_billing's answers held until as many calls as there are workers
        wait for one, no worker can have taken two (sync workers take one
        request at a time), so every worker has probed billing, and then user
        and notif, successfully.
        """
        if not self._breaker_opened():
            return
        longest_reset = self.reset_timeout * (1 + RESET_TIMEOUT_JITTER)  # per-process jitter
        remaining = longest_reset + 0.5 - (time.monotonic() - self.healed_at)
        if remaining > 0:
            time.sleep(remaining)
        proxy = self.proxies["billing"]
        users: list[User] = []
        self.all_workers_at_once(
            proxy, lambda: users.append(register_user(self.gateway, balance=10, prefix="prime"))
        )

        def order():
            response = users.pop().order(ONE_ITEM)
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "PAID", response.text

        self.all_workers_at_once(proxy, order)

    def _breaker_opened(self) -> bool:
        """Whether any service logged a breaker opening since the last look."""
        opened = False
        for name in self.system.services:
            log = self.system.log_file(name)
            offset = self._log_offsets.get(name, 0)
            opened |= log_count(log, *BREAKER_OPENED, offset=offset) > 0
            self._log_offsets[name] = log_offset(log)
        return opened

    def all_workers_at_once(self, proxy: FaultProxy, call) -> None:
        """Run call() in one thread per worker, all of them inside a billing call at once.

        Billing's answers are held until `workers` of them are waiting: then
        each thread's request is being handled by a different worker.
        """
        errors: list[BaseException] = []

        def run():
            try:
                call()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        proxy.hold()
        threads = [threading.Thread(target=run) for _ in range(self.workers)]
        try:
            for thread in threads:
                thread.start()
            held = proxy.wait_held(self.workers, timeout=15)
        finally:
            proxy.release()
            for thread in threads:
                thread.join(30)
        assert held, f"priming the breakers: not every worker called billing ({proxy})"
        assert not errors, f"priming the breakers failed: {errors[0]!r}"

    def close(self) -> None:
        try:
            self.freezer.cont()
            self.system.stop()
        finally:
            for proxy in self.proxies.values():
                proxy.close()
        drop_databases(self.database_urls)


def _database_urls(prefix: str) -> dict[str, str] | None:
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        return None
    return manage_all.service_database_urls(server, manage_all.SERVICES, prefix=prefix)


def start_rig(tmp_path_factory, name: str, **options) -> Rig:
    """A started rig (see _start_rig); tried again when another process took one of its ports.

    The ports are free when picked, but any process (an outgoing connection
    too) may take one before the service binds it.
    """
    for attempt in range(3):
        try:
            return _start_rig(tmp_path_factory, name, **options)
        except manage_all.ManageError as error:
            clash = "Address already in use" in str(error) or "is taken by" in str(error)
            if not clash or attempt == 2:
                raise
            print(f"rig {name}: a port was taken meanwhile, starting again on others")
    raise AssertionError("unreachable")


def _start_rig(
    tmp_path_factory,
    name: str,
    *,
    proxied: Iterable[str],
    workers: int,
    env: dict[str, str] | None = None,
    reset_timeout: float = BREAKER_RESET_TIMEOUT,
    redis: str | None = None,
) -> Rig:
    """A started system whose `proxied` services (and Redis, if given) sit behind proxies."""
    # The proxies listen before the services' ports are picked, so none of those is theirs.
    proxies = {svc: FaultProxy(0, name=f"{name}:{svc}") for svc in proxied}
    ports = manage_all.free_ports()
    for svc, proxy in proxies.items():
        proxy.upstream = (LOOPBACK, ports[svc])
        proxy.start()
    service_urls = {f"MINI_{svc.upper()}_URL": proxy.url for svc, proxy in proxies.items()}
    redis_url = None
    if redis:
        parts = urlsplit(redis)
        proxies["redis"] = FaultProxy(
            parts.port or 6379, upstream_host=parts.hostname or LOOPBACK, name=f"{name}:redis"
        ).start()
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        netloc += f"{LOOPBACK}:{proxies['redis'].port}"
        redis_url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    database_urls = _database_urls(f"fault_{os.getpid()}_{name}_")
    system = manage_all.System(
        tmp_path_factory.mktemp(f"fault-{name}"),
        ports=ports,
        database_urls=database_urls,
        redis_url=redis_url,
        env={
            **COMMON_ENV,
            "GUNICORN_WORKERS": str(workers),
            "MINI_BREAKER_RESET_TIMEOUT": str(reset_timeout),
            **(env or {}),
            **service_urls,
        },
    )
    try:
        system.start(fresh_databases=True)
    except BaseException:
        for proxy in proxies.values():
            proxy.close()
        drop_databases(database_urls)
        raise
    return Rig(
        system,
        proxies,
        workers,
        reset_timeout=reset_timeout,
        redis_url=redis_url,
        database_urls=database_urls,
    )


def redis_problem(url: str) -> str | None:
    """None when Redis answers at url (its mini:* keys cleared), else why not."""
    try:
        import redis
    except ImportError as error:
        return f"redis client not installed: {error}"
    try:
        connection = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        connection.ping()
        for key in connection.scan_iter("mini:*"):
            connection.delete(key)
        connection.close()
    except redis.RedisError as error:
        return f"Redis does not answer at {url}: {error}"
    return None


@pytest.fixture(scope="package")
def outage_rig(tmp_path_factory):
    rig = start_rig(tmp_path_factory, "outage", proxied=("billing", "user", "notif"), workers=2)
    try:
        yield rig
    finally:
        rig.close()


@pytest.fixture(scope="package")
def load_rig(tmp_path_factory):
    problem = redis_problem(REDIS_URL)
    rig = start_rig(
        tmp_path_factory,
        "load",
        proxied=("billing",),
        workers=3,
        env={"ORDER_RETRY_WINDOW": str(LOAD_RETRY_WINDOW)},
        reset_timeout=LOAD_RESET_TIMEOUT,
        redis=None if problem else REDIS_URL,
    )
    if problem:
        rig.redis_problem = problem
    try:
        yield rig
    finally:
        rig.close()
        if not problem:
            redis_problem(REDIS_URL)  # leave no breaker state behind


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.fault_test_failed = True
    return report


def _use(rig: Rig, request):
    rig.settle()
    yield rig
    rig.heal()
    if getattr(request.node, "fault_test_failed", False):
        # Finish what the failed test left half-way, so the next test's audit is its own.
        try:
            manage_all.reconcile_system(rig.system)
        except Exception as error:  # noqa: BLE001 - the failure is reported already
            print(f"reconcile after the failed test: {error}")


@pytest.fixture
def outage(outage_rig, request) -> Iterator[Rig]:
    yield from _use(outage_rig, request)


@pytest.fixture
def load(load_rig, request) -> Iterator[Rig]:
    yield from _use(load_rig, request)
