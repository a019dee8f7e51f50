from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mini_common.errors import RequestInProgress
from mini_common.idempotency import claim_key, payload_fingerprint
from mini_common.models import IdempotencyRecord
from mini_common.testing import migrated_to, migrations_restored  # noqa: F401 (fixture)
from tests.urls import CALLS, CONFLICT

pytestmark = pytest.mark.django_db

BODY = {"amount": "10.50", "kind": "deposit"}


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


@pytest.fixture
def alice(make_user_client):
    return make_user_client("alice")


def post(client, body=BODY, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/charge", body, format="json", **headers)


def test_same_key_same_payload_replays_without_side_effect(alice):
    first, again = post(alice), post(alice)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() == {"n": 1, "amount": 10.5}
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert len(CALLS) == 1


def test_key_order_in_json_does_not_matter(alice):
    post(alice, {"amount": "10.50", "kind": "deposit"})
    assert post(alice, {"kind": "deposit", "amount": "10.50"})["Idempotent-Replayed"] == "true"


def test_same_key_other_payload_is_422(alice):
    post(alice)
    response = post(alice, {**BODY, "amount": "11"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_keys_are_scoped_per_user(alice, make_user_client):
    post(alice)
    assert post(make_user_client("bob")).json()["n"] == 2


def test_a_services_keys_are_not_the_users_own(alice, make_service_client):
    # mini_order pays alice's order under a key it derives; alice sent that key first.
    order = make_service_client("mini_order", username="alice")
    body = {**BODY, "outcome": "poor"}
    assert post(alice, body, key="order-18-payment").status_code == 402
    paid = post(order, key="order-18-payment")
    assert paid.status_code == 201
    assert "Idempotent-Replayed" not in paid
    assert post(order, key="order-18-payment")["Idempotent-Replayed"] == "true"
    assert post(alice, body, key="order-18-payment")["Idempotent-Replayed"] == "true"
    scopes = IdempotencyRecord.objects.filter(key="order-18-payment")
    assert sorted(scopes.values_list("service", "username")) == [
        ("", "alice"),
        ("mini_order", "alice"),
    ]


def test_a_users_key_does_not_reach_a_services_stored_answer(alice, make_service_client):
    order = make_service_client("mini_order", username="alice")
    post(order, key="order-19-payment")
    # Another body: for the service's own scope this would be a 422.
    response = post(alice, {**BODY, "amount": "3"}, key="order-19-payment")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert len(CALLS) == 2


def test_each_service_has_its_own_scope(make_service_client):
    first = post(make_service_client("mini_order", username="alice"))
    other = post(make_service_client("mini_auth", username="alice"))
    assert [r.status_code for r in (first, other)] == [201, 201]
    assert not any("Idempotent-Replayed" in r for r in (first, other))
    assert sorted(IdempotencyRecord.objects.values_list("service", "username")) == [
        ("mini_auth", "alice"),
        ("mini_order", "alice"),
    ]


def test_an_unknown_service_name_is_no_service(alice, make_service_client):
    # X-Service names only the known services; any other is the caller's own scope.
    post(make_service_client("mini_evil", username="alice"))
    assert post(alice)["Idempotent-Replayed"] == "true"


def test_one_transaction_keys_are_scoped_per_service(alice, make_service_client):
    order = make_service_client("mini_order", username="alice")
    assert post_once(alice, key="order-20-payment").status_code == 201
    paid = post_once(order, key="order-20-payment")
    assert "Idempotent-Replayed" not in paid
    assert post_once(order, key="order-20-payment")["Idempotent-Replayed"] == "true"
    assert work_rows() == ["charge-1", "charge-2"]


def test_business_failure_is_stored_and_replayed(alice):
    body = {**BODY, "outcome": "poor"}
    first, again = post(alice, body), post(alice, body)
    assert first.status_code == again.status_code == 402
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/problem+json"
    assert len(CALLS) == 1


def test_validation_failure_stores_nothing(alice):
    assert post(alice, {"amount": "-1", "kind": "deposit"}).status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post(alice).status_code == 201


def test_server_side_failure_lets_a_retry_run_again(alice):
    body = {**BODY, "outcome": "down"}
    assert post(alice, body).status_code == 503
    assert post(alice, body).status_code == 503
    assert len(CALLS) == 2  # not replayed: the retry really ran


def hold_key(path: str, fingerprint: str, *, for_seconds: float = 30) -> None:
    """Alice's key k-1 as a request on ``path`` leaves it while it runs (or after it died)."""
    IdempotencyRecord.objects.create(
        username="alice",
        method="POST",
        path=path,
        key="k-1",
        fingerprint=fingerprint,
        state="PROCESSING",
        locked_until=timezone.now() + timedelta(seconds=for_seconds),
    )


def test_in_flight_key_is_409(alice):
    hold_key("/charge", _fingerprint())
    response = post(alice)
    assert response.status_code == 409
    assert response.json()["code"] == "request_in_progress"


def test_expired_lease_of_a_dead_holder_is_taken_over(alice):
    hold_key("/charge", _fingerprint(), for_seconds=-1)
    assert post(alice).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünicode"])
def test_bad_keys_are_400(alice, key):
    response = alice.post("/charge", BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_purge_removes_only_expired(alice, settings):
    from mini_common.idempotency import purge_expired_keys

    post(alice)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    post(alice, key="k-2")
    assert purge_expired_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-2"]


def _fingerprint():
    from mini_common.idempotency import payload_fingerprint

    return payload_fingerprint(BODY)


@pytest.mark.django_db(transaction=True)
def test_claim_is_one_insert_outside_a_transaction():
    # Autocommit: no BEGIN/COMMIT around the INSERT, whose unique constraint decides.
    scope = {"username": "alice", "method": "POST", "path": "/charge", "key": "k-9"}
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql.split()[0], connection.get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert claim_key(**scope, fingerprint="f") is None
    assert statements == [("INSERT", True)]
    with pytest.raises(RequestInProgress):
        claim_key(**scope, fingerprint="f")
    assert IdempotencyRecord.objects.count() == 1


def test_claim_inside_a_transaction_keeps_it_usable():
    # Inside a caller's transaction, the conflicting INSERT gets a savepoint.
    scope = {"username": "alice", "method": "POST", "path": "/charge", "key": "k-8"}
    claim_key(**scope, fingerprint="f")
    with pytest.raises(RequestInProgress):
        claim_key(**scope, fingerprint="f")
    assert IdempotencyRecord.objects.filter(key="k-8").count() == 1


# --- @idempotent(atomic=True): the work, then the key's claim with its answer, in one
# transaction ------------------------------------------------------------------------------


def post_once(client, outcome="ok", key="k-1"):
    body = {**BODY, "outcome": outcome}
    return client.post("/charge-in-one-transaction", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def work_rows() -> list[str]:
    return list(IdempotencyRecord.objects.filter(path="work").values_list("key", flat=True))


def test_one_transaction_commits_the_work_with_its_answer(alice):
    first, again = post_once(alice), post_once(alice)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() == {"n": 1}
    assert again["Idempotent-Replayed"] == "true"
    # The replay ran the work again (CALLS), which its taken key rolled back.
    assert len(CALLS) == 2
    assert work_rows() == ["charge-1"]
    assert IdempotencyRecord.objects.filter(path="/charge-in-one-transaction").count() == 1


def test_one_transaction_business_failure_is_stored_and_replayed(alice):
    first, again = post_once(alice, "poor"), post_once(alice, "poor")
    assert (first.status_code, again.status_code) == (402, 402)
    assert again["Idempotent-Replayed"] == "true"
    assert work_rows() == ["charge-1"]  # the 402's own row, once


def test_one_transaction_5xx_undoes_the_work_and_frees_the_key(alice):
    assert post_once(alice, "down").status_code == 503
    assert work_rows() == []
    assert not IdempotencyRecord.objects.filter(path="/charge-in-one-transaction").exists()
    assert post_once(alice, "down").status_code == 503
    assert len(CALLS) == 2  # the retry really ran


def test_one_transaction_400_stores_nothing(alice):
    response = alice.post(
        "/charge-in-one-transaction", {"amount": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_a_database_error_inside_reruns_the_request_the_usual_way(alice):
    IdempotencyRecord.objects.create(
        **CONFLICT, fingerprint="-", state="COMPLETED", locked_until=timezone.now()
    )
    response = post_once(alice, "conflict")
    assert response.status_code == 201
    # The first run was rolled back whole; the second handled the conflict in place.
    assert len(CALLS) == 2
    assert work_rows() == ["charge-2"]
    assert post_once(alice, "conflict")["Idempotent-Replayed"] == "true"


def test_a_key_held_by_a_running_request_is_409_as_usual(alice):
    hold_key("/charge-in-one-transaction", payload_fingerprint({**BODY, "outcome": "ok"}))
    assert post_once(alice).status_code == 409
    assert work_rows() == []  # the work ran and was rolled back with the refused claim


@pytest.mark.django_db(transaction=True)
def test_one_transaction_is_one_begin_and_one_commit(alice):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql.split()[0], connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert post_once(alice).status_code == 201
    # The work, then the claim with the answer; no savepoints, no autocommit statement.
    # (SQLite's backend sends its BEGIN as a statement; psycopg2 sends it by itself.)
    assert [s for s in statements if s[0] != "BEGIN"] == [("INSERT", True), ("INSERT", True)]


# --- the migration that put the calling service in the scope -----------------------------


@pytest.mark.usefixtures("migrations_restored")
def test_stored_keys_of_a_service_alone_move_to_its_scope_and_users_keys_stay():
    old = migrated_to("mini_common", "0001_initial").get_model("mini_common", "IdempotencyRecord")
    for owner in ["service:mini_auth", "alice", ""]:
        old.objects.create(
            username=owner,
            method="POST",
            path="/charge",
            key="k-1",
            fingerprint="f",
            state="COMPLETED",
            locked_until=timezone.now(),
        )

    new = migrated_to("mini_common", "0002_idempotency_caller_scope")

    rows = new.get_model("mini_common", "IdempotencyRecord").objects
    assert sorted(rows.values_list("service", "username")) == [
        ("", ""),
        ("", "alice"),
        ("mini_auth", ""),
    ]


@pytest.mark.usefixtures("migrations_restored")
def test_backwards_a_service_alone_gets_its_old_owner_and_its_calls_for_users_go():
    new = migrated_to("mini_common", "0002_idempotency_caller_scope")
    rows = new.get_model("mini_common", "IdempotencyRecord").objects
    for service, owner in [("mini_auth", ""), ("mini_order", "alice"), ("", "alice")]:
        rows.create(
            service=service,
            username=owner,
            method="POST",
            path="/charge",
            key="k-1",
            fingerprint="f",
            state="COMPLETED",
            locked_until=timezone.now(),
        )

    old = migrated_to("mini_common", "0001_initial").get_model("mini_common", "IdempotencyRecord")

    assert sorted(old.objects.values_list("username", flat=True)) == ["alice", "service:mini_auth"]
