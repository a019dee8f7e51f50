"""Deposits and withdrawals on one's own account, and the balance under concurrency."""

from concurrent.futures import ThreadPoolExecutor

from tests.support import assert_problem


def operate(user, type_, amount, **extra):
    return user.api.post("/billing/account/operate", {"type": type_, "amount": amount, **extra})


def test_deposit_and_withdrawal_move_the_balance(bob):
    deposit = operate(bob, "deposit", "100.25")
    assert deposit.status_code == 200, deposit.text
    assert deposit.json()["balance"] == 100.25
    withdrawal = operate(bob, "WITHDRAWAL", 40)
    assert withdrawal.status_code == 200, withdrawal.text
    assert withdrawal.json()["type"] == "WITHDRAWAL"
    assert bob.balance() == 60.25


def test_withdrawal_above_balance_is_402_and_changes_nothing(bob):
    operate(bob, "DEPOSIT", 10)
    assert_problem(operate(bob, "WITHDRAWAL", "10.01"), 402, "insufficient_funds")
    assert bob.balance() == 10


def test_full_account_lists_operations_newest_first(bob):
    operate(bob, "DEPOSIT", 5)
    operate(bob, "DEPOSIT", 7)
    full = bob.api.get("/billing/account/full")
    assert full.status_code == 200, full.text
    assert [op["amount"] for op in full.json()["operations"]] == [7, 5]
    page = bob.api.get("/billing/account/operations", params={"pageSize": 1})
    assert page.json()["count"] == 2 and len(page.json()["results"]) == 1


def test_concurrent_withdrawals_never_overdraw(bob):
    operate(bob, "DEPOSIT", 50)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: operate(bob, "WITHDRAWAL", 10).status_code, range(12)))
    assert results.count(200) == 5
    assert results.count(402) == 7
    assert bob.balance() == 0
