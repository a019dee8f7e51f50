from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from mini_common.errors import IdempotencyKeyReused, RequestInProgress
from mini_common.idempotency import Claim, claim_row, payload_fingerprint
from mini_common.models import IdempotencyRecord
from mini_common.testing import migrated_to, migrations_restored  # noqa: F401 (fixture)
from tests.urls import CALLS

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


# --- claim_row, the primitive under @idempotent and the services' own rows -------------


def claim(scope: dict, *, fingerprint="f", finished=False):
    """claim_row over IdempotencyRecord, as a service's own row would use it."""
    record = IdempotencyRecord
    return claim_row(
        create=lambda lease: record.objects.create(
            **scope, fingerprint=fingerprint, state="PROCESSING", locked_until=lease
        ),
        find=lambda: record.objects.filter(**scope).first(),
        same_request=lambda row: row.fingerprint == fingerprint,
        finished=lambda row: finished,
    )


SCOPE = {"username": "alice", "method": "POST", "path": "/charge", "key": "k-9"}


@pytest.mark.django_db(transaction=True)
def test_claim_is_one_insert_outside_a_transaction():
    # Autocommit: no BEGIN/COMMIT around the INSERT, whose unique constraint decides.
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql.split()[0], connection.get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert claim(SCOPE).claim == Claim.CREATED
    assert statements == [("INSERT", True)]
    with pytest.raises(RequestInProgress):
        claim(SCOPE)
    assert IdempotencyRecord.objects.count() == 1


def test_claim_inside_a_transaction_keeps_it_usable():
    # Inside a caller's transaction, the conflicting INSERT gets a savepoint.
    claim(SCOPE)
    with pytest.raises(RequestInProgress):
        claim(SCOPE)
    assert IdempotencyRecord.objects.filter(key="k-9").count() == 1


def test_a_finished_row_is_final_and_a_replay():
    claim(SCOPE)
    again = claim(SCOPE, finished=True)
    assert (again.claim, again.replayed) == (Claim.FINAL, True)


def test_another_request_under_the_key_is_reused_even_when_finished():
    claim(SCOPE)
    with pytest.raises(IdempotencyKeyReused):
        claim(SCOPE, fingerprint="other", finished=True)


def test_an_expired_lease_is_taken_over_once():
    first = claim(SCOPE)
    IdempotencyRecord.objects.filter(pk=first.row.pk).update(locked_until=timezone.now())
    resumed = claim(SCOPE)
    assert (resumed.claim, resumed.replayed) == (Claim.RESUMED, False)
    assert resumed.row.locked_until > timezone.now()  # the lease is the resumer's now
    with pytest.raises(RequestInProgress):
        claim(SCOPE)


def test_a_takeover_loses_to_one_that_came_first():
    first = claim(SCOPE)
    expired = timezone.now() - timedelta(seconds=1)
    IdempotencyRecord.objects.filter(pk=first.row.pk).update(locked_until=expired)
    stale = IdempotencyRecord.objects.get(pk=first.row.pk)
    # Another retry takes it over between our read and our UPDATE.
    IdempotencyRecord.objects.filter(pk=first.row.pk).update(
        locked_until=timezone.now() + timedelta(seconds=30)
    )
    with pytest.raises(RequestInProgress):
        claim_row(
            create=lambda lease: IdempotencyRecord.objects.create(
                **SCOPE, fingerprint="f", state="PROCESSING", locked_until=lease
            ),
            find=lambda: stale,
            same_request=lambda row: True,
            finished=lambda row: False,
        )


def test_a_conflict_that_is_not_the_keys_is_an_error():
    claim(SCOPE)
    with pytest.raises(IntegrityError):
        claim_row(
            create=lambda lease: IdempotencyRecord.objects.create(
                **SCOPE, fingerprint="f", state="PROCESSING", locked_until=lease
            ),
            find=lambda: None,
            same_request=lambda row: True,
            finished=lambda row: False,
        )


# --- @idempotent(one_transaction=True): the claim, the work and the answer commit together


def post_once(client, outcome="ok", key="k-1"):
    body = {**BODY, "outcome": outcome}
    return client.post("/charge-in-one-transaction", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def work_rows() -> list[str]:
    return list(IdempotencyRecord.objects.filter(path="work").values_list("key", flat=True))


def test_one_transaction_commits_the_work_with_its_answer_and_replays_it(alice):
    first, again = post_once(alice), post_once(alice)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() == {"n": 1}
    assert again["Idempotent-Replayed"] == "true"
    assert len(CALLS) == 1  # the replay ran nothing
    assert work_rows() == ["charge-1"]


def test_one_transaction_business_failure_is_stored_with_its_work(alice):
    first, again = post_once(alice, "poor"), post_once(alice, "poor")
    assert (first.status_code, again.status_code) == (402, 402)
    assert again["Idempotent-Replayed"] == "true"
    assert work_rows() == ["charge-1"]


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


def test_one_transaction_key_held_by_a_running_request_is_409_without_work(alice):
    hold_key("/charge-in-one-transaction", payload_fingerprint({**BODY, "outcome": "ok"}))
    assert post_once(alice).status_code == 409
    assert (CALLS, work_rows()) == ([], [])


def test_one_transaction_another_body_is_422(alice):
    post_once(alice)
    response = alice.post(
        "/charge-in-one-transaction",
        {**BODY, "amount": "11"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db(transaction=True)
def test_one_transaction_is_one_transaction(alice):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql.split()[0].upper(), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert post_once(alice).status_code == 201
    # The claim, the work (in its savepoint) and the answer; nothing in autocommit.
    # (SQLite's backend sends its BEGIN as a statement; psycopg2 sends it by itself.)
    data = [s for s in statements if s[0] not in ("BEGIN", "SAVEPOINT", "RELEASE")]
    assert data == [("INSERT", True), ("INSERT", True), ("UPDATE", True)]


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
