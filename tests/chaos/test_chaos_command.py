"""`manage_all.py chaos` on a live system: each fault as the gateway's clients see it, and the heal.

mini_billing is the service under fault: mini_order calls it for every order.
The last test stops the system (`down`).
"""

import time
import uuid

from tests.chaos.conftest import BREAKERS_RESET, READ_TIMEOUT, REQUEST_BUDGET
from tests.fault.helpers import is_alive
from tests.support import assert_problem
from tools.manage_all import faultstate

ONE_ITEM = [{"productId": 1, "price": 10, "quantity": 1}]


def new_key() -> str:
    return str(uuid.uuid4())


def chaos_on(manage, *args: str) -> str:
    result = manage("chaos", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def chaos_off(manage) -> str:
    result = manage("chaos", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def status(manage) -> str:
    result = manage("status")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def billing_payments(user, order_id: int) -> list[dict]:
    response = user.api.get("/billing/account/operations", params={"orderId": order_id})
    assert response.status_code == 200, response.text
    return [op for op in response.json()["results"] if op["type"] == "PAYMENT"]


def assert_retry_later(response) -> dict:
    problem = assert_problem(response, 503, "dependency_unavailable")
    assert int(response.headers["Retry-After"]) >= 1, response.headers
    return problem


def assert_paid(response, order_id: int) -> None:
    assert response.status_code == 201, response.text
    assert (response.json()["id"], response.json()["status"]) == (order_id, "PAID")


def test_down_refuses_billing_until_off_and_the_same_key_then_pays(system, manage, user):
    said = chaos_on(manage, "billing", "--down")
    assert said.startswith("mini_billing: down: connections refused\n"), said
    assert "mini_billing  down: connections refused; since " in status(manage)

    key = new_key()
    order_id = assert_retry_later(user.order(ONE_ITEM, key=key))["orderId"]
    # The gateway reaches billing at the same address: its own route fails too.
    assert user.api.get("/billing/account/balance").status_code == 502

    said = chaos_off(manage)
    assert said.startswith("mini_billing: fault removed (fault proxy pid "), said
    assert "faults: none" in status(manage)
    time.sleep(BREAKERS_RESET)  # the worker that answered may have opened its breaker
    assert_paid(user.order(ONE_ITEM, key=key), order_id)
    assert len(billing_payments(user, order_id)) == 1


def test_hang_answers_503_within_the_budget_and_opens_the_breaker(system, manage, user):
    chaos_on(manage, "billing", "--hang")
    key = new_key()
    started = time.monotonic()
    response = user.order(ONE_ITEM, key=key)
    elapsed = time.monotonic() - started
    order_id = assert_retry_later(response)["orderId"]
    assert READ_TIMEOUT <= elapsed < REQUEST_BUDGET, elapsed  # waited for billing, within budget
    shown = status(manage)
    assert "mini_billing  hang: connections accepted, never answered; since " in shown
    assert "  mini_order -> billing   open\n" in shown, shown

    chaos_off(manage)
    time.sleep(BREAKERS_RESET)
    assert_paid(user.order(ONE_ITEM, key=key), order_id)
    # The hung requests never reached billing: the only payment is the one made after the heal.
    assert len(billing_payments(user, order_id)) == 1


def test_delay_makes_the_order_slower_and_it_still_succeeds(system, manage, user):
    # Well under READ_TIMEOUT: billing's own work must fit beside it.
    chaos_on(manage, "billing", "--delay", "300")
    assert "mini_billing  delay: every answer 300 ms late; since " in status(manage)
    started = time.monotonic()
    response = user.order(ONE_ITEM)
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PAID"
    assert elapsed >= 0.3, elapsed


def test_errors_fail_every_call_and_a_change_of_fault_restarts_nothing(system, manage, user):
    chaos_on(manage, "billing", "--delay", "1")
    proxy_pid = faultstate.proxy_pid(system.run_dir, "billing")
    billing_pid = system.pid("billing")

    said = chaos_on(manage, "billing", "--errors", "1.0", "--status", "503")
    assert said == (
        "mini_billing: errors: 100% of requests answered 503 (was delay: every answer 1 ms late)\n"
    )
    assert (faultstate.proxy_pid(system.run_dir, "billing"), system.pid("billing")) == (
        proxy_pid,
        billing_pid,
    )
    key = new_key()
    order_id = assert_retry_later(user.order(ONE_ITEM, key=key))["orderId"]
    # What mini_order got from billing's address: the proxy's answer, not billing's.
    answer = user.api.session.get(system.url("billing") + "/healthz", timeout=5)
    assert_problem(answer, 503, "injected_fault")

    chaos_off(manage)
    time.sleep(BREAKERS_RESET)
    assert_paid(user.order(ONE_ITEM, key=key), order_id)


def test_off_moves_the_service_back_and_leaves_no_process_or_file(system, manage):
    chaos_on(manage, "billing", "--hang")
    proxy_pid = faultstate.proxy_pid(system.run_dir, "billing")
    assert proxy_pid is not None
    assert system.bind_port("billing") != system.ports["billing"]

    said = chaos_off(manage)
    assert said.startswith(f"mini_billing: fault removed (fault proxy pid {proxy_pid} stopped); ")
    assert not is_alive(proxy_pid)
    assert not faultstate.fault_dir(system.run_dir).exists()
    assert system.bind_port("billing") == system.ports["billing"]
    assert system.is_ready("billing")


def test_down_stops_the_fault_proxies_with_the_system(system, manage):
    """Last: it stops this package's system."""
    chaos_on(manage, "notif", "--delay", "100")
    proxy_pid = faultstate.proxy_pid(system.run_dir, "notif")
    assert proxy_pid is not None

    result = manage("down")
    assert result.returncode == 0, result.stderr
    assert f"stopped the fault proxy of mini_notif (pid {proxy_pid})" in result.stdout
    assert not is_alive(proxy_pid)
    assert not faultstate.fault_dir(system.run_dir).exists()
    assert [name for name in system.components if system.is_running(name)] == []
